"""A small stand-in for a Knative release: ten images under real-looking repository names on
gcr.io, docker.io and quay.io, single- and multi-arch, sharing a base layer, all pushed to one local
"upstream" registry under per-registry prefixes. `ferry mirror --source-mirror gcr.io=HOST/gcr ...`
then reads them as if from the real registries."""

from dataclasses import dataclass

from . import images

PREFIX = {"gcr.io": "gcr", "docker.io": "docker", "quay.io": "quay"}


@dataclass
class ReleaseImage:
    source: str        # as a release file names it: gcr.io/knative-releases/...:tag
    upstream_repo: str  # where it sits in the local upstream registry
    tag: str
    artifact: object   # images.Image or images.Index


def knative_like_release(upstream, layer_size=4096):
    """Pushes the ten images to `upstream` (a Registry) and returns them."""
    base = images.make_layer("release-base", layer_size)
    specs = [
        ("gcr.io", "knative-releases/knative.dev/serving/cmd/controller", "v1.23.0", "single"),
        ("gcr.io", "knative-releases/knative.dev/serving/cmd/webhook", "v1.23.0", "single"),
        ("gcr.io", "knative-releases/knative.dev/serving/cmd/activator", "v1.23.0", "single"),
        ("gcr.io", "knative-releases/knative.dev/serving/cmd/autoscaler", "v1.23.0", "single"),
        ("gcr.io", "knative-releases/knative.dev/serving/cmd/queue", "v1.23.0", "index"),
        ("gcr.io", "knative-releases/knative.dev/net-istio/cmd/controller", "v1.23.0", "single"),
        ("gcr.io", "knative-releases/knative.dev/net-istio/cmd/webhook", "v1.23.0", "single"),
        ("docker.io", "istio/proxyv2", "1.1.3", "index"),
        ("docker.io", "istio/pilot", "1.1.3", "docker"),
        ("quay.io", "istio/proxyv2", "1.1.3", "single"),
    ]
    out = []
    for registry, repo, tag, kind in specs:
        seed = f"{registry}/{repo}"
        if kind == "index":
            artifact = images.make_index(seed, layer_size=layer_size)
        else:
            artifact = images.make_image(seed, layers=2, docker=(kind == "docker"), layer_size=layer_size,
                                         base=None if kind == "docker" else base)
        upstream_repo = f"{PREFIX[registry]}/{repo}"
        images.push(upstream, upstream_repo, tag, artifact)
        out.append(ReleaseImage(f"{registry}/{repo}:{tag}", upstream_repo, tag, artifact))
    return out


def source_mirror_flags(upstream):
    flags = []
    for registry, prefix in PREFIX.items():
        flags += ["--source-mirror", f"{registry}={upstream.host}/{prefix}"]
    return flags


def unique_blob_bytes(release):
    seen = {}
    for image in release:
        for blob in image.artifact.blobs():
            seen[blob.digest] = blob.size
    return sum(seen.values())
