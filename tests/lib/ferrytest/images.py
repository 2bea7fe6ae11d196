"""Deterministic test images: real gzip'd tar layers, image configs with correct diff_ids, OCI or
Docker schema2 manifests, and multi-arch indexes/manifest lists sharing a base layer. Images can be
written as OCI layouts (for skopeo) and pushed with a small Python pusher (exact bytes, so every
digest is known in advance). `push_large_image` streams a big random layer without holding it."""

import gzip
import hashlib
import io
import json
import os
import random
import tarfile
from dataclasses import dataclass, field

OCI = {
    "manifest": "application/vnd.oci.image.manifest.v1+json",
    "index": "application/vnd.oci.image.index.v1+json",
    "config": "application/vnd.oci.image.config.v1+json",
    "layer": "application/vnd.oci.image.layer.v1.tar+gzip",
}
DOCKER = {
    "manifest": "application/vnd.docker.distribution.manifest.v2+json",
    "index": "application/vnd.docker.distribution.manifest.list.v2+json",
    "config": "application/vnd.docker.container.image.v1+json",
    "layer": "application/vnd.docker.image.rootfs.diff.tar.gzip",
}


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def canonical_json(doc):
    return json.dumps(doc, indent=3, sort_keys=False).encode()  # any stable bytes will do


@dataclass
class Blob:
    media_type: str
    data: bytes
    diff_id: str = None  # layers only: sha256 of the uncompressed tar

    @property
    def digest(self):
        return sha256_digest(self.data)

    @property
    def size(self):
        return len(self.data)

    def descriptor(self):
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


@dataclass
class Image:
    """One platform's image: manifest bytes exactly as pushed, plus its config and layers."""
    media_type: str
    raw: bytes
    config: Blob
    layers: list
    platform: dict = field(default_factory=lambda: {"architecture": "amd64", "os": "linux"})

    @property
    def digest(self):
        return sha256_digest(self.raw)

    def blobs(self):
        return [self.config] + list(self.layers)

    def descriptor(self):
        return {"mediaType": self.media_type, "digest": self.digest, "size": len(self.raw),
                "platform": self.platform}


@dataclass
class Index:
    """An OCI image index or Docker manifest list over `children` (Images)."""
    media_type: str
    raw: bytes
    children: list

    @property
    def digest(self):
        return sha256_digest(self.raw)

    def blobs(self):
        seen, out = set(), []
        for child in self.children:
            for b in child.blobs():
                if b.digest not in seen:
                    seen.add(b.digest)
                    out.append(b)
        return out


# --- building ---------------------------------------------------------------------------------------
def make_layer(seed, size=2048, docker=False):
    """A valid tar.gz layer holding one file of `size` pseudo-random bytes derived from `seed`."""
    content = random.Random(f"layer-{seed}").randbytes(size)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        d = tarfile.TarInfo("data")
        d.type, d.mode, d.mtime = tarfile.DIRTYPE, 0o755, 0
        tar.addfile(d)
        f = tarfile.TarInfo(f"data/{seed}.bin")
        f.size, f.mode, f.mtime = len(content), 0o644, 0
        tar.addfile(f, io.BytesIO(content))
    tar_bytes = buf.getvalue()
    gz = gzip.compress(tar_bytes, compresslevel=6, mtime=0)
    return Blob((DOCKER if docker else OCI)["layer"], gz, sha256_digest(tar_bytes))


def make_image(seed, layers=2, arch="amd64", docker=False, layer_size=2048, base=None, variant=None):
    """An image with `layers` fresh layers (after the optional shared `base` layer)."""
    types = DOCKER if docker else OCI
    layer_blobs = ([base] if base else []) + [
        make_layer(f"{seed}-{arch}-{i}", layer_size, docker) for i in range(layers)]
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    config_doc = dict(platform, created="2020-01-01T00:00:00Z",
                      config={"Env": [f"FERRY_TEST_SEED={seed}"], "Cmd": ["/bin/true"]},
                      rootfs={"type": "layers", "diff_ids": [b.diff_id for b in layer_blobs]},
                      history=[{"created": "2020-01-01T00:00:00Z", "created_by": f"layer {i}"}
                               for i in range(len(layer_blobs))])
    config = Blob(types["config"], canonical_json(config_doc))
    manifest = {"schemaVersion": 2, "mediaType": types["manifest"], "config": config.descriptor(),
                "layers": [b.descriptor() for b in layer_blobs]}
    return Image(types["manifest"], canonical_json(manifest), config, layer_blobs, platform)


def make_index(seed, archs=("amd64", "arm64"), docker=False, layers=1, layer_size=2048):
    """A multi-arch index (OCI) or manifest list (docker=True); platforms share a base layer."""
    types = DOCKER if docker else OCI
    base = make_layer(f"{seed}-base", layer_size, docker)
    children = [make_image(seed, layers, arch, docker, layer_size, base,
                           variant="v8" if arch == "arm64" else None) for arch in archs]
    doc = {"schemaVersion": 2, "mediaType": types["index"],
           "manifests": [c.descriptor() for c in children]}
    return Index(types["index"], canonical_json(doc), children)


# --- OCI layout -------------------------------------------------------------------------------------
def write_oci_layout(directory, tag, artifact):
    """Adds `artifact` (Image or Index) to the OCI layout in `directory` under `tag`."""
    blobs_dir = os.path.join(directory, "blobs", "sha256")
    os.makedirs(blobs_dir, exist_ok=True)
    with open(os.path.join(directory, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)

    def put(data):
        with open(os.path.join(blobs_dir, sha256_digest(data)[7:]), "wb") as f:
            f.write(data)

    for b in artifact.blobs():
        put(b.data)
    for child in getattr(artifact, "children", []):
        put(child.raw)
    put(artifact.raw)
    index_path = os.path.join(directory, "index.json")
    index = {"schemaVersion": 2, "manifests": []}
    if os.path.exists(index_path):
        with open(index_path) as f:
            index = json.load(f)
    index["manifests"].append({"mediaType": artifact.media_type, "digest": artifact.digest,
                               "size": len(artifact.raw),
                               "annotations": {"org.opencontainers.image.ref.name": tag}})
    with open(index_path, "w") as f:
        json.dump(index, f)
    return directory


def write_dir_layout(directory, artifact):
    """Writes `artifact` in skopeo's `dir:` format (version 1.1). Unlike an OCI layout read by
    skopeo 1.9, this also carries Docker schema2 manifests and manifest lists."""
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, "version"), "w") as f:
        f.write("Directory Transport Version: 1.1\n")
    for b in artifact.blobs():
        with open(os.path.join(directory, b.digest[7:]), "wb") as f:
            f.write(b.data)
    for child in getattr(artifact, "children", []):
        with open(os.path.join(directory, child.digest[7:] + ".manifest.json"), "wb") as f:
            f.write(child.raw)
    with open(os.path.join(directory, "manifest.json"), "wb") as f:
        f.write(artifact.raw)
    return directory


# --- pushing ----------------------------------------------------------------------------------------
def _client(target):
    return target.client() if hasattr(target, "client") else target


def push(target, repo, tag, artifact):
    """Pushes an Image or Index (children by digest first, then the tag). `target` is a Registry or
    a RegistryClient. Returns the manifest digest, checked against what the registry reports."""
    client = _client(target)
    for b in artifact.blobs():
        client.put_blob(repo, b.digest, b.data)
    for child in getattr(artifact, "children", []):
        got = client.put_manifest(repo, child.digest, child.media_type, child.raw)
        assert got == child.digest, (got, child.digest)
    got = client.put_manifest(repo, tag, artifact.media_type, artifact.raw)
    assert got == artifact.digest, (got, artifact.digest)
    return artifact.digest


class RandomStream:
    """A file-like source of `size` deterministic pseudo-random (incompressible) bytes."""

    def __init__(self, size, seed):
        self.left, self._rng = size, random.Random(f"stream-{seed}")

    def read(self, n=-1):
        n = self.left if n is None or n < 0 else min(n, self.left)
        self.left -= n
        return self._rng.randbytes(n)


def push_large_image(target, repo, tag, size, seed="large"):
    """Pushes a single-layer OCI image whose layer is `size` random bytes, streamed (constant
    memory). Registries do not look inside layers, so the layer need not be a tar. Returns the Image
    with `layers` left empty (the big layer is not kept); read its descriptor from `image.raw`."""
    client = _client(target)
    digest = client.put_blob_stream(repo, RandomStream(size, seed), size)
    config_doc = {"architecture": "amd64", "os": "linux",
                  "rootfs": {"type": "layers", "diff_ids": [digest]}}
    config = Blob(OCI["config"], canonical_json(config_doc))
    client.put_blob(repo, config.digest, config.data)
    layer_desc = {"mediaType": OCI["layer"], "digest": digest, "size": size}
    manifest = {"schemaVersion": 2, "mediaType": OCI["manifest"], "config": config.descriptor(),
                "layers": [layer_desc]}
    image = Image(OCI["manifest"], canonical_json(manifest), config, [])
    got = client.put_manifest(repo, tag, image.media_type, image.raw)
    assert got == image.digest, (got, image.digest)
    return image


# --- attachments ------------------------------------------------------------------------------------
COSIGN_LAYER = {"sig": "application/vnd.dev.cosign.simplesigning.v1+json",
                "att": "application/vnd.dsse.envelope.v1+json",
                "sbom": "text/spdx+json"}
EMPTY_CONFIG = "application/vnd.oci.empty.v1+json"


def cosign_tag(subject_digest, suffix):
    """cosign's tag for what it attaches to `subject_digest`: sha256-<hex>.sig / .att / .sbom."""
    return subject_digest.replace(":", "-") + "." + suffix


def make_cosign_artifact(subject, suffix):
    """What `cosign sign` / `attest` / `attach sbom` store under cosign_tag(subject.digest, suffix):
    an OCI manifest whose one layer is the payload naming the subject, with cosign's annotations."""
    payload = canonical_json({"critical": {"identity": {"docker-reference": "ferry.test/app"},
                                           "image": {"docker-manifest-digest": subject.digest},
                                           "type": f"cosign container image {suffix}"},
                              "optional": {"seed": suffix}})
    layer = Blob(COSIGN_LAYER[suffix], payload)
    config = Blob(OCI["config"], canonical_json({"architecture": "", "os": "", "config": {},
                                                 "rootfs": {"type": "layers", "diff_ids": [layer.digest]}}))
    layer_desc = dict(layer.descriptor(), annotations={"dev.cosignproject.cosign/signature": "MEUCIQD" + suffix})
    doc = {"schemaVersion": 2, "mediaType": OCI["manifest"], "config": config.descriptor(), "layers": [layer_desc]}
    return Image(OCI["manifest"], canonical_json(doc), config, [layer], platform=None)


def make_referrer(subject, artifact_type="application/spdx+json", seed="sbom"):
    """An OCI 1.1 referrer of `subject` (an Image or Index): `subject` field, artifactType, empty config."""
    config = Blob(EMPTY_CONFIG, b"{}")
    layer = Blob(artifact_type, canonical_json({"spdxVersion": "SPDX-2.3", "name": seed}))
    doc = {"schemaVersion": 2, "mediaType": OCI["manifest"], "artifactType": artifact_type,
           "config": config.descriptor(), "layers": [layer.descriptor()],
           "subject": {"mediaType": subject.media_type, "digest": subject.digest, "size": len(subject.raw)},
           "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"}}
    return Image(OCI["manifest"], canonical_json(doc), config, [layer], platform=None)


def referrer_descriptor(referrer):
    """How a referrers index lists `referrer`: with its artifactType and annotations."""
    doc = json.loads(referrer.raw)
    d = {"mediaType": referrer.media_type, "digest": referrer.digest, "size": len(referrer.raw)}
    if doc.get("artifactType"):
        d["artifactType"] = doc["artifactType"]
    if doc.get("annotations"):
        d["annotations"] = doc["annotations"]
    return d


def referrers_index(referrers):
    """The OCI 1.1 fallback index (tag sha256-<hex> of the subject) listing `referrers`."""
    return canonical_json({"schemaVersion": 2, "mediaType": OCI["index"],
                           "manifests": [referrer_descriptor(r) for r in referrers]})


@dataclass
class Signed:
    """An image pushed with a signature, an attestation, an SBOM (cosign's tags) and an OCI referrer."""
    image: object
    cosign: dict      # suffix -> Image
    referrer: object  # Image

    def attachment_digests(self):
        return {a.digest for a in self.cosign.values()} | {self.referrer.digest}


def push_signed(target, repo, tag, artifact, referrers_api=False):
    """Pushes `artifact` and what cosign and an OCI 1.1 client would attach to it. Without
    `referrers_api` (docker-registry 2.8) the referrer is also listed under the fallback tag, as
    clients do for registries without the Referrers API."""
    client = _client(target)
    push(client, repo, tag, artifact)
    cosign = {suffix: make_cosign_artifact(artifact, suffix) for suffix in ("sig", "att", "sbom")}
    for suffix, a in cosign.items():
        push(client, repo, cosign_tag(artifact.digest, suffix), a)
    referrer = make_referrer(artifact)
    push(client, repo, referrer.digest, referrer)
    if not referrers_api:
        raw = referrers_index([referrer])
        got = client.put_manifest(repo, artifact.digest.replace(":", "-"), OCI["index"], raw)
        assert got == sha256_digest(raw), (got, sha256_digest(raw))
    return Signed(artifact, cosign, referrer)
