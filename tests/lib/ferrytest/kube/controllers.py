"""The emulator's simulated controllers (what kube-controller-manager, the kubelet and Knative's
controller would do), wired to the store: every change schedules a reconcile of the object and of
its owners; reconciles run one at a time on the emulator's timer thread(s), read fresh copies from
the store and write only when something differs, so the chain settles. The per-kind logic lives
in workloads.py, pods.py, services.py and knative.py; this file is the loop and shared helpers."""

import datetime
import logging
import threading

from . import knative, pods, services, workloads
from .errors import ApiError
from .image_check import ImageChecker
from .workload_status import api_group, key_of, owned_by

log = logging.getLogger("ferrytest.kube")

_MODULES = (workloads, pods, services, knative)


def install(emulator):
    """Attaches the controllers to `emulator` (through add_controller when it has one)."""
    controllers = Controllers()
    if hasattr(emulator, "add_controller"):
        emulator.add_controller(controllers)
    else:
        controllers.attach(emulator)
    return controllers


class Controllers:
    def __init__(self):
        self.lock = threading.RLock()  # one reconcile at a time
        self.images = ImageChecker()
        self.state = {}  # per-module memory that is not in the store (progress deadlines, ...)
        self._pending = set()
        self._pending_lock = threading.Lock()
        self._ip_counter = 10
        self._handlers = {}
        for module in _MODULES:
            self._handlers.update(module.HANDLERS)
        self.emulator = self.store = None

    def attach(self, emulator):
        self.emulator, self.store = emulator, emulator.store
        self.store.subscribe(self._on_event)

    @property
    def options(self):
        return self.emulator.options

    # --- scheduling ---------------------------------------------------------------------------
    def _on_event(self, event_type, obj):
        group, kind, namespace, _ = key = key_of(obj)
        if (group, kind) in self._handlers and event_type != "DELETED":
            self.schedule(key)
        for ref in obj["metadata"].get("ownerReferences") or []:
            owner = (api_group(ref.get("apiVersion")), ref.get("kind"), namespace, ref.get("name"))
            if owner[:2] in self._handlers:
                self.schedule(owner)
        for module in _MODULES:
            if hasattr(module, "on_event"):
                module.on_event(self, event_type, obj)

    def schedule(self, key, delay=0):
        """Reconciles the object `key` (group, kind, namespace, name) soon, or after `delay` seconds."""
        if not delay:
            with self._pending_lock:
                if key in self._pending:
                    return
                self._pending.add(key)
        self.emulator.after(delay, lambda: self._reconcile(key, pending=not delay))

    def later(self, delay, fn):
        """Runs fn(self) after `delay` seconds, under the controllers' lock."""
        self.emulator.after(delay, lambda: self._guarded(fn, "timer"))

    def _reconcile(self, key, pending):
        if pending:
            with self._pending_lock:
                self._pending.discard(key)

        def run(ctl):
            obj = ctl.store.get(*key)
            if obj is not None and not obj["metadata"].get("deletionTimestamp"):
                ctl._handlers[key[:2]](ctl, obj)

        self._guarded(run, key)

    def _guarded(self, fn, what):
        try:
            with self.lock:
                fn(self)
        except ApiError as e:  # e.g. the namespace went away meanwhile
            log.info("controller: %s: %s", what, e.message)
        except Exception:  # keep the other controllers running; the log says what broke
            log.exception("controller failed on %s", what)

    # --- helpers for the per-kind modules -----------------------------------------------------
    @staticmethod
    def now():
        return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def set_status(self, obj, status):
        """Writes `status` unless the object already has exactly it. A pod's status gets the
        fields a kubelet always writes, empty: lastProbeTime in each condition, lastState in each
        container status."""
        if obj.get("kind") == "Pod" and obj.get("apiVersion") == "v1":
            status = dict(status)
            status["conditions"] = [dict({"lastProbeTime": None}, **c) for c in status.get("conditions") or []]
            for field in ("containerStatuses", "initContainerStatuses"):
                if field in status:
                    status[field] = [dict({"lastState": {}}, **c) for c in status[field]]
        if obj.get("status") != status:
            group, kind, namespace, name = key_of(obj)
            self.store.put_status(group, kind, namespace, name, status)

    def put_if_changed(self, live, wanted):
        """Stores `wanted` if it differs from `live` (None = create); returns the stored object."""
        if live is not None and _body(live) == _body(wanted) and _same_meta(live, wanted):
            return live
        return self.store.put(wanted)

    def owned(self, group, kind, owner):
        namespace = owner["metadata"].get("namespace")
        return [o for o in self.store.list(group, kind, namespace)
                if owned_by(o, owner) and not o["metadata"].get("deletionTimestamp")]

    def delay_for(self, names):
        """The configured start-up delay for a workload known by any of `names` (pod, owners)."""
        delays = getattr(self.options, "workload_delays", None) or {}
        for name in names:
            if name in delays:
                return float(delays[name])
        return float(getattr(self.options, "workload_ready_delay", 0) or 0)

    def next_pod_ip(self):
        self._ip_counter += 1
        return f"10.244.{self._ip_counter // 250}.{self._ip_counter % 250 + 2}"


def _body(obj):
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "metadata", "status")}


def _same_meta(live, wanted):
    lm, wm = live.get("metadata") or {}, wanted.get("metadata") or {}
    return all(lm.get(k) == wm.get(k) for k in ("labels", "annotations", "ownerReferences") if k in wm)
