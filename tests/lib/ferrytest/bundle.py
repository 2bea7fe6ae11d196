"""Offline bundles written in Python, following mirror/bundle_format.h exactly (entry order, tar
headers, bundle.json), so `ferry bundle load/inspect/verify` can be tested without `bundle save`;
plus helpers to damage them: truncate, split into parts, add unsafe entries, corrupt a blob."""

import hashlib
import io
import json
import os
import subprocess
import tarfile
from dataclasses import dataclass

from .images import sha256_digest

REF_NAME = "org.opencontainers.image.ref.name"
CONTAINERD_NAME = "io.containerd.image.name"


@dataclass
class Entry:
    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""


def _platform(p):
    return "/".join([p["os"], p["architecture"]] + ([p["variant"]] if p.get("variant") else []))


def _manifests_and_blobs(artifact):
    """([manifest bytes], [config blobs], [layer blobs]) of an Image or Index."""
    children = getattr(artifact, "children", [])
    manifests = [artifact.raw] + [c.raw for c in children]
    images = children or [artifact]
    configs = [i.config for i in images]
    layers = [layer for i in images for layer in i.layers]
    return manifests, configs, layers


def bundle_entries(images, files=(), profile="", format_version=1, bundle_json=None):
    """The entries of a ferry bundle. `images` is [(source, artifact)]; `files` is [(name, bytes)]
    (stored under ferry/manifests/). `bundle_json` replaces the generated bundle.json text."""
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}
    doc_images, small, layers = [], {}, {}
    for source, artifact in sorted(images, key=lambda i: i[0]):
        index["manifests"].append({"mediaType": artifact.media_type, "digest": artifact.digest,
                                   "size": len(artifact.raw),
                                   "annotations": {REF_NAME: source, CONTAINERD_NAME: source}})
        manifests, configs, layer_blobs = _manifests_and_blobs(artifact)
        size, counted = sum(len(m) for m in manifests), set()
        for raw in manifests:
            small[sha256_digest(raw)] = raw
        for b in configs + layer_blobs:
            (small if b in configs else layers)[b.digest] = b.data
            if b.digest not in counted:
                counted.add(b.digest)
                size += b.size
        doc_images.append({"source": source, "digest": artifact.digest, "mediaType": artifact.media_type,
                           "platforms": [_platform(c.platform) for c in getattr(artifact, "children", [])],
                           "size": size})
    doc_files = [{"name": n, "path": f"ferry/manifests/{n}", "sha256": hashlib.sha256(d).hexdigest(),
                  "size": len(d)} for n, d in files]
    doc = {"formatVersion": format_version, "ferryVersion": "test", "profile": profile,
           "images": doc_images, "files": doc_files}
    text = bundle_json if bundle_json is not None else json.dumps(doc, indent=2) + "\n"
    entries = [Entry("oci-layout", b'{"imageLayoutVersion": "1.0.0"}'),
               Entry("index.json", json.dumps(index).encode()),
               Entry("ferry/bundle.json", text.encode())]
    entries += [Entry(f"ferry/manifests/{n}", d) for n, d in files]
    entries += [Entry(f"blobs/sha256/{d[7:]}", small[d]) for d in sorted(small)]
    entries += [Entry(f"blobs/sha256/{d[7:]}", layers[d]) for d in sorted(layers) if d not in small]
    return entries


def write_tar(path, entries, compress=None):
    """Writes `entries` as a deterministic tar; compress is None, "gz" or "zst"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.linkname, info.mtime, info.mode = e.type, e.linkname, 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if e.type == tarfile.REGTYPE:
                info.size = len(e.data)
                tar.addfile(info, io.BytesIO(e.data))
            else:
                tar.addfile(info)
    data = buf.getvalue()
    if compress == "gz":
        import gzip
        data = gzip.compress(data, mtime=0)
    elif compress == "zst":
        data = subprocess.run(["zstd", "-q", "-c"], input=data, capture_output=True, check=True).stdout
    with open(path, "wb") as f:
        f.write(data)
    return path


def write_bundle(path, images, compress=None, **kwargs):
    return write_tar(path, bundle_entries(images, **kwargs), compress)


def corrupt_blob(entries, digest):
    """Flips one byte of the blob entry named by `digest` (its name and size stay)."""
    for e in entries:
        if e.name == f"blobs/sha256/{digest[7:]}":
            e.data = bytes([e.data[0] ^ 0xFF]) + e.data[1:]
            return entries
    raise KeyError(digest)


def truncate(path, size, out=None):
    """Copies the first `size` bytes of `path` to `out` (default: in place)."""
    with open(path, "rb") as f:
        data = f.read(size)
    with open(out or path, "wb") as f:
        f.write(data)
    return out or path


def split(path, part_size):
    """Splits `path` into PATH.000, PATH.001, … (all but the last `part_size` bytes) and removes
    it. Returns the part paths."""
    with open(path, "rb") as f:
        data = f.read()
    parts = []
    for i in range(0, max(len(data), 1), part_size):
        part = f"{path}.{len(parts):03d}"
        with open(part, "wb") as f:
            f.write(data[i:i + part_size])
        parts.append(part)
    os.remove(path)
    return parts


def layer_offset(path, digest):
    """Byte offset of the data of blob `digest` in an uncompressed tar at `path`."""
    with tarfile.open(path) as tar:
        for info in tar:
            if info.name == f"blobs/sha256/{digest[7:]}":
                return info.offset_data
    raise KeyError(digest)
