"""`Registry`: a real CNCF docker-registry (distribution 2.8) on a free loopback port, in one of four
modes: plain HTTP, TLS, htpasswd Basic auth, token auth. Plus helpers to inspect what it holds and
to count requests in its log (e.g. to prove a cross-repository blob mount happened)."""

import json
import os
import re
import shutil

from .client import RegistryClient
from .pki import make_pki
from .util import Service, TempDir, free_port, run, start_process, stop_process, wait_until

# The registry (logrus text formatter) logs one line per completed request, e.g.
#   time=".." level=info msg="response completed" ... http.request.method=POST
#   http.request.uri="/v2/a/blobs/uploads/?mount=sha256:..&from=b" ... http.response.status=201
# Values are quoted only when they need it (`http.request.uri=/v2/`). Handler errors log
# msg="response completed with error"; requests refused by auth log only
# msg="error authorizing context: ..." (counted here as status 401).
_COMPLETED = re.compile(r'msg="response completed')
_UNAUTHORIZED = re.compile(r'msg="error authorizing context')
_METHOD = re.compile(r'\bhttp\.request\.method=(\S+)')
_URI = re.compile(r'\bhttp\.request\.uri=("(?:[^"\\]|\\.)*"|\S+)')
_STATUS = re.compile(r'\bhttp\.response\.status=(\d+)')
_WRITTEN = re.compile(r'\bhttp\.response\.written=(\d+)')


class Registry(Service):
    """Context manager. Modes: tls=True for HTTPS (exposes .ca_cert, .cert_dir for skopeo),
    auth="htpasswd" (exposes .user/.password), auth="token" (needs token_server=TokenServer)."""

    def __init__(self, tls=False, auth=None, pki=None, token_server=None,
                 user="ferry-user", password="ferry-Secret-42"):
        assert auth in (None, "htpasswd", "token")
        assert auth != "token" or token_server is not None, "token auth needs a TokenServer"
        self.tls, self.auth, self.token_server = tls, auth, token_server
        if auth == "token":
            user, password = token_server.user, token_server.password
        self.user, self.password = (user, password) if auth else (None, None)
        self._pki = pki
        self._tmp = None
        self._proc = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self):
        self._tmp = TempDir("ferrytest-registry-")
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.scheme = "https" if self.tls else "http"
        self.url = f"{self.scheme}://{self.host}"
        self.log_path = self._tmp.sub("registry.log")
        self.ca_cert = self.cert_dir = None
        if self.tls:
            pki = self._pki or make_pki(self._tmp.sub("pki"))
            self.ca_cert = pki.ca_cert
            self.cert_dir = self._tmp.sub("certs.d", mkdir=True)  # skopeo --*-cert-dir layout
            shutil.copy(pki.ca_cert, os.path.join(self.cert_dir, "ca.crt"))
            self._server_cert, self._server_key = pki.cert, pki.key
        config = self._tmp.sub("config.yml")
        with open(config, "w") as f:
            f.write(self._config())
        self._proc = start_process(["docker-registry", "serve", config], self.log_path)
        wait_until(lambda: self.client(anonymous=True).ping() in (200, 401),
                   f"docker-registry on {self.host}", alive=self._check_alive)

    def stop(self):
        stop_process(self._proc)
        self._proc = None
        if self._tmp:
            self._tmp.cleanup()

    def _check_alive(self):
        if self._proc.poll() is not None:
            raise RuntimeError(f"docker-registry exited with {self._proc.returncode}:\n{self.log_text()}")

    def _config(self):
        lines = [
            "version: 0.1",
            "log:",
            "  level: debug",
            "  formatter: text",
            "  accesslog:",
            "    disabled: true",
            "storage:",
            "  filesystem:",
            f"    rootdirectory: {self._tmp.sub('data')}",
            "  delete:",
            "    enabled: true",
            "  maintenance:",
            "    uploadpurging:",
            "      enabled: false",
            "http:",
            f"  addr: {self.host}",
            "  secret: ferry-test-secret",
        ]
        if self.tls:
            lines += ["  tls:", f"    certificate: {self._server_cert}", f"    key: {self._server_key}"]
        if self.auth == "htpasswd":
            path = self._tmp.sub("htpasswd")
            out = run(["htpasswd", "-Bbn", self.user, self.password]).stdout
            with open(path, "w") as f:
                f.write(out.strip() + "\n")
            lines += ["auth:", "  htpasswd:", "    realm: ferry-test", f"    path: {path}"]
        elif self.auth == "token":
            ts = self.token_server
            lines += ["auth:", "  token:", f"    realm: {ts.realm}", f"    service: {ts.service}",
                      f"    issuer: {ts.issuer}", f"    rootcertbundle: {ts.cert}"]
        return "\n".join(lines) + "\n"

    # --- inspection ------------------------------------------------------------------------------
    def client(self, anonymous=False):
        """A RegistryClient for this registry, with its credentials unless `anonymous`."""
        if self.auth == "token" and not anonymous:
            user, password = self.token_server.admin_user, self.token_server.admin_password
        else:
            user, password = (None, None) if anonymous else (self.user, self.password)
        return RegistryClient(self.host, tls=self.tls, ca_cert=self.ca_cert, user=user, password=password)

    def manifest_digest(self, repo, ref):
        """Docker-Content-Digest of repo:ref (any manifest/index media type), None if absent."""
        return self.client().manifest_digest(repo, ref)

    def manifest(self, repo, ref):
        """(bytes, Content-Type) of repo:ref, or (None, None) if absent."""
        r = self.client().get_manifest(repo, ref)
        return (r.body, r.header("content-type")) if r.status == 200 else (None, None)

    def tags(self, repo):
        return self.client().tags(repo)

    def has_blob(self, repo, digest):
        return self.client().has_blob(repo, digest)

    def log_text(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def requests(self):
        """[(method, uri, status)] for every request the registry has completed so far."""
        out = []
        for line in self.log_text().splitlines():
            unauthorized = _UNAUTHORIZED.search(line)
            if not (unauthorized or _COMPLETED.search(line)):
                continue
            m, u, s = _METHOD.search(line), _URI.search(line), _STATUS.search(line)
            if not (m and u):
                continue
            uri = u.group(1)
            if uri.startswith('"'):
                uri = json.loads(uri)
            status = 401 if unauthorized else int(s.group(1)) if s else None
            out.append((m.group(1), uri, status))
        return out

    def bytes_served(self, method, path_regex):
        """Response body bytes the registry wrote for completed `method` requests whose URI matches
        `path_regex`: e.g. how many blob bytes a source gave out."""
        rx = re.compile(path_regex)
        total = 0
        for line in self.log_text().splitlines():
            m, u, w = _METHOD.search(line), _URI.search(line), _WRITTEN.search(line)
            if _COMPLETED.search(line) and m and u and w and m.group(1) == method and rx.search(u.group(1)):
                total += int(w.group(1))
        return total

    def requests_matching(self, method, path_regex, status=None):
        """How many completed requests had `method`, a URI matching `path_regex` (re.search) and,
        if given, HTTP `status`."""
        rx = re.compile(path_regex)
        return sum(1 for m, u, s in self.requests()
                   if m == method and rx.search(u) and (status is None or s == status))
