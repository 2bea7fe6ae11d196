"""Namespace lifecycle as the namespace controller and the service-account controller run it:
the initial namespaces, a "default" ServiceAccount in every namespace, and deletion: the namespace
turns Terminating (new content is refused with the real 403), its content is deleted, and once
it is empty (and namespace_finalize_delay has passed) the namespace itself goes."""

from . import errors
from .store import clone

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
            self.emulator.after(RETRY_SECONDS, lambda: self._empty(name))
        else:
            self.emulator.after(self.emulator.options.namespace_finalize_delay, lambda: self._finish(name))

    def _finish(self, name):
        with self.store.lock:
            if any(o["metadata"].get("namespace") == name for o in self.store.raw_all()):
                self.emulator.after(RETRY_SECONDS, lambda: self._empty(name))  # content came back
                return
            ns = self.store.raw("", "Namespace", "", name)
            if ns is not None:
                self.store.remove(ns)
