"""WATCH: a stream of {"type", "object"} events (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) from
the store's history, filtered by kind, namespace and selectors; synthetic ADDED events for the
current state when no resourceVersion is given; the real 410 Expired ERROR event when the asked
resourceVersion is older than the history; periodic BOOKMARKs when the client allows them."""

import time

from .auth import authorize
from .selectors import FieldSelector, LabelSelector
from .store import Expired, clone
from .table import to_table, wants_table


def _expired_event(e):
    return {"type": "ERROR", "object": {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                        "status": "Failure", "message": str(e), "reason": "Expired",
                                        "code": 410}}


def stream(emulator, req, accept, begin, send):
    """Runs one watch: checks the request (raising ApiError before anything is sent), calls
    begin() (the response headers go out at once, as clients wait for them), then send(event
    dict) per event until the timeout, the client going away (OSError) or the emulator stopping."""
    t = req.rtype
    authorize(req.identity, "watch", t.group, t.plural, req.namespace, None)
    store, options = emulator.store, emulator.options
    labels = LabelSelector.parse(req.query.get("labelSelector"))
    fields = FieldSelector.parse(req.query.get("fieldSelector"))
    table = wants_table(accept)
    timeout = float(req.query.get("timeoutSeconds") or options.watch_timeout)
    deadline = time.monotonic() + timeout
    bookmarks = req.query.get("allowWatchBookmarks") in ("true", "1")
    api_version = t.api_version(req.version)

    def ours(obj):
        m = obj["metadata"]
        return (obj.get("kind") == t.kind and obj.get("apiVersion", "").rpartition("/")[0] == t.group
                and (not req.namespace or m.get("namespace") == req.namespace))

    def emit(event_type, obj):
        out = clone(obj)
        out["apiVersion"] = api_version
        if table:
            out = to_table(t, [out], out["metadata"].get("resourceVersion", ""))
        send({"type": event_type, "object": out})

    def bookmark(rv, initial_end=False):
        m = {"resourceVersion": str(rv), "creationTimestamp": None}
        if initial_end:
            m["annotations"] = {"k8s.io/initial-events-end": "true"}
        send({"type": "BOOKMARK", "object": {"kind": t.kind, "apiVersion": api_version, "metadata": m}})

    begin()
    rv_param = req.query.get("resourceVersion") or ""
    initial = req.query.get("sendInitialEvents") == "true" or rv_param in ("", "0")
    if initial:
        with store.lock:
            last = store.resource_version
            current = [o for o in store.raw_list(t.group, t.kind, req.namespace or None)
                       if labels.matches(o) and fields.matches(o)]
        for obj in current:
            emit("ADDED", obj)
        if req.query.get("sendInitialEvents") == "true" and bookmarks:
            bookmark(last, initial_end=True)
    else:
        try:
            last = int(rv_param)
        except ValueError:
            send(_expired_event(f"invalid resource version: {rv_param}"))
            return
    last_bookmark = time.monotonic()
    while True:
        try:
            events = store.events_after(last)
        except Expired as e:
            send(_expired_event(e))
            return
        for rv, event_type, obj in events:
            last = rv
            if ours(obj) and labels.matches(obj) and fields.matches(obj):
                emit(event_type, obj)
        now = time.monotonic()
        if now >= deadline:
            return
        if bookmarks and now - last_bookmark >= options.bookmark_interval:
            bookmark(last)
            last_bookmark = now
        wait = deadline - now
        if bookmarks:
            wait = min(wait, max(0.01, options.bookmark_interval - (now - last_bookmark)))
        if not store.wait_for_change(last, wait):
            return
