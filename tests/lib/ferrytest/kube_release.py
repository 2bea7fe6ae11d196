"""A Knative release "mirrored" for install tests and the install benchmark: for every image a
profile's release files use, a small random image is pushed to a local registry, and an
images.lock maps the upstream reference to it (as `ferry mirror` would), so `ferry install --lock`
rewrites the release to images the emulator's kubelet can pull. `skip` leaves some images out of
the registry (but in the lock): the missing-image case."""

import json
import os
import re
import subprocess

from . import images


def release_images(ferry_bin, profile, manifests_dir):
    """The distinct references the profile's files use, commented examples aside (`ferry images`)."""
    out = subprocess.run([ferry_bin, "images", "--profile", profile, "--manifests-dir", manifests_dir,
                          "--output", "json"], capture_output=True, text=True, check=True).stdout
    seen = []
    for item in json.loads(out):
        if item.get("confidence") != "optional" and item["reference"] not in seen:
            seen.append(item["reference"])
    return seen


def mirror_release(registry, references, lock_path, skip=()):
    """Pushes one image per reference to `registry` under mirror/<flattened name>:v1 (except those
    whose source contains any string in `skip`) and writes the lock. Returns {source: target}."""
    entries, targets = [], {}
    for ref in references:
        name = re.sub(r"[^a-z0-9]+", "-", ref.split("@")[0].split(":v")[0].lower()).strip("-")[-60:]
        repo = f"mirror/{name}"
        image = images.make_image(ref, layers=1, layer_size=256)
        if not any(s in ref for s in skip):
            images.push(registry, repo, "v1", image)
        target = f"{registry.host}/{repo}:v1@{image.digest}"
        entries.append({"source": ref, "target": target, "digest": image.digest,
                        "mediaType": image.media_type, "platforms": ["linux/amd64"], "size": len(image.raw)})
        targets[ref] = target
    os.makedirs(os.path.dirname(lock_path) or ".", exist_ok=True)
    with open(lock_path, "w") as f:
        json.dump({"version": 1, "images": entries}, f, indent=2)
    return targets
