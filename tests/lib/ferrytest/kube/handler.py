"""The HTTP side of the emulator: one request handler (HTTP/1.1 keep-alive over TLS) that
authenticates, logs, applies injected faults, routes /version, discovery, resource paths and the
admin API under /_emulator/, and streams watches with chunked transfer encoding."""

import json
import logging
import socket
import ssl
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from . import discovery, errors, pod_failures, watch
from .api import Request
from .auth import authorize
from .table import to_table, wants_table

log = logging.getLogger("ferrytest.kube")

# What the API server can answer in; anything else gets 406 (pod logs too: their text comes back
# for `*/*` or application/json, never for an Accept of text/plain alone).
_MEDIA_TYPES = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf", "*/*",
                "application/*")


def _acceptable(accept):
    if not accept.strip():
        return True
    return any(part.split(";")[0].strip().lower() in _MEDIA_TYPES for part in accept.split(","))


VERSION = {"major": "1", "minor": "32", "gitVersion": "v1.32.4-ferry-emulator",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23.0", "compiler": "gc",
           "platform": "linux/amd64"}


def _not_found_path():
    return errors.ApiError(404, "NotFound", "the server could not find the requested resource",
                           {"causes": [{"reason": "UnexpectedServerResponse", "message": "404 page not found"}]})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ferrytest-kube"
    emulator = None  # set on the subclass the Emulator makes

    def log_message(self, fmt, *args):  # the request log is kept in memory instead
        pass

    def do_GET(self):
        self._handle()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    # --- plumbing -----------------------------------------------------------------------------
    def _handle(self):
        em = self.emulator
        url = urllib.parse.urlsplit(self.path)
        self.url_path = url.path
        self.query = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query, keep_blank_values=True).items()}
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        self.fault = None
        self.entry = {"method": self.command, "path": self.path,
                      "content_type": self.headers.get("Content-Type", ""), "user": None, "code": None}
        try:
            if url.path.startswith("/_emulator/"):
                return self._admin()
            peer = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
            identity = em.authenticator.authenticate(self.headers.get("Authorization"), peer)
            self.entry["user"] = identity.user
            em.log_request(self.entry)
            self.fault = em.faults.take(self.command, self.path)
            if self.fault is not None:
                if self.fault.latency:
                    time.sleep(self.fault.latency)  # injected server latency, not synchronisation
                if self.fault.code is not None:
                    raise self.fault.error()
            self._route(identity)
        except errors.ApiError as e:
            if e.code == 401:
                em.log_request(self.entry)
            self._send_json(e.code, e.status_body(),
                            {"Retry-After": str(int(e.retry_after))} if e.retry_after is not None else None)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError) as e:
            if not isinstance(e, (BrokenPipeError, ConnectionResetError, ssl.SSLError)):
                log.exception("emulator: %s %s failed", self.command, self.path)
            self.close_connection = True
        except Exception as e:  # a bug in the emulator: answer like the API server would
            log.exception("emulator: %s %s failed", self.command, self.path)
            body = errors.internal(f"{type(e).__name__}: {e}").status_body()
            try:
                self._send_json(500, body)
            except OSError:
                self.close_connection = True

    def _send_json(self, code, body, headers=None, content_type="application/json"):
        data = json.dumps(body).encode()
        self.entry["code"] = code
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.fault is not None and self.fault.drop:
            # The answer was computed (a write is committed) but the client never gets it whole.
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self._drop()
            return
        if self.command != "HEAD":
            self.wfile.write(data)

    def _drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # --- routing ------------------------------------------------------------------------------
    def _route(self, identity):
        em, path, accept = self.emulator, self.url_path.rstrip("/") or "/", self.headers.get("Accept", "")
        if self.command not in ("GET", "HEAD") and path in ("/version", "/api", "/apis", "/healthz"):
            raise errors.ApiError(405, "MethodNotAllowed", f"the server does not allow this method on {path}")
        if path == "/version":
            return self._send_json(200, VERSION)
        if path in ("/healthz", "/livez", "/readyz"):
            return self._send_text(200, "ok")
        if not _acceptable(accept):
            raise errors.ApiError(406, "NotAcceptable", "only the following media types are accepted: "
                                                        "application/json, application/yaml, "
                                                        "application/vnd.kubernetes.protobuf")
        if path in ("/api", "/apis"):
            if discovery.wants_v2(accept):
                return self._send_json(200, discovery.aggregated(em.catalog, legacy=path == "/api"),
                                       content_type=discovery.V2_CONTENT_TYPE)
            if path == "/api":
                return self._send_json(200, discovery.api_versions(em.host))
            return self._send_json(200, discovery.api_group_list(em.catalog))
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "api" and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[0] == "apis" and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _not_found_path()
        if not rest:
            listing = discovery.api_resource_list(em.catalog, group, version)
            if listing is None:
                raise _not_found_path()
            return self._send_json(200, listing)
        req = self._resource_request(identity, group, version, rest)
        self._dispatch(req, accept)

    def _resource_request(self, identity, group, version, rest):
        catalog = self.emulator.catalog
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            candidate = catalog.find(group, version, rest[2])
            if candidate is not None and candidate.namespaced:
                namespace, rest = rest[1], rest[2:]
        rtype = catalog.find(group, version, rest[0])
        if rtype is None or len(rest) > 3:
            raise _not_found_path()
        name = rest[1] if len(rest) > 1 else ""
        sub = rest[2] if len(rest) > 2 else ""
        if sub and not (sub == "status" and rtype.status) and not (sub == "log" and rtype.kind == "Pod"):
            raise _not_found_path()
        if name and rtype.namespaced and not namespace:
            raise _not_found_path()
        return Request(identity, rtype, version, namespace, name, sub, self.query, self.body,
                       self.headers.get("Content-Type", ""), self.headers.get("User-Agent", ""))

    def _dispatch(self, req, accept):
        api, method = self.emulator.api, self.command
        if req.subresource == "log":
            if method != "GET":
                raise errors.ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the "
                                                               f"requested resource ({method} {self.url_path})")
            authorize(req.identity, "get", "", "pods/log", req.namespace, req.name)
            return self._send_text(200, pod_failures.read_log(self.emulator, req.namespace, req.name, self.query))
        if method in ("GET", "HEAD"):
            if not req.name and self.query.get("watch") in ("true", "1"):
                return self._watch(req, accept)
            code, body = api.get(req) if req.name else api.list(req)
            if wants_table(accept) and code == 200:
                items = body["items"] if not req.name else [body]
                rv = body["metadata"].get("resourceVersion", "") if not req.name else ""
                body = to_table(req.rtype, items, rv)
        elif method == "POST" and not req.name:
            code, body = api.create(req)
        elif method == "PUT" and req.name:
            code, body = api.update(req)
        elif method == "PATCH" and req.name:
            code, body = api.patch(req)
        elif method == "DELETE":
            code, body = api.delete(req) if req.name else api.delete_collection(req)
        else:
            raise errors.ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the "
                                                           f"requested resource ({method} {self.url_path})")
        self._send_json(code, body)

    def _watch(self, req, accept):
        def start():
            self.entry["code"] = 200
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache, private")
            self.end_headers()
            if self.fault is not None and self.fault.drop:
                self.wfile.flush()
                self._drop()
                raise BrokenPipeError("injected drop")

        def send(event):
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        try:
            watch.stream(self.emulator, req, accept, start, send)
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True

    def _send_text(self, code, text):
        data = text.encode()
        self.entry["code"] = code
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # --- admin API ----------------------------------------------------------------------------
    def _admin(self):
        em = self.emulator
        if self.headers.get("Authorization", "") != f"Bearer {em.admin_token}":
            raise errors.ApiError(401, "Unauthorized", "the admin API takes the admin token only")
        what = self.url_path[len("/_emulator/"):].strip("/")
        body = json.loads(self.body) if self.body.strip() else {}
        method = self.command
        if what == "faults" and method == "POST":
            return self._send_json(201, em.faults.add(body).describe())
        if what == "faults" and method == "GET":
            return self._send_json(200, {"faults": em.faults.rules()})
        if what == "faults" and method == "DELETE":
            em.faults.clear()
            return self._send_json(200, {})
        if what == "requests" and method == "GET":
            return self._send_json(200, {"requests": em.requests()})
        if what == "requests" and method == "DELETE":
            em.clear_requests()
            return self._send_json(200, {})
        if what == "options" and method == "GET":
            return self._send_json(200, em.options.as_dict())
        if what == "options" and method == "POST":
            em.options.update(body)
            return self._send_json(200, em.options.as_dict())
        if what == "tokens" and method == "POST":
            em.add_token(body["token"], body.get("user", "user"), body.get("groups", []),
                         bool(body.get("read_only")))
            return self._send_json(201, {})
        if what == "tokens" and method == "DELETE":
            em.revoke_token(body["token"])
            return self._send_json(200, {})
        if what == "compact" and method == "POST":
            em.store.compact()
            return self._send_json(200, {"resourceVersion": str(em.store.resource_version)})
        raise errors.ApiError(404, "NotFound", f"no admin endpoint {method} /_emulator/{what}")
