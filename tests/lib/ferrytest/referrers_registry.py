"""`ReferrersRegistry`: an in-memory registry stand-in that speaks the parts of the OCI distribution
spec 1.1 ferry uses, including what docker-registry 2.8 lacks: the Referrers API
(GET /v2/NAME/referrers/DIGEST, an index of the manifests whose `subject` is DIGEST, with their
artifactType and annotations) and the OCI-Subject header on a manifest PUT that names a subject,
which tells a client that it need not keep the sha256-<hex> fallback tag itself.

Plain HTTP, no auth. Blobs are shared by every repository (mounts always succeed when the blob
exists). Uploads: POST (monolithic with ?digest=, or a session), PATCH, PUT ?digest=; the digest is
checked. Counts requests per (method, first path segment after the repository) in `.counts`."""

import collections
import hashlib
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler

from .client import RegistryClient
from .util import HttpService

INDEX = "application/vnd.oci.image.index.v1+json"
_PATH = re.compile(r"^/v2/(?P<name>.+?)/(?P<kind>manifests|blobs|tags|referrers)/(?P<rest>.*)$")


def _digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ReferrersRegistry(HttpService):
    def __init__(self):
        self.blobs = {}       # digest -> bytes
        self.manifests = {}   # digest -> (bytes, media type)
        self.tags = {}        # (repo, tag) -> digest; see repo_tags()
        self.referrers = collections.defaultdict(dict)  # (repo, subject digest) -> {digest: descriptor}
        self.uploads = {}     # id -> bytearray
        self.counts = collections.Counter()
        self._lock = threading.Lock()

    # --- inspection (the same names as ferrytest.registry.Registry's) -----------------------------
    def client(self):
        return RegistryClient(self.host)

    def manifest_digest(self, repo, ref):
        with self._lock:
            return self.tags.get((repo, ref)) or (ref if ref in self.manifests else None)

    def manifest(self, repo, ref):
        digest = self.manifest_digest(repo, ref)
        return self.manifests[digest] if digest else (None, None)

    def has_blob(self, repo, digest):
        return digest in self.blobs

    def repo_tags(self, repo):
        with self._lock:
            return sorted(t for (r, t) in self.tags if r == repo)

    def referrers_of(self, repo, digest):
        """What GET /v2/REPO/referrers/DIGEST lists."""
        with self._lock:
            return list(self.referrers[(repo, digest)].values())

    def requests_to(self, method, kind):
        with self._lock:
            return self.counts[(method, kind)]

    # --- serving ---------------------------------------------------------------------------------
    def _handler(self):
        reg = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body=b"", headers=None, head=False):
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if body and not head:
                    self.wfile.write(body)

            def _error(self, status, code):
                # No body after HEAD: the client would read it as the start of the next response.
                self._reply(status, json.dumps({"errors": [{"code": code, "message": code.lower()}]}).encode(),
                            {"Content-Type": "application/json"}, self.command == "HEAD")

            def _body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().strip().split(b";")[0], 16)
                        if size == 0:
                            self.rfile.readline()
                            return bytes(data)
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _route(self):
                path, _, query = self.path.partition("?")
                params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
                params = {k: v.replace("%3A", ":").replace("%2F", "/") for k, v in params.items()}
                if path == "/v2/":
                    return None, None, None, params
                m = _PATH.match(path)
                if not m:
                    return "", "", "", params
                with reg._lock:
                    reg.counts[(self.command, m["kind"])] += 1
                return m["name"], m["kind"], m["rest"], params

            def _serve(self):
                head = self.command == "HEAD"
                name, kind, rest, params = self._route()
                if name is None:
                    return self._reply(200, b"{}", {"Content-Type": "application/json"}, head)
                if kind == "manifests":
                    return self._manifests(name, rest, head)
                if kind == "blobs":
                    return self._blobs(name, rest, params, head)
                if kind == "tags" and rest == "list":
                    body = json.dumps({"name": name, "tags": reg.repo_tags(name)}).encode()
                    return self._reply(200, body, {"Content-Type": "application/json"}, head)
                if kind == "referrers":
                    return self._referrers(name, rest, params, head)
                return self._error(404, "NOT_FOUND")

            def _manifests(self, name, ref, head):
                if self.command in ("GET", "HEAD"):
                    digest = reg.manifest_digest(name, ref)
                    if digest is None:
                        return self._error(404, "MANIFEST_UNKNOWN")
                    data, media_type = reg.manifests[digest]
                    return self._reply(200, data, {"Content-Type": media_type, "Docker-Content-Digest": digest}, head)
                if self.command != "PUT":
                    return self._error(405, "UNSUPPORTED")
                data = self._body()
                digest = _digest(data)
                if ref.startswith("sha256:") and ref != digest:
                    return self._error(400, "DIGEST_INVALID")
                doc = json.loads(data)
                media_type = self.headers.get("Content-Type") or doc.get("mediaType")
                headers = {"Docker-Content-Digest": digest, "Location": f"/v2/{name}/manifests/{digest}"}
                with reg._lock:
                    reg.manifests[digest] = (data, media_type)
                    if not ref.startswith("sha256:"):
                        reg.tags[(name, ref)] = digest
                    subject = doc.get("subject")
                    if subject:
                        artifact_type = doc.get("artifactType") or doc.get("config", {}).get("mediaType")
                        entry = {"mediaType": media_type, "digest": digest, "size": len(data),
                                 "artifactType": artifact_type}
                        if doc.get("annotations"):
                            entry["annotations"] = doc["annotations"]
                        reg.referrers[(name, subject["digest"])][digest] = entry
                        headers["OCI-Subject"] = subject["digest"]
                self._reply(201, b"", headers)

            def _blobs(self, name, rest, params, head):
                if rest.startswith("uploads"):
                    return self._upload(name, rest[len("uploads"):].strip("/"), params)
                if self.command not in ("GET", "HEAD"):
                    return self._error(405, "UNSUPPORTED")
                data = reg.blobs.get(rest)
                if data is None:
                    return self._error(404, "BLOB_UNKNOWN")
                self._reply(200, data, {"Content-Type": "application/octet-stream", "Docker-Content-Digest": rest},
                            head)

            def _upload(self, name, upload_id, params):
                if self.command == "POST" and "mount" in params:
                    if params["mount"] in reg.blobs:
                        return self._reply(201, b"", {"Location": f"/v2/{name}/blobs/{params['mount']}"})
                if self.command == "POST":
                    data = self._body()
                    if "digest" in params:
                        return self._commit(name, params["digest"], data)
                    new = uuid.uuid4().hex
                    with reg._lock:
                        reg.uploads[new] = bytearray(data)
                    return self._reply(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{new}",
                                                  "Docker-Upload-UUID": new, "Range": "0-0"})
                if upload_id not in reg.uploads:
                    return self._error(404, "BLOB_UPLOAD_UNKNOWN")
                if self.command == "DELETE":
                    with reg._lock:
                        reg.uploads.pop(upload_id, None)
                    return self._reply(204)
                data = self._body()
                with reg._lock:
                    reg.uploads[upload_id] += data
                if self.command == "PATCH":
                    return self._reply(202, b"", {"Location": f"/v2/{name}/blobs/uploads/{upload_id}"})
                if self.command == "PUT" and "digest" in params:
                    with reg._lock:
                        data = bytes(reg.uploads.pop(upload_id))
                    return self._commit(name, params["digest"], data)
                return self._error(405, "UNSUPPORTED")

            def _commit(self, name, digest, data):
                if _digest(data) != digest:
                    return self._error(400, "DIGEST_INVALID")
                with reg._lock:
                    reg.blobs[digest] = data
                self._reply(201, b"", {"Location": f"/v2/{name}/blobs/{digest}", "Docker-Content-Digest": digest})

            def _referrers(self, name, digest, params, head):
                with reg._lock:
                    found = list(reg.referrers[(name, digest)].values())
                if "artifactType" in params:
                    found = [d for d in found if d.get("artifactType") == params["artifactType"]]
                body = json.dumps({"schemaVersion": 2, "mediaType": INDEX, "manifests": found}).encode()
                self._reply(200, body, {"Content-Type": INDEX}, head)

            def do_GET(self):
                self._serve()

            do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_GET

        return Handler
