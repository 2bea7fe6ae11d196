"""`FakeRegistry`: a programmable, read-only registry (http.server, threaded) for bad sources a real
registry never produces: manifests with chosen bytes, media type and Content-Type, blobs whose bytes
do not match their digest, oversized manifests, schema 1 manifests, unknown media types.
Counts requests per (method, path)."""

import collections
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler

from .util import HttpService

SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws"


def digest_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def schema1_manifest(name, tag):
    """A schema 1 (signed) manifest body. Its digest depends on the JWS, so no copy can keep it."""
    doc = {"schemaVersion": 1, "name": name, "tag": tag, "architecture": "amd64",
           "fsLayers": [{"blobSum": "sha256:" + "a" * 64}],
           "history": [{"v1Compatibility": json.dumps({"id": "b" * 64, "architecture": "amd64"})}],
           "signatures": [{"header": {"jwk": {"crv": "P-256", "kty": "EC", "x": "AA", "y": "AA"},
                                      "alg": "ES256"}, "signature": "AAAA", "protected": "e30"}]}
    return json.dumps(doc, indent=3).encode()


def oversized_manifest(size=5 * 1024 * 1024):
    """A syntactically valid OCI manifest padded with an annotation to `size` bytes (> 4 MiB)."""
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                      "digest": "sha256:" + "c" * 64, "size": 2},
           "layers": [], "annotations": {"padding": ""}}
    base = len(json.dumps(doc).encode())
    doc["annotations"]["padding"] = "x" * (size - base)
    return json.dumps(doc).encode()


class FakeRegistry(HttpService):
    def __init__(self):
        self.manifests = {}  # (repo, ref) -> (body, content_type, digest_header)
        self.blobs = {}      # digest -> body (served from any repository)
        self.counts = collections.Counter()  # (method, path without query) -> n
        self._lock = threading.Lock()

    # --- programming -----------------------------------------------------------------------------
    def add_manifest(self, repo, ref, body, content_type, digest_header=None):
        """Serves `body` at repo:ref and at repo@<its digest> with the given Content-Type."""
        d = digest_header or digest_of(body)
        for r in (ref, digest_of(body)):
            self.manifests[(repo, r)] = (body, content_type, d)
        return digest_of(body)

    def add_blob(self, digest, body):
        """Serves `body` as blob `digest` — nothing checks that they match."""
        self.blobs[digest] = body

    def add_image(self, repo, tag, artifact):
        """Serves an images.Image or images.Index (children, blobs) faithfully."""
        for b in artifact.blobs():
            self.add_blob(b.digest, b.data)
        for child in getattr(artifact, "children", []):
            self.add_manifest(repo, child.digest, child.raw, child.media_type)
        return self.add_manifest(repo, tag, artifact.raw, artifact.media_type)

    def requests_to(self, method, path):
        with self._lock:
            return self.counts[(method, path)]

    # --- serving ---------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _send(self, status, body, headers, head):
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _not_found(self, code, head):
                body = json.dumps({"errors": [{"code": code, "message": "not found"}]}).encode()
                self._send(404, body, {"Content-Type": "application/json"}, head)

            def _serve(self, head):
                path = self.path.split("?", 1)[0]
                with fake._lock:
                    fake.counts[(self.command, path)] += 1
                if path == "/v2/":
                    return self._send(200, b"{}", {"Content-Type": "application/json"}, head)
                if not path.startswith("/v2/"):
                    return self._not_found("NOT_FOUND", head)
                rest = path[4:]
                if "/manifests/" in rest:
                    repo, ref = rest.rsplit("/manifests/", 1)
                    entry = fake.manifests.get((repo, ref))
                    if entry is None:
                        return self._not_found("MANIFEST_UNKNOWN", head)
                    body, ctype, digest = entry
                    return self._send(200, body, {"Content-Type": ctype, "Docker-Content-Digest": digest},
                                      head)
                if "/blobs/" in rest:
                    repo, digest = rest.rsplit("/blobs/", 1)
                    body = fake.blobs.get(digest)
                    if body is None:
                        return self._not_found("BLOB_UNKNOWN", head)
                    return self._send(200, body, {"Content-Type": "application/octet-stream",
                                                  "Docker-Content-Digest": digest}, head)
                return self._not_found("NOT_FOUND", head)

            def do_GET(self):
                self._serve(False)

            def do_HEAD(self):
                self._serve(True)

            def _refuse(self):
                with fake._lock:
                    fake.counts[(self.command, self.path.split("?", 1)[0])] += 1
                self.close_connection = True  # the body (maybe chunked) is left unread
                self._send(405, b'{"errors":[{"code":"UNSUPPORTED"}]}',
                           {"Content-Type": "application/json", "Connection": "close"}, False)

            do_POST = do_PUT = do_PATCH = do_DELETE = _refuse

        return Handler
