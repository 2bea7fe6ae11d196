"""CRD lifecycle as kube-apiserver's apiextensions controllers run it: a new CRD gets NamesAccepted
at once and Established after `crd_established_delay` (until then its kinds are absent from
discovery and requests for them get 404); deleting a CRD deletes its custom resources first."""

from .discovery import CRD_GROUP, CRD_KIND
from .store import clone, now_rfc3339

CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"


def _condition(type_, reason, message):
    return {"type": type_, "status": "True", "lastTransitionTime": now_rfc3339(), "reason": reason,
            "message": message}


def accepted_names(spec):
    names = clone(spec.get("names") or {})
    names.setdefault("singular", (names.get("kind") or "").lower())
    names.setdefault("listKind", (names.get("kind") or "") + "List")
    return names


def storage_version(spec):
    for v in spec.get("versions") or []:
        if v.get("storage"):
            return v["name"]
    return None


class CrdLifecycle:
    def attach(self, emulator):
        self.emulator = emulator
        self.store = emulator.store
        self._scheduled = set()  # uids whose Established is on a timer
        self.store.delete_hooks[(CRD_GROUP, CRD_KIND)] = self._begin_deletion
        self.store.subscribe(self._on_event)

    def _on_event(self, event_type, obj):
        if obj.get("kind") != CRD_KIND or event_type == "DELETED" or obj["metadata"].get("deletionTimestamp"):
            return
        if not obj["apiVersion"].startswith(CRD_GROUP + "/"):
            return
        name, uid = obj["metadata"]["name"], obj["metadata"]["uid"]
        types = {c.get("type") for c in (obj.get("status") or {}).get("conditions") or []}
        if "NamesAccepted" not in types:
            self._set_status(name, uid, established=False)
        if "Established" not in types and uid not in self._scheduled:
            self._scheduled.add(uid)
            self.emulator.after(self.emulator.options.crd_established_delay,
                                lambda: self._set_status(name, uid, established=True))

    def _set_status(self, name, uid, established):
        with self.store.lock:
            live = self.store.raw(CRD_GROUP, CRD_KIND, "", name)
            if live is None or live["metadata"]["uid"] != uid or live["metadata"].get("deletionTimestamp"):
                return
            status = clone(live.get("status") or {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") not in
                          ("NamesAccepted", "Established")]
            conditions.append(_condition("NamesAccepted", "NoConflicts", "no conflicts found"))
            if established:
                conditions.append(_condition("Established", "InitialNamesAccepted",
                                             "the initial names have been accepted"))
            status["conditions"] = conditions
            status["acceptedNames"] = accepted_names(live["spec"])
            stored = storage_version(live["spec"])
            status["storedVersions"] = sorted(set(status.get("storedVersions") or []) | ({stored} if stored else set()))
            self.store.put_status(CRD_GROUP, CRD_KIND, "", name, status)

    def _begin_deletion(self, live):
        """DELETE of a CRD (caller holds the store lock): Terminating now, gone once its CRs are."""
        if live["metadata"].get("deletionTimestamp"):
            return live
        terminating = clone(live)
        status = terminating.setdefault("status", {})
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "Terminating"]
        status["conditions"].append(_condition("Terminating", "InstanceDeletionInProgress",
                                               "CustomResource deletion is in progress"))
        new = self.store.mark_deleting(terminating)
        self.emulator.after(0, lambda: self._clean_up(live["metadata"]["name"]))
        return new

    def _clean_up(self, name):
        with self.store.lock:
            crd = self.store.raw(CRD_GROUP, CRD_KIND, "", name)
            if crd is None:
                return
            group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
            for cr in self.store.raw_list(group, kind):
                self.store.remove(cr)
            self._scheduled.discard(crd["metadata"]["uid"])
            self.store.remove(crd)
