"""`SplitRegistry`: an in-memory registry stand-in whose blob bytes live on another host, as with
registries that hand uploads and downloads to a storage backend or a CDN. It records the headers of
every request each side receives, so a test can see where credentials went.

The registry side (`.host`) asks for HTTP Basic auth (`user`, `password`) on every /v2/ request,
or, with `bearer_realm`, answers 401 with a Bearer challenge naming that realm and accepts nothing.
It opens uploads with an absolute `Location` on the storage side and answers blob GETs with a 307
redirect there; manifests it keeps itself. The storage side (`.storage_host`) asks for no auth, as
a pre-signed upload URL would not: it takes PATCH/PUT of upload sessions and serves blobs."""

import base64
import hashlib
import threading
import uuid
from http.server import BaseHTTPRequestHandler

from .util import HttpService, Service


class _Side(HttpService):
    def __init__(self, handler):
        self._handler_class = handler

    def _handler(self):
        return self._handler_class


class SplitRegistry(Service):
    def __init__(self, user="split-user", password="split-Secret-9", bearer_realm=None):
        self.user, self.password, self.bearer_realm = user, password, bearer_realm
        self.manifests = {}  # (repo, ref) -> (body, content type)
        self.blobs = {}      # digest -> bytes
        self.uploads = {}    # session id -> bytearray
        self.requests = []   # (side, method, path, {header name lowercased: value})
        self._lock = threading.Lock()
        self._registry = _Side(self._registry_handler())
        self._storage = _Side(self._storage_handler())

    def start(self):
        self._registry.start()
        self._storage.start()
        self.host, self.storage_host = self._registry.host, self._storage.host

    def stop(self):
        self._registry.stop()
        self._storage.stop()

    def seen(self, side, method=None):
        """[(method, path, headers)] of requests to `side` ("registry" or "storage")."""
        with self._lock:
            return [(m, p, h) for s, m, p, h in self.requests if s == side and method in (None, m)]

    def _record(self, side, handler):
        with self._lock:
            self.requests.append((side, handler.command, handler.path,
                                  {k.lower(): v for k, v in handler.headers.items()}))

    def _base(self, split, side):
        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def send(self, status, body=b"", headers=None):
                self.send_response(status)
                self.send_header("Docker-Distribution-API-Version", "registry/2.0")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def body(self):
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = bytearray()
                    while True:
                        size = int(self.rfile.readline().split(b";")[0], 16)
                        chunk = self.rfile.read(size)
                        self.rfile.readline()
                        if size == 0:
                            return bytes(data)
                        data += chunk
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def parse_request(self):  # records before dispatch: a refused request shows what it carried
                ok = super().parse_request()
                if ok:
                    split._record(side, self)
                return ok

        return Handler

    def _registry_handler(self):
        split = self
        Base = self._base(split, "registry")
        expected = "Basic " + base64.b64encode(f"{split.user}:{split.password}".encode()).decode()

        class Handler(Base):
            def authorized(self):
                if split.bearer_realm:
                    self.body()
                    challenge = f'Bearer realm="{split.bearer_realm}",service="split"'
                    self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {"WWW-Authenticate": challenge})
                    return False
                if self.headers.get("Authorization") == expected:
                    return True
                self.body()
                self.send(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                          {"WWW-Authenticate": 'Basic realm="split"', "Content-Type": "application/json"})
                return False

            def route(self):
                path = self.path.split("?", 1)[0]
                if not self.authorized():
                    return
                if path == "/v2/":
                    return self.send(200, b"{}")
                rest = path[len("/v2/"):]
                if "/blobs/uploads/" in rest and self.command == "POST":
                    self.body()
                    session = uuid.uuid4().hex
                    with split._lock:
                        split.uploads[session] = bytearray()
                    return self.send(202, b"", {"Location": f"http://{split.storage_host}/upload/{session}",
                                                "Range": "0-0"})
                if "/blobs/" in rest:
                    digest = rest.rsplit("/blobs/", 1)[1]
                    if digest not in split.blobs:
                        return self.send(404, b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
                    if self.command == "HEAD":
                        return self.send(200, b"", {"Content-Length": str(len(split.blobs[digest])),
                                                    "Docker-Content-Digest": digest})
                    return self.send(307, b"", {"Location": f"http://{split.storage_host}/blob/{digest}"})
                if "/manifests/" in rest:
                    repo, ref = rest.rsplit("/manifests/", 1)
                    if self.command == "PUT":
                        data = self.body()
                        digest = "sha256:" + hashlib.sha256(data).hexdigest()
                        ctype = self.headers.get("Content-Type", "")
                        with split._lock:
                            split.manifests[(repo, ref)] = split.manifests[(repo, digest)] = (data, ctype)
                        return self.send(201, b"", {"Docker-Content-Digest": digest})
                    entry = split.manifests.get((repo, ref))
                    if entry is None:
                        return self.send(404, b'{"errors":[{"code":"MANIFEST_UNKNOWN"}]}')
                    data, ctype = entry
                    digest = "sha256:" + hashlib.sha256(data).hexdigest()
                    return self.send(200, data, {"Content-Type": ctype, "Docker-Content-Digest": digest})
                self.body()
                return self.send(404, b'{"errors":[{"code":"NOT_FOUND"}]}')

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = route

        return Handler

    def _storage_handler(self):
        split = self
        Base = self._base(split, "storage")

        class Handler(Base):
            def route(self):
                path, _, query = self.path.partition("?")
                if path.startswith("/blob/") and self.command in ("GET", "HEAD"):
                    data = split.blobs.get(path[len("/blob/"):])
                    return self.send(200, data) if data is not None else self.send(404)
                if not path.startswith("/upload/"):
                    self.body()
                    return self.send(404)
                session = path[len("/upload/"):]
                data = self.body()
                with split._lock:
                    if session not in split.uploads:
                        return self.send(404, b'{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}')
                    if self.command == "DELETE":
                        del split.uploads[session]
                        return self.send(204)
                    split.uploads[session] += data
                    if self.command == "PATCH":
                        return self.send(202, b"", {"Location": f"http://{split.storage_host}{path}",
                                                    "Range": f"0-{len(split.uploads[session]) - 1}"})
                    digest = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("digest", "")
                    digest = digest.replace("%3A", ":").replace("%3a", ":")
                    content = bytes(split.uploads.pop(session))
                    if "sha256:" + hashlib.sha256(content).hexdigest() != digest:
                        return self.send(400, b'{"errors":[{"code":"DIGEST_INVALID"}]}')
                    split.blobs[digest] = content
                return self.send(201, b"", {"Docker-Content-Digest": digest})

            do_GET = do_HEAD = do_PUT = do_PATCH = do_DELETE = route

        return Handler
