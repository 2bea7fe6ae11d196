"""`TokenServer`: a Docker registry token server (the `auth: token` flow) on a loopback port.

GET /token?service=S&scope=repository:NAME:pull,push (Basic auth, or anonymous if allowed) answers
{"token": JWT, "access_token": JWT, "expires_in": 300}. POST /token (OAuth2 password grant, as
containerd sends) is answered too. The JWT is RS256-signed with an RSA key made by openssl; its
header carries x5c = [signing cert], and that same cert is the registry's rootcertbundle.
Every request is recorded (user, scopes) so tests can assert which scopes a client asked for."""

import base64
import json
import os
import ssl
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler

from .pki import make_signing_cert
from .util import HttpService, TempDir


def _b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_scope(scope):
    """'repository:a/b:pull,push' -> ('repository', 'a/b', ['pull', 'push'])."""
    typ, rest = scope.split(":", 1)
    name, _, actions = rest.rpartition(":")
    return typ, name, [a for a in actions.split(",") if a]


class TokenServer(HttpService):
    service = "ferry-test-registry"
    issuer = "ferry-test-token-issuer"

    def __init__(self, user="ferry-user", password="ferry-Secret-42", allow_anonymous=False):
        self.user, self.password = user, password
        self.admin_user, self.admin_password = "harness-admin", "harness-Secret-7"
        self.users = {user: password, self.admin_user: self.admin_password}
        self.allow_anonymous = allow_anonymous
        self.requests = []  # [(user or None, [scope strings], status)]
        self._lock = threading.Lock()

    _tmp = None

    def start(self):
        self._tmp = TempDir("ferrytest-token-")
        self.cert, self.key = make_signing_cert(self._tmp.path)
        with open(self.cert) as f:
            self._x5c = base64.b64encode(ssl.PEM_cert_to_DER_cert(f.read())).decode()
        super().start()
        self.realm = f"{self.url}/token"

    def stop(self):
        super().stop()
        if self._tmp:
            self._tmp.cleanup()

    # --- what tests look at ----------------------------------------------------------------------
    def scopes_for(self, user):
        """Every scope string `user` asked for (None = anonymous), in request order."""
        with self._lock:
            return [s for u, scopes, _ in self.requests if u == user for s in scopes]

    def actions_for(self, user, repository):
        """The set of actions `user` asked for on `repository`, over all requests."""
        out = set()
        for s in self.scopes_for(user):
            typ, name, actions = parse_scope(s)
            if typ == "repository" and name == repository:
                out.update(actions)
        return out

    # --- token minting ---------------------------------------------------------------------------
    def make_token(self, subject, scopes, anonymous):
        access = []
        for s in scopes:
            typ, name, actions = parse_scope(s)
            if anonymous:
                actions = [a for a in actions if a == "pull"]
            access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self._x5c]}
        claims = {"iss": self.issuer, "sub": subject, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": _b64url(os.urandom(12)), "access": access}
        signing_input = _b64url(json.dumps(header).encode()) + "." + _b64url(json.dumps(claims).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing_input.encode(),
                             capture_output=True, check=True).stdout
        return signing_input + "." + _b64url(sig)

    def _authenticate(self, user, password):
        """Returns (ok, user-or-None)."""
        if user is None:
            return self.allow_anonymous, None
        return self.users.get(user) == password, user

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status, doc, user, scopes):
                with server._lock:
                    server.requests.append((user, scopes, status))
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="ferry-test-token"')
                self.end_headers()
                self.wfile.write(body)

            def _grant(self, user, password, scopes):
                ok, who = server._authenticate(user, password)
                if not ok:
                    return self._reply(401, {"errors": [{"code": "UNAUTHORIZED"}]}, user, scopes)
                token = server.make_token(who or "", scopes, who is None)
                self._reply(200, {"token": token, "access_token": token, "expires_in": 300,
                                  "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
                            user, scopes)

            def do_GET(self):
                url = urllib.parse.urlsplit(self.path)
                if url.path != "/token":
                    return self._reply(404, {}, None, [])
                q = urllib.parse.parse_qs(url.query)
                scopes = [s for v in q.get("scope", []) for s in v.split(" ") if s]
                user = password = None
                auth = self.headers.get("Authorization", "")
                if auth.lower().startswith("basic "):
                    user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                self._grant(user, password, scopes)

            def do_POST(self):  # OAuth2 password grant (containerd)
                n = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(n).decode())
                scopes = [s for v in form.get("scope", []) for s in v.split(" ") if s]
                user = form.get("username", [None])[0]
                password = form.get("password", [None])[0]
                self._grant(user, password, scopes)

        return Handler
