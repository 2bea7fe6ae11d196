"""Namespace lifecycle as the namespace controller and the service-account controller run it:
the initial namespaces, a "default" ServiceAccount in every namespace, and deletion: the namespace
turns Terminating (new content is refused with the real 403), its content is deleted, and once
it is empty (and namespace_finalize_delay has passed) the namespace itself goes."""

import datetime

from . import errors
from .store import clone


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

INITIAL = ("default", "kube-system", "kube-public", "kube-node-lease")
UNDELETABLE = ("default", "kube-system", "kube-public")
RETRY_SECONDS = 0.2  # how often a Terminating namespace looks again at content held by finalizers


def namespace_object(name):
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


class NamespaceLifecycle:
    def attach(self, emulator):
        self.emulator = emulator
        self.store = emulator.store
        self.store.delete_hooks[("", "Namespace")] = self._begin_deletion
        self.store.subscribe(self._on_event)
        with self.store.lock:
            for name in INITIAL:
                if self.store.raw("", "Namespace", "", name) is None:
                    self.store.write(namespace_object(name), None)

    def _on_event(self, event_type, obj):
        if event_type != "ADDED" or obj.get("kind") != "Namespace" or obj.get("apiVersion") != "v1":
            return
        name = obj["metadata"]["name"]
        sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}}
        with self.store.lock:
            ns = self.store.raw("", "Namespace", "", name)
            if ns and not ns["metadata"].get("deletionTimestamp") \
                    and self.store.raw("", "ServiceAccount", name, "default") is None:
                self.store.write(sa, None)

    def _begin_deletion(self, live):
        """The DELETE of a namespace (caller holds the store lock): returns it, now Terminating."""
        name = live["metadata"]["name"]
        if name in UNDELETABLE:
            raise errors.ApiError(403, "Forbidden",
                                  f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                                  {"name": name, "kind": "namespaces"})
        if live["metadata"].get("deletionTimestamp"):
            return live
        terminating = clone(live)
        terminating.setdefault("status", {})["phase"] = "Terminating"
        new = self.store.mark_deleting(terminating)
        self.emulator.after(0, lambda: self._empty(name))
        return new

    def _empty(self, name):
        """Deletes the namespace's content; when none is left, removes the namespace after the delay."""
        with self.store.lock:
            content = [o for o in self.store.raw_all() if o["metadata"].get("namespace") == name]
            for obj in content:
                self.store.delete_object(obj)
            remaining = [o for o in self.store.raw_all() if o["metadata"].get("namespace") == name]
        if remaining:
            self._report_remaining(name, remaining)
            self.emulator.after(RETRY_SECONDS, lambda: self._empty(name))
        else:
            self.emulator.after(self.emulator.options.namespace_finalize_delay, lambda: self._finish(name))

    def _report_remaining(self, name, remaining):
        """The conditions the namespace controller writes while content is held, worded as it words
        them ("configmaps. has 2 resource instances", finalizers sorted by name)."""
        by_resource, by_finalizer = {}, {}
        for obj in remaining:
            group = obj.get("apiVersion", "").rpartition("/")[0]
            t = self.emulator.catalog.by_kind(group, obj.get("kind"))
            resource = f"{t.plural if t else obj.get('kind', '').lower() + 's'}.{group}"
            by_resource[resource] = by_resource.get(resource, 0) + 1
            for f in obj["metadata"].get("finalizers") or []:
                by_finalizer[f] = by_finalizer.get(f, 0) + 1
        now = _now()
        wanted = [
            ("NamespaceDeletionDiscoveryFailure", "False", "ResourcesDiscovered", "All resources successfully discovered"),
            ("NamespaceDeletionGroupVersionParsingFailure", "False", "ParsedGroupVersions",
             "All legacy kube types successfully parsed"),
            ("NamespaceDeletionContentFailure", "False", "ContentDeleted",
             "All content successfully deleted, may be waiting on finalization"),
            ("NamespaceContentRemaining", "True", "SomeResourcesRemain", "Some resources are remaining: " +
             ", ".join(f"{r} has {n} resource instances" for r, n in sorted(by_resource.items()))),
        ]
        if by_finalizer:
            wanted.append(("NamespaceFinalizersRemaining", "True", "SomeFinalizersRemain",
                           "Some content in the namespace has finalizers remaining: " +
                           ", ".join(f"{f} in {n} resource instances" for f, n in sorted(by_finalizer.items()))))
        else:
            wanted.append(("NamespaceFinalizersRemaining", "False", "ContentHasNoFinalizers",
                           "All content-preserving finalizers finished"))
        with self.store.lock:
            ns = self.store.raw("", "Namespace", "", name)
            if ns is None:
                return
            old = {c["type"]: c for c in (ns.get("status") or {}).get("conditions") or []}
            conditions = []
            for kind, status, reason, message in wanted:
                c = {"type": kind, "status": status, "reason": reason, "message": message,
                     "lastTransitionTime": old.get(kind, {}).get("lastTransitionTime") or now}
                if old.get(kind, {}).get("status") not in (None, status):
                    c["lastTransitionTime"] = now
                conditions.append(c)
            status = dict(ns.get("status") or {}, conditions=conditions)
            if status != ns.get("status"):
                self.store.put_status("", "Namespace", "", name, status)

    def _finish(self, name):
        with self.store.lock:
            if any(o["metadata"].get("namespace") == name for o in self.store.raw_all()):
                self.emulator.after(RETRY_SECONDS, lambda: self._empty(name))  # content came back
                return
            ns = self.store.raw("", "Namespace", "", name)
            if ns is not None:
                self.store.remove(ns)
