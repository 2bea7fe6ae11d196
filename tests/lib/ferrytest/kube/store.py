"""`Store`: every object the emulator holds, one global resourceVersion counter like etcd's, a
bounded event history for watches, and subscribers (controllers) told about each change.

Stored objects are never changed in place: a write stores a fresh dict, so the history can share
them and readers copy only what they hand out. Subscribers run on one dispatcher thread, in commit
order, outside the lock, so a subscriber may write to the store itself."""

import collections
import datetime
import json
import logging
import queue
import threading
import uuid

from . import errors

log = logging.getLogger("ferrytest.kube")


def clone(obj):
    """A deep copy of a JSON-like value (faster than copy.deepcopy for big CRDs)."""
    return json.loads(json.dumps(obj))


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def split_api_version(api_version):
    """'apps/v1' -> ('apps', 'v1'); 'v1' -> ('', 'v1')."""
    group, _, version = (api_version or "").rpartition("/")
    return group, version


def meta(obj):
    return obj.setdefault("metadata", {})


def key_of(obj):
    group, _ = split_api_version(obj.get("apiVersion"))
    m = obj.get("metadata") or {}
    return group, obj.get("kind"), m.get("namespace") or "", m.get("name")


def _without(obj, *fields):
    return {k: v for k, v in obj.items() if k not in fields}


def _same_content(new, live):
    """Equal but for resourceVersion and managedFields timestamps (which a no-op apply renews)."""
    def strip(obj):
        out = dict(obj)
        m = dict(obj.get("metadata") or {})
        m.pop("resourceVersion", None)
        m["managedFields"] = [{k: v for k, v in e.items() if k != "time"} for e in m.get("managedFields") or []]
        out["metadata"] = m
        return out
    return strip(new) == strip(live)


class Expired(Exception):
    """A watch asked for a resourceVersion older than the history holds (the 410 Gone case)."""

    def __init__(self, requested, oldest):
        super().__init__(f"too old resource version: {requested} ({oldest})")


class Store:
    def __init__(self, history=1000):
        self.lock = threading.RLock()
        self.history_limit = history
        self.type_of = None  # fn(group, kind) -> ResourceType | None, set by the Emulator
        self.delete_hooks = {}  # (group, kind) -> fn(obj): takes over deletion (namespaces, CRDs)
        self._objects = {}  # (group, kind, namespace, name) -> object
        self._rv = 0
        self._history = collections.deque()  # (rv, event_type, object)
        self._oldest_rv = 0  # the history holds every event with rv > _oldest_rv
        self._changed = threading.Condition()
        self._closed = False
        self._subscribers = []
        self._events = queue.Queue()
        self._dispatcher = None

    # --- the interface controllers and admission use -----------------------------------------
    def get(self, group, kind, namespace, name):
        with self.lock:
            obj = self._objects.get((group, kind, namespace or "", name))
            return clone(obj) if obj is not None else None

    def list(self, group, kind, namespace=None, label_selector=None):
        from .selectors import LabelSelector
        selector = LabelSelector.parse(label_selector)
        with self.lock:
            found = [o for o in self.raw_list(group, kind, namespace) if selector.matches(o)]
            return [clone(o) for o in found]

    def put(self, obj, manager="emulator-controller"):
        """Creates or replaces `obj` as a controller would (see the class comment); returns a copy."""
        obj = clone(obj)
        group, kind, namespace, name = key_of(obj)
        with self.lock:
            live = self._objects.get((group, kind, namespace, name))
            if live is None:
                self.check_namespace(namespace, creating=True, group=group, kind=kind, name=name)
            try:
                from . import ssa
                obj = ssa.record_update(live, obj, manager, "Update", now_rfc3339())
            except ImportError:
                pass
            return clone(self.write(obj, live))

    def put_status(self, group, kind, namespace, name, status):
        with self.lock:
            live = self._objects.get((group, kind, namespace or "", name))
            if live is None:
                return None
            new = dict(live)
            new["status"] = clone(status)
            return clone(self.write(new, live))

    def delete(self, group, kind, namespace, name):
        with self.lock:
            live = self._objects.get((group, kind, namespace or "", name))
            if live is not None:
                self.delete_object(live)

    def subscribe(self, fn):
        with self.lock:
            self._subscribers.append(fn)
            if self._dispatcher is None:
                self._dispatcher = threading.Thread(target=self._dispatch, name="kube-store-dispatch",
                                                    daemon=True)
                self._dispatcher.start()

    # --- used by the server ------------------------------------------------------------------
    @property
    def resource_version(self):
        return self._rv

    def raw(self, group, kind, namespace, name):
        """The stored object itself (do not change it); caller holds the lock."""
        return self._objects.get((group, kind, namespace or "", name))

    def raw_list(self, group, kind, namespace=None):
        """Stored objects of a kind sorted by namespace/name (do not change them); caller holds the lock."""
        out = [o for (g, k, ns, _), o in self._objects.items()
               if g == group and k == kind and (namespace is None or ns == namespace)]
        out.sort(key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        return out

    def raw_all(self):
        return list(self._objects.values())

    def check_namespace(self, namespace, creating, group="", kind="", name=""):
        """Raises the API server's errors for a missing namespace, or (on create) a terminating one."""
        if not namespace:
            return
        ns = self._objects.get(("", "Namespace", "", namespace))
        if ns is None:
            raise errors.not_found("", "namespaces", namespace)
        if creating and ns["metadata"].get("deletionTimestamp"):
            plural = self._plural(group, kind)
            raise errors.ApiError(
                403, "Forbidden",
                f'{errors.resource_label(group, plural)} "{name}" is forbidden: unable to create new '
                f"content in namespace {namespace} because it is being terminated",
                {"name": name, "group": group, "kind": plural,
                 "causes": [{"reason": "NamespaceTerminating", "field": "metadata.namespace",
                             "message": f"namespace {namespace} is being terminated"}]})

    def write(self, new, live, dry_run=False):
        """Stores `new` (replacing `live`, the stored object or None): keeps uid and
        creationTimestamp, sets resourceVersion, keeps or bumps generation. An object being
        deleted whose last finalizer went away is removed instead. Caller holds the lock.
        Returns the stored object (or, for dry_run, what would have been stored)."""
        m = meta(new)
        rtype = self.type_of(*key_of(new)[:2]) if self.type_of else None
        if live is None:
            m["uid"] = m.get("uid") or str(uuid.uuid4())
            m["creationTimestamp"] = now_rfc3339()
            if rtype is None or rtype.generation:
                m["generation"] = 1
            else:
                m.pop("generation", None)
        else:
            lm = live["metadata"]
            m["uid"], m["creationTimestamp"] = lm["uid"], lm["creationTimestamp"]
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                if field in lm:
                    m[field] = lm[field]
                else:
                    m.pop(field, None)
            if "generation" in lm:
                changed = _without(new, "metadata", "status", "apiVersion") != \
                    _without(live, "metadata", "status", "apiVersion")
                m["generation"] = lm["generation"] + (1 if changed else 0)
            else:
                m.pop("generation", None)
        if dry_run:
            if live is None:
                m.pop("resourceVersion", None)
            return new
        # A terminating namespace is held by spec.finalizers ("kubernetes": the namespace controller
        # removes it once the content is gone), not only by metadata.finalizers.
        held = m.get("finalizers") or (new.get("kind") == "Namespace" and (new.get("spec") or {}).get("finalizers"))
        if live is not None and m.get("deletionTimestamp") and not held:
            self.remove(live)
            return new
        if live is not None and _same_content(new, live):
            return live  # a no-op write stores nothing and keeps the resourceVersion, as etcd3 does
        self._rv += 1
        m["resourceVersion"] = str(self._rv)
        self._objects[key_of(new)] = new
        self._record("MODIFIED" if live is not None else "ADDED", new)
        return new

    def delete_object(self, live, propagation="Background"):
        """DELETE semantics for a stored object: hooks for namespaces/CRDs, finalizers make it
        Terminating (deletionTimestamp), otherwise it goes now and its dependents are collected.
        Returns (object, removed_now). Caller holds the lock."""
        group, kind = key_of(live)[:2]
        hook = self.delete_hooks.get((group, kind))
        if hook is not None:
            return hook(live), False
        if live["metadata"].get("finalizers"):
            if live["metadata"].get("deletionTimestamp"):
                return live, False
            new = clone(live)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            self._rv += 1
            new["metadata"]["resourceVersion"] = str(self._rv)
            self._objects[key_of(new)] = new
            self._record("MODIFIED", new)
            return new, False
        self.remove(live, collect=propagation != "Orphan")
        return live, True

    def mark_deleting(self, live):
        """Sets deletionTimestamp on a stored object and stores it (namespaces, CRDs); returns it."""
        new = clone(live)
        new["metadata"].setdefault("deletionTimestamp", now_rfc3339())
        self._rv += 1
        new["metadata"]["resourceVersion"] = str(self._rv)
        self._objects[key_of(new)] = new
        self._record("MODIFIED", new)
        return new

    def remove(self, live, collect=True):
        """Removes a stored object now (DELETED event) and, if `collect`, the objects it owns."""
        key = key_of(live)
        if self._objects.pop(key, None) is None:
            return
        self._rv += 1
        gone = clone(live)
        gone["metadata"]["resourceVersion"] = str(self._rv)
        self._record("DELETED", gone)
        if collect:
            uid = live["metadata"].get("uid")
            for dependent in [o for o in self._objects.values() if self._owned_only_by(o, uid)]:
                if key_of(dependent) in self._objects:
                    self.delete_object(dependent)

    def _owned_only_by(self, obj, uid):
        """True if `uid` is among obj's owners and no other owner of it is still stored."""
        refs = obj["metadata"].get("ownerReferences") or []
        if not any(r.get("uid") == uid for r in refs):
            return False
        living = {o["metadata"].get("uid") for o in self._objects.values()}
        return not any(r.get("uid") != uid and r.get("uid") in living for r in refs)

    # --- watch support ------------------------------------------------------------------------
    def events_after(self, rv):
        """[(rv, type, object)] committed after `rv`; raises Expired if the history lost some."""
        with self.lock:
            if rv < self._oldest_rv:
                raise Expired(rv, self._oldest_rv + 1)
            return [e for e in self._history if e[0] > rv]

    def wait_for_change(self, rv, timeout):
        """Blocks until an event newer than `rv` is committed, the store closes, or `timeout`."""
        with self._changed:
            self._changed.wait_for(lambda: self._rv > rv or self._closed, timeout)
        return not self._closed

    def compact(self):
        """Forgets the whole event history (what etcd compaction does): older watches get 410."""
        with self.lock:
            self._history.clear()
            self._oldest_rv = self._rv

    def close(self):
        with self._changed:
            self._closed = True
            self._changed.notify_all()
        self._events.put(None)

    # --- internals ----------------------------------------------------------------------------
    def _record(self, event_type, obj):
        self._history.append((self._rv, event_type, obj))
        while len(self._history) > self.history_limit:
            self._oldest_rv = self._history.popleft()[0]
        if self._subscribers:
            self._events.put((event_type, obj))
        with self._changed:
            self._changed.notify_all()

    def _plural(self, group, kind):
        rtype = self.type_of(group, kind) if self.type_of else None
        return rtype.plural if rtype else (kind or "").lower() + "s"

    def _dispatch(self):
        while True:
            item = self._events.get()
            if item is None:
                return
            event_type, obj = item
            for fn in list(self._subscribers):
                try:
                    fn(event_type, clone(obj))
                except Exception:  # a broken controller must not stop the others
                    log.exception("store subscriber failed on %s %s", event_type, key_of(obj))
