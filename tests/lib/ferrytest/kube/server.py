"""`Emulator`: the Kubernetes API-server emulator as a test service. Makes a CA, a server
certificate and client certificates, listens with HTTPS on a free loopback port, writes
`DIR/kubeconfig` (contexts admin, cert-admin, viewer, basic) and, last, `DIR/state.json`
{"server", "ca_file", "admin_token", "kubeconfig"} (+ "gateway" with the data plane) so a reader
that sees it can connect.

Controllers and admission (controllers.py, admission.py) are loaded only when asked for."""

import json
import logging
import os
import secrets
import ssl
import threading
import urllib.request
from http.server import ThreadingHTTPServer

from ..pki import make_pki
from ..util import Service, TempDir
from . import kubeconfig
from .admission_request import AdmissionRequest  # noqa: F401  (re-exported for hooks)
from .api import Api
from .auth import Authenticator
from .crds import CrdLifecycle
from .discovery import Catalog
from .faults import Faults
from .handler import Handler
from .namespaces import NamespaceLifecycle
from .options import Options
from .store import Store

log = logging.getLogger("ferrytest.kube")

REQUEST_LOG_LIMIT = 10000


class _TlsServer(ThreadingHTTPServer):
    """Threaded HTTPS server doing each TLS handshake in the connection's own thread, so one
    slow client cannot stall the accept loop."""

    daemon_threads = True
    ssl_context = None

    def finish_request(self, request, client_address):
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # failed handshake (wrong CA, plain HTTP...): the client sees the reset
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        log.debug("emulator: connection from %s ended with an error", client_address, exc_info=True)


class Emulator(Service):
    def __init__(self, directory=None, controllers=False, admission=None, history=1000, pki=None,
                 **options):
        """`pki`: a ferrytest.pki.Pki to reuse (tests share one per class; making one is slow);
        `history`: how many watch events are kept; `options`: fields of Options."""
        self.directory = directory
        self._shared_pki = pki
        self.want_controllers = controllers
        self.want_admission = controllers if admission is None else admission
        self.options = Options(**options)
        self.store = Store(history=history)
        self.catalog = Catalog(self.store)
        self.store.type_of = self.catalog.by_kind
        self.api = Api(self)
        self.authenticator = Authenticator()
        self.faults = Faults()
        self.admission_hooks = []
        self.controllers = []
        self._requests = []
        self._requests_lock = threading.Lock()
        self._timers = set()
        self._timers_lock = threading.Lock()
        self._httpd = None
        self._tmp = None
        self._stopped = False

    # --- lifecycle ----------------------------------------------------------------------------
    def start(self):
        if self.directory is None:
            self._tmp = TempDir("ferrytest-kube-")
            self.directory = self._tmp.path
        os.makedirs(self.directory, exist_ok=True)
        self.state_file = os.path.join(self.directory, "state.json")
        if os.path.exists(self.state_file):
            os.remove(self.state_file)
        if self._shared_pki is not None:
            self.pki, pki_dir = self._shared_pki, os.path.dirname(self._shared_pki.ca_cert)
        else:
            pki_dir = os.path.join(self.directory, "pki")
            self.pki = make_pki(pki_dir)
        self.ca_file = self.pki.ca_cert
        cert, key = os.path.join(pki_dir, "ferry-admin.pem"), os.path.join(pki_dir, "ferry-admin.key")
        if not os.path.exists(cert):  # a shared PKI already has it (the cert is written last)
            cert, key = kubeconfig.make_client_cert(self.pki, pki_dir, "ferry-admin", "system:masters")

        self.admin_token = "admin-" + secrets.token_hex(16)
        self.viewer_token = "viewer-" + secrets.token_hex(16)
        self.basic_user, self.basic_password = "basic-admin", secrets.token_hex(12)
        self.add_token(self.admin_token, "admin", ["system:masters"])
        self.add_token(self.viewer_token, "viewer", ["viewers"], read_only=True)
        self.authenticator.add_password(self.basic_user, self.basic_password, ["system:masters"])

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.pki.cert, self.pki.key)
        ctx.load_verify_locations(self.pki.ca_cert)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])  # no h2: clients fall back to HTTP/1.1
        handler = type("EmulatorHandler", (Handler,), {"emulator": self})
        self._httpd = _TlsServer(("127.0.0.1", 0), handler)
        self._httpd.ssl_context = ctx
        self.port = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"https://{self.host}"

        for part in (NamespaceLifecycle(), CrdLifecycle()):
            self.add_controller(part)
        if self.want_controllers:
            self._install("controllers")
            self._install("nodes")  # the node the simulated kubelet runs pods on
        if self.want_admission:
            self._install("admission")
        self.dataplane, self.gateway = None, None
        if self.options.dataplane:
            self._install("dataplane")  # sets self.dataplane and self.gateway ("127.0.0.1:PORT")
        threading.Thread(target=self._httpd.serve_forever, name="kube-emulator", daemon=True).start()

        self.kubeconfig = os.path.join(self.directory, "kubeconfig")
        kubeconfig.write_kubeconfig(self.kubeconfig, self.url, self.ca_file, {
            "admin": {"token": self.admin_token},
            "cert-admin": kubeconfig.cert_user(cert, key),
            "viewer": {"token": self.viewer_token},
            "basic": {"username": self.basic_user, "password": self.basic_password},
        })
        state = {"server": self.url, "ca_file": self.ca_file, "admin_token": self.admin_token,
                 "kubeconfig": self.kubeconfig, "viewer_token": self.viewer_token}
        if self.gateway:
            state["gateway"] = self.gateway
        tmp = self.state_file + ".tmp"
        with open(tmp, "w") as f:
            json.dump(state, f, indent=2)
        os.replace(tmp, self.state_file)  # last, and atomically: whoever sees it can connect

    def stop(self):
        self._stopped = True
        with self._timers_lock:
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()
        for controller in self.controllers:
            if hasattr(controller, "stop"):
                controller.stop()  # the data plane kills its app processes
        self.store.close()
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    def _install(self, module):
        try:
            mod = __import__(f"{__package__}.{module}", fromlist=["install"])
        except ImportError as e:
            raise RuntimeError(f"the emulator was asked for {module} but {module}.py cannot be loaded: {e}")
        mod.install(self)

    # --- what controllers and admission use ------------------------------------------------
    def add_controller(self, controller):
        self.controllers.append(controller)
        controller.attach(self)

    def after(self, seconds, fn):
        """Runs fn() once on a timer thread after `seconds` (0 = soon); errors are logged."""
        def run():
            with self._timers_lock:
                self._timers.discard(timer)
            if self._stopped:
                return
            try:
                fn()
            except Exception:
                log.exception("emulator: timed task failed")

        timer = threading.Timer(max(0.0, float(seconds or 0)), run)
        timer.daemon = True
        with self._timers_lock:
            if self._stopped:
                return
            self._timers.add(timer)
        timer.start()

    # --- what tests use -------------------------------------------------------------------------
    def add_token(self, token, user, groups=(), read_only=False):
        self.authenticator.add_token(token, user, groups, read_only)

    def revoke_token(self, token):
        self.authenticator.revoke_token(token)

    def inject_fault(self, **rule):
        """e.g. inject_fault(method="GET", path="/configmaps", count=2, code=429, retry_after=1)."""
        return self.faults.add(rule)

    def clear_faults(self):
        self.faults.clear()

    def set_options(self, **changes):
        self.options.update(changes)

    def log_request(self, entry):
        with self._requests_lock:
            self._requests.append(entry)
            del self._requests[:-REQUEST_LOG_LIMIT]

    def requests(self):
        """[{method, path (with query), content_type, user, code}] in arrival order."""
        with self._requests_lock:
            return [dict(e) for e in self._requests]

    def clear_requests(self):
        with self._requests_lock:
            self._requests.clear()

    def request(self, method, path, body=None, token=None, content_type="application/json", headers=None):
        """One HTTPS request as the admin (or `token`): (status, parsed JSON body or text)."""
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {token or self.admin_token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        ctx = ssl.create_default_context(cafile=self.ca_file)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=30) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")
