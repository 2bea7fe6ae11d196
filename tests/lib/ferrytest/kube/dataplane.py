"""The simulated Knative Serving data plane (Emulator(controllers=True, dataplane=True,
dataplane_apps={"helloworld": path, ...})):

- a gateway: plain HTTP on a free loopback port (`emulator.gateway`, "127.0.0.1:PORT"); the Host
  header `<ksvc>.<ns>.<domain>` picks a Knative Service by its status.url and the request goes to
  one of its latest ready revision's app processes (least loaded), the answer streamed back; an
  unknown host gets Envoy's empty 404. A request for a revision with no ready pod is held, as the
  activator does, until one is ready (the cold start) or `cold_start_timeout` passes (503).
  Port 80 cannot be bound as non-root, so the Kourier / Istio gateway Service gets the real port
  in its annotation `ferry.test/gateway-port` (its LoadBalancer IP is the emulator's lb_ip). The
  same front also listens on 127.0.0.1 at the nodePort of that Service's HTTP port (node_ports.py),
  so NODE_ADDRESS:nodePort works as on a cluster without a load balancer.
- pods: a revision pod whose user-container image contains a key of `dataplane_apps` runs that
  executable (app_processes.py) and becomes Ready when it answers; with no matching app the pod
  fails its image pull as a missing image would (pods.py asks `pull_failure` and `launch`).
- the KPA (kpa.py): every `kpa_tick` seconds each revision that has been ready is sampled and its
  Deployment's replicas set to the KPA's answer; the workload controllers add or delete pods and
  the processes follow the pods."""

import http.client
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler

from ..util import QuietHTTPServer
from .app_processes import AppProcess, container_env, stop_in_background
from .image_check import PullResult
from .kpa import Autoscaler, target_of
from .node_ports import NodePortListeners, http_port

log = logging.getLogger("ferrytest.kube")

SERVING = "serving.knative.dev"
REVISION_LABEL = f"{SERVING}/revision"
PORT_ANNOTATION = "ferry.test/gateway-port"
GATEWAY_SERVICES = (("kourier-system", "kourier"), ("istio-system", "istio-ingressgateway"))
_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}


def install(emulator):
    plane = DataPlane(emulator)
    emulator.add_controller(plane)
    return plane


class _Backend:
    """One ready pod of a revision: its app's port, requests in flight, idle keep-alive connections.
    Once retired (its pod gone, its revision at zero) it keeps no connection open."""

    def __init__(self, pod_name, port):
        self.pod_name, self.port = pod_name, port
        self.in_flight = 0
        self._idle = []
        self._retired = False
        self._lock = threading.Lock()

    def take_idle(self):
        """An idle keep-alive connection to the pod, or None."""
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give_back(self, conn):
        """Keeps `conn` for the next request, or closes it when the backend is retired."""
        with self._lock:
            if not self._retired:
                self._idle.append(conn)
                return
        conn.close()

    def retire(self):
        with self._lock:
            self._retired = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Revision:
    def __init__(self, now):
        self.autoscaler = Autoscaler(now)
        self.in_flight = 0
        self.backends = []
        self.ready_once = False


class DataPlane:
    def __init__(self, emulator):
        self.emulator = emulator
        self.ctl = None
        self._lock = threading.Condition()
        self._revisions = {}  # (namespace, revision) -> _Revision
        self._apps = {}  # pod key -> AppProcess
        self._stopped = threading.Event()
        self._wake = threading.Event()
        self._httpd = None
        self._node_ports = None

    @property
    def options(self):
        return self.emulator.options

    # --- lifecycle --------------------------------------------------------------------------------
    def attach(self, emulator):
        self.ctl = next((c for c in emulator.controllers if hasattr(c, "later") and hasattr(c, "lock")), None)
        if self.ctl is None:
            raise RuntimeError("the data plane needs the emulator's controllers (Emulator(controllers=True))")
        emulator.dataplane = self
        handler = type("GatewayHandler", (_Front,), {"plane": self})
        self._httpd = QuietHTTPServer(("127.0.0.1", 0), handler)
        self._node_ports = NodePortListeners(handler)
        emulator.gateway = f"127.0.0.1:{self._httpd.server_address[1]}"
        threading.Thread(target=self._httpd.serve_forever, name="dataplane-gateway", daemon=True).start()
        threading.Thread(target=self._autoscale_loop, name="dataplane-kpa", daemon=True).start()
        emulator.store.subscribe(self._on_event)

    def stop(self):
        self._stopped.set()
        self._wake.set()
        with self._lock:
            self._lock.notify_all()
            apps, self._apps = list(self._apps.values()), {}
            backends = [b for state in self._revisions.values() for b in state.backends]
            for state in self._revisions.values():
                state.backends = []
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._node_ports:
            self._node_ports.close_all()
        for backend in backends:
            backend.retire()
        for app in apps:
            app.stop()

    # --- pods (called by pods.py under the controllers' lock) ------------------------------------
    def runs(self, pod):
        return REVISION_LABEL in ((pod.get("metadata") or {}).get("labels") or {})

    def _user_container(self, pod):
        containers = (pod.get("spec") or {}).get("containers") or []
        return next((c for c in containers if c.get("name") != "queue-proxy"), None)

    def _app_for(self, image):
        apps = getattr(self.options, "dataplane_apps", None) or {}
        return next((path for key, path in sorted(apps.items()) if key and key in image), None)

    def pull_failure(self, pod):
        """{container: kubelet message} when the user container's image has no app to run."""
        c = self._user_container(pod)
        if c is None or self._app_for(c.get("image", "")):
            return {}
        return {c["name"]: PullResult(False, "NotFound", f"{c.get('image', '')}: not found (no data-plane app "
                                                         f"matches it)").message(c.get("image", ""))}

    def launch(self, pod, on_ready):
        """Starts the pod's app; once it answers, `on_ready(ctl)` runs under the controllers' lock
        (it marks the pod Running/Ready) and the pod joins its revision's backends."""
        meta = pod["metadata"]
        key = ("", "Pod", meta.get("namespace", ""), meta["name"])
        c = self._user_container(pod)
        app = AppProcess(key, meta["uid"], self._app_for(c.get("image", "")), container_env(c))
        with self._lock:
            old = self._apps.pop(key, None)
            self._apps[key] = app
        if old:
            stop_in_background(old)
        revision = (meta.get("namespace", ""), meta["labels"][REVISION_LABEL])

        def watch():
            if not app.wait_answering(self._stopped):
                return

            def ready(ctl):
                with self._lock:
                    if self._apps.get(key) is not app:
                        return  # the pod went away meanwhile
                pod_now = ctl.store.get(*key)
                if pod_now is None or pod_now["metadata"]["uid"] != app.uid:
                    return
                on_ready(ctl, pod_now)
                with self._lock:
                    state = self._revision(revision)
                    state.backends.append(_Backend(meta["name"], app.port))
                    self._lock.notify_all()

            self.ctl.later(0, ready)

        threading.Thread(target=watch, name=f"ready-{meta['name']}", daemon=True).start()

    def _on_event(self, event_type, obj):
        meta = obj.get("metadata") or {}
        if obj.get("kind") == "Pod" and (event_type == "DELETED" or meta.get("deletionTimestamp")):
            key = ("", "Pod", meta.get("namespace", ""), meta.get("name"))
            with self._lock:
                app = self._apps.get(key)
                if app is None or app.uid != meta.get("uid"):
                    return
                del self._apps[key]
                labels = meta.get("labels") or {}
                state = self._revisions.get((meta.get("namespace", ""), labels.get(REVISION_LABEL)))
                gone = [b for b in state.backends if b.pod_name == meta.get("name")] if state else []
                if state:
                    state.backends = [b for b in state.backends if b.pod_name != meta.get("name")]
            for backend in gone:
                backend.retire()
            stop_in_background(app)  # SIGTERM: the app finishes the request in flight
        elif obj.get("kind") == "Service" and obj.get("apiVersion") == "v1" \
                and (meta.get("namespace"), meta.get("name")) in GATEWAY_SERVICES:
            key = (meta.get("namespace"), meta.get("name"))
            if event_type == "DELETED":
                self._node_ports.close(key)
            else:
                self.ctl.later(0, lambda ctl: self._expose_gateway(ctl, *key))

    def _expose_gateway(self, ctl, namespace, name):
        """Annotates the gateway Service with the front's port and has the front listen on its
        HTTP nodePort (another free one, written back, if that is taken here)."""
        svc = ctl.store.get("", "Service", namespace, name)
        if svc is None or self._stopped.is_set():
            return
        changed = False
        port = self.emulator.gateway.rpartition(":")[2]
        if (svc["metadata"].get("annotations") or {}).get(PORT_ANNOTATION) != port:
            svc["metadata"].setdefault("annotations", {})[PORT_ANNOTATION] = port
            changed = True
        http = http_port(svc)
        wanted = (http or {}).get("nodePort")
        if wanted and self._node_ports.port_of((namespace, name)) != wanted:
            bound = self._node_ports.listen((namespace, name), wanted)
            if bound and bound != wanted:
                http["nodePort"] = bound
                changed = True
        elif not wanted:
            self._node_ports.close((namespace, name))  # a ClusterIP Service has no node port
        if changed:
            ctl.store.put(svc)

    # --- the KPA ----------------------------------------------------------------------------------
    def _revision(self, key):
        """The per-revision state; call with self._lock held."""
        state = self._revisions.get(key)
        if state is None:
            state = self._revisions[key] = _Revision(time.monotonic())
        return state

    def _autoscale_loop(self):
        while not self._stopped.is_set():
            self._wake.wait(float(getattr(self.options, "kpa_tick", 0.2) or 0.2))
            self._wake.clear()
            if self._stopped.is_set():
                return
            try:
                self._autoscale()
            except Exception:
                log.exception("dataplane: autoscaler tick failed")

    def _autoscale(self):
        now = time.monotonic()
        window = float(self.options.kpa_stable_window)
        grace = float(self.options.scale_to_zero_grace)
        for rev in self.emulator.store.list(SERVING, "Revision"):
            ns, name = rev["metadata"]["namespace"], rev["metadata"]["name"]
            with self._lock:
                state = self._revision((ns, name))
                if not state.ready_once:
                    if not _ready(rev):
                        continue  # a revision that never came up is not scaled (its pods say why)
                    state.ready_once = True
                    state.autoscaler.last_active = now
                state.autoscaler.record(now, state.in_flight, window)
                desired = state.autoscaler.desired(now, state.in_flight, target_of(rev), grace)
            self._scale(ns, f"{name}-deployment", desired)

    def _scale(self, namespace, deployment, replicas):
        with self.ctl.lock:
            d = self.emulator.store.get("apps", "Deployment", namespace, deployment)
            if d is None or (d.get("spec") or {}).get("replicas") == replicas:
                return
            if replicas == 0:  # from here the gateway holds requests (the activator's part)
                with self._lock:
                    state = self._revision((namespace, deployment[:-len("-deployment")]))
                    gone, state.backends = state.backends, []
                for backend in gone:
                    backend.retire()
            d["spec"]["replicas"] = replicas
            self.emulator.store.put(d, manager="autoscaler")

    # --- the gateway ------------------------------------------------------------------------------
    def route(self, host):
        """(namespace, revision) serving `host`, or None."""
        host = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        for ksvc in self.emulator.store.list(SERVING, "Service"):
            status = ksvc.get("status") or {}
            url = status.get("url") or ""
            if url.split("://", 1)[-1].rstrip("/").lower() != host:
                continue
            traffic = [t for t in status.get("traffic") or [] if t.get("revisionName")]
            revision = traffic[0]["revisionName"] if traffic else status.get("latestReadyRevisionName")
            return (ksvc["metadata"]["namespace"], revision) if revision else None
        return None

    def begin(self, key):
        with self._lock:
            state = self._revision(key)
            state.in_flight += 1
            state.autoscaler.record(time.monotonic(), state.in_flight, float(self.options.kpa_stable_window))
            cold = not state.backends
        if cold:
            self._wake.set()  # like the activator poking the autoscaler: a cold start begins at once

    def pick(self, key):
        """The least loaded ready backend, waiting for one up to cold_start_timeout; None if none came."""
        deadline = time.monotonic() + float(self.options.cold_start_timeout)
        with self._lock:
            state = self._revision(key)
            while not state.backends:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopped.is_set():
                    return None
                self._lock.wait(min(left, 0.5))
            backend = min(state.backends, key=lambda b: b.in_flight)
            backend.in_flight += 1
            return backend

    def drop(self, key, backend):
        """Forgets a backend that refused a connection (its pod is going away)."""
        with self._lock:
            state = self._revision(key)
            state.backends = [b for b in state.backends if b is not backend]
            backend.in_flight -= 1
        backend.retire()

    def end(self, key, backend):
        with self._lock:
            state = self._revision(key)
            state.in_flight -= 1
            state.autoscaler.record(time.monotonic(), state.in_flight, float(self.options.kpa_stable_window))
            state.autoscaler.last_active = time.monotonic()
            if backend is not None:
                backend.in_flight -= 1


def _ready(obj):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


class _Front(BaseHTTPRequestHandler):
    """The gateway's request handler: route by Host, hold at zero, forward, stream back."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # TCP_NODELAY
    plane = None

    def log_message(self, *args):
        pass

    def _serve(self):
        host = self.headers.get("Host", "")
        key = self.plane.route(host)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if key is None:
            return self._reply(404, b"")  # what Envoy answers for a host no route matches
        self.plane.begin(key)
        backend = None
        try:
            for _ in range(3):  # a pod being deleted may refuse: try another (or wait for one)
                backend = self.plane.pick(key)
                if backend is None:
                    return self._reply(503, f"no pod of revision {key[1]} in namespace {key[0]} became ready "
                                            f"within {self.plane.options.cold_start_timeout}s\n".encode())
                error = self._forward(backend, body)
                if error is None:
                    return
                self.plane.drop(key, backend)
                backend = None
            self._reply(502, f"pod {error[0]} of revision {key[1]} did not answer: {error[1]}\n".encode())
        finally:
            self.plane.end(key, backend)

    def _forward(self, backend, body):
        """Sends the request to `backend` and streams the answer; (pod, error) if it cannot connect."""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        for attempt in (0, 1):
            conn = backend.take_idle() if attempt == 0 else None
            pooled = conn is not None
            conn = conn or http.client.HTTPConnection("127.0.0.1", backend.port, timeout=300)
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                break
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                if not pooled:  # a fresh connection failed: the pod is gone or broken
                    return backend.pod_name, e
        try:
            self._stream_back(resp)
        except BaseException:
            conn.close()  # the client or the pod went away mid-answer: the connection is spent
            raise
        if resp.will_close:
            conn.close()
        else:
            backend.give_back(conn)
        return None

    def _stream_back(self, resp):
        self.send_response(resp.status, resp.reason)
        length = resp.getheader("Content-Length")
        for k, v in resp.getheaders():
            if k.lower() not in _HOP_BY_HOP and k.lower() not in ("content-length", "date", "server"):
                self.send_header(k, v)
        data = None if length is not None else resp.read()
        self.send_header("Content-Length", length if length is not None else str(len(data)))
        self.end_headers()
        if data is not None:
            self.wfile.write(data)
        else:
            while True:
                chunk = resp.read(65536)
                if not chunk:
                    break
                self.wfile.write(chunk)

    def _reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        if body:
            self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve
