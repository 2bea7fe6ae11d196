"""The REST verbs on resources (get, list, create, update, patch incl. server-side apply, delete,
deletecollection, the status subresource, dryRun=All, the self-review kinds), with the API
server's checks and its Status errors. HTTP details (routing, auth, watch streaming) are in
server.py; this module works on decoded requests and returns (code, body)."""

import base64
import json
import random
import re
from dataclasses import dataclass, field

from . import defaults, errors, patch, ssa
from .admission_request import AdmissionRequest
from .auth import authorize
from .selectors import FieldSelector, LabelSelector
from .store import clone, now_rfc3339

MAX_ATTEMPTS = 5  # commits retried when the object changed while admission ran
_GENERATE_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # what the API server appends for generateName


@dataclass
class Request:
    identity: object
    rtype: object
    version: str
    namespace: str  # "" for cluster scope or an all-namespaces list
    name: str = ""
    subresource: str = ""
    query: dict = field(default_factory=dict)
    body: bytes = b""
    content_type: str = ""
    user_agent: str = ""

    @property
    def dry_run(self):
        return self.query.get("dryRun") == "All"

    @property
    def field_manager(self):
        return self.query.get("fieldManager") or (self.user_agent.split("/")[0] or "unknown")


def _bad_request(message):
    return errors.ApiError(400, "BadRequest", message)


def _decode(req):
    if "protobuf" in req.content_type or "cbor" in req.content_type:
        # Typed clients (kubectl create/scale/auth whoami) send protobuf; the emulator cannot
        # decode it and says so the way a server without that codec would.
        raise errors.ApiError(415, "UnsupportedMediaType",
                              f"the body of the request was in an unknown format - accepted media types "
                              f"include: application/json, application/yaml (got {req.content_type})")
    if not req.body:
        raise _bad_request("the body of the request is empty")
    try:
        obj = json.loads(req.body)
    except (ValueError, UnicodeDecodeError) as e:
        raise _bad_request(f"the body of the request is not JSON (the emulator reads JSON only): {e}")
    return obj


_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN_TEXT = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                   "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                   "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
_LABEL_TEXT = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must "
               "start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for "
               "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")


def _name_problem(t, name):
    """What the API server says of an object name it refuses: namespaces and services must be
    RFC 1123 labels, everything else (custom resources aside) a subdomain."""
    if t.custom:
        return None
    if t.group == "" and t.kind in ("Namespace", "Service"):
        return None if len(name) <= 63 and _LABEL.fullmatch(name) else _LABEL_TEXT
    return None if len(name) <= 253 and _SUBDOMAIN.fullmatch(name) else _SUBDOMAIN_TEXT


class Api:
    def __init__(self, emulator):
        self.em = emulator
        self.store = emulator.store

    # --- reads --------------------------------------------------------------------------------
    def get(self, req):
        self._authorize(req, "get")
        with self.store.lock:
            obj = self._live(req)
            return 200, self._out(req, obj)

    def list(self, req):
        self._authorize(req, "list")
        labels = LabelSelector.parse(req.query.get("labelSelector"))
        fields = FieldSelector.parse(req.query.get("fieldSelector"))
        with self.store.lock:
            rv = self.store.resource_version
            found = [o for o in self.store.raw_list(req.rtype.group, req.rtype.kind, req.namespace or None)
                     if labels.matches(o) and fields.matches(o)]
            items = [self._list_item(req, o) for o in found]
        meta = {"resourceVersion": str(rv)}
        start = self._continue_from(req)
        if start:
            items = [o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start]
        limit = int(req.query.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            token = json.dumps([last.get("namespace", ""), last["name"]])
            meta["continue"] = base64.urlsafe_b64encode(token.encode()).decode()
            meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        return 200, {"kind": req.rtype.kind + "List", "apiVersion": req.rtype.api_version(req.version),
                     "metadata": meta, "items": items}

    def _list_item(self, req, obj):
        """A List's item as the real server writes it: built-in kinds come out of typed lists with
        no kind/apiVersion of their own (the List names them); custom resources keep theirs."""
        item = self._out(req, obj)
        if not req.rtype.custom:
            item.pop("kind", None)
            item.pop("apiVersion", None)
        return item

    @staticmethod
    def _continue_from(req):
        token = req.query.get("continue")
        if not token:
            return None
        try:
            ns, name = json.loads(base64.urlsafe_b64decode(token.encode()))
            return ns, name
        except (ValueError, TypeError):
            raise _bad_request(f"continue key is not valid: {token}")

    # --- writes -------------------------------------------------------------------------------
    def create(self, req):
        t = req.rtype
        if t.virtual:
            return self._review(req)
        self._authorize(req, "create")
        obj = _decode(req)
        self._check_type(req, obj)
        m = obj.setdefault("metadata", {})
        self._check_namespace_field(req, m)
        if not m.get("name"):
            if m.get("generateName"):
                m["name"] = m["generateName"] + "".join(random.choice(_GENERATE_CHARS) for _ in range(5))
            else:
                raise errors.invalid(t.group, t.kind, "", [
                    ("metadata.name", "Required value: name or generateName is required")])
        for server_set in ("uid", "resourceVersion", "creationTimestamp", "deletionTimestamp",
                           "deletionGracePeriodSeconds", "generation"):
            m.pop(server_set, None)
        self._validate(t, obj)
        if t.status:
            obj.pop("status", None)
        name = m["name"]

        def compute(live):
            if live is not None:
                raise errors.already_exists(t.group, t.plural, name)
            self.store.check_namespace(req.namespace, creating=True, group=t.group, kind=t.kind, name=name)
            new = clone(obj)
            defaults.apply_defaults(t, new, None)
            return self._record(None, new, req)

        return 201, self._commit(req, name, compute, allow_missing=True)

    def update(self, req):
        self._authorize(req, "update")
        t = req.rtype
        obj = _decode(req)
        self._check_type(req, obj)
        m = obj.setdefault("metadata", {})
        self._check_namespace_field(req, m)
        self._check_name(req, m)

        def compute(live):
            if live is None:
                raise errors.not_found(t.group, t.plural, req.name)
            wanted = m.get("resourceVersion")
            if wanted and wanted != live["metadata"]["resourceVersion"]:
                raise self._modified(req)
            new = self._merge_subresource(req, live, clone(obj))
            defaults.apply_defaults(t, new, live)
            return self._record(live, new, req)

        return 200, self._commit(req, req.name, compute)

    def patch(self, req):
        self._authorize(req, "patch")
        t = req.rtype
        ctype = req.content_type.split(";")[0].strip().lower()
        body = _decode(req)
        if ctype == "application/apply-patch+yaml":
            return self._apply(req, body)
        if ctype == "application/strategic-merge-patch+json" and t.custom:
            raise errors.ApiError(415, "UnsupportedMediaType",
                                  "the body of the request was in an unknown format - accepted media types "
                                  "include: application/json-patch+json, application/merge-patch+json, "
                                  "application/apply-patch+yaml")
        apply_patch = self._patcher(ctype)

        def compute(live):
            if live is None:
                raise errors.not_found(t.group, t.plural, req.name)
            patched = apply_patch(clone(live), body)
            if not isinstance(patched, dict):
                raise _bad_request("the patch did not produce an object")
            pm = patched.setdefault("metadata", {})
            if pm.get("resourceVersion") and pm["resourceVersion"] != live["metadata"]["resourceVersion"]:
                raise self._modified(req)
            self._check_name(req, pm)
            self._check_type(req, patched)
            new = self._merge_subresource(req, live, patched)
            defaults.apply_defaults(t, new, live)
            return self._record(live, new, req)

        return 200, self._commit(req, req.name, compute)

    def _patcher(self, ctype):
        if ctype == "application/json-patch+json":
            return patch.json_patch
        if ctype == "application/merge-patch+json":
            return patch.json_merge_patch
        if ctype == "application/strategic-merge-patch+json":
            return patch.strategic_merge_patch
        raise errors.ApiError(415, "UnsupportedMediaType",
                              f"the body of the request was in an unknown format - accepted media types "
                              f"include: application/json-patch+json, application/merge-patch+json, "
                              f"application/apply-patch+yaml, application/strategic-merge-patch+json "
                              f"(got {ctype!r})")

    def _apply(self, req, applied):
        """Server-side apply: creates the object if it is missing, else merges per field owner."""
        t = req.rtype
        if not req.query.get("fieldManager"):
            raise _bad_request("PATCH request with apply-patch+yaml content type requires fieldManager")
        force = req.query.get("force") in ("true", "1")
        self._check_type(req, applied)
        am = applied.setdefault("metadata", {})
        self._check_namespace_field(req, am)
        self._check_name(req, am)
        am.setdefault("name", req.name)
        created = []

        def compute(live):
            now = now_rfc3339()
            if live is None:
                self.store.check_namespace(req.namespace, creating=True, group=t.group, kind=t.kind,
                                           name=req.name)
                created.append(True)
            base = clone(live) if live is not None else None
            new = ssa.server_side_apply(base, clone(applied), req.query["fieldManager"], force, now)
            if live is None:
                for server_set in ("uid", "resourceVersion", "creationTimestamp", "generation"):
                    new.get("metadata", {}).pop(server_set, None)
                if t.status and not req.subresource:
                    new.pop("status", None)
            else:
                new = self._merge_subresource(req, live, new)
            self._validate(t, new)
            defaults.apply_defaults(t, new, live)
            return new

        out = self._commit(req, req.name, compute, allow_missing=True)
        return (201 if created and created[-1] else 200), out

    def delete(self, req):
        self._authorize(req, "delete")
        t = req.rtype
        options = json.loads(req.body) if req.body.strip() else {}
        propagation = req.query.get("propagationPolicy") or options.get("propagationPolicy") or "Background"
        dry_run = req.dry_run or "All" in (options.get("dryRun") or [])
        pre = options.get("preconditions") or {}
        with self.store.lock:
            live = self._live(req)
            if pre.get("uid") and pre["uid"] != live["metadata"]["uid"]:
                raise errors.conflict(t.group, t.plural, req.name,
                                      f"Precondition failed: UID in precondition: {pre['uid']}, "
                                      f"UID in object meta: {live['metadata']['uid']}")
            if pre.get("resourceVersion") and pre["resourceVersion"] != live["metadata"]["resourceVersion"]:
                raise self._modified(req)
            old = clone(live)
        self._admit(req, "DELETE", None, old, dry_run)
        if dry_run:
            return 200, self._out(req, old)
        with self.store.lock:
            live = self._live(req)
            obj, removed = self.store.delete_object(live, propagation)
            if not removed:
                return 200, self._out(req, obj)
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                     "details": {"name": req.name, **({"group": t.group} if t.group else {}), "kind": t.plural,
                                 "uid": old["metadata"]["uid"]}}

    def delete_collection(self, req):
        self._authorize(req, "deletecollection")
        code, listing = self.list(req)
        deleted = []
        for item in listing["items"]:
            one = Request(req.identity, req.rtype, req.version, item["metadata"].get("namespace", ""),
                          item["metadata"]["name"], query={k: v for k, v in req.query.items()
                                                           if k in ("dryRun", "propagationPolicy")},
                          body=req.body, user_agent=req.user_agent)
            try:
                self.delete(one)
                deleted.append(item)
            except errors.ApiError as e:
                if e.code != 404:
                    raise
        listing["items"] = deleted
        return 200, listing

    # --- self reviews ---------------------------------------------------------------------------
    def _review(self, req):
        body = _decode(req)
        identity = req.identity
        if req.rtype.kind == "SelfSubjectReview":
            return 201, {"kind": "SelfSubjectReview", "apiVersion": req.rtype.api_version(req.version),
                         "metadata": {"creationTimestamp": None}, "status": {"userInfo": identity.user_info()}}
        attrs = (body.get("spec") or {}).get("resourceAttributes") or {}
        verb = attrs.get("verb") or (body.get("spec") or {}).get("nonResourceAttributes", {}).get("verb", "get")
        body["status"] = {"allowed": identity.allows(verb)}
        if not body["status"]["allowed"]:
            body["status"]["reason"] = f'user "{identity.user}" may only get, list and watch'
        body.setdefault("metadata", {})["creationTimestamp"] = None
        return 201, body

    # --- helpers ------------------------------------------------------------------------------
    def _authorize(self, req, verb):
        t = req.rtype
        authorize(req.identity, verb, t.group, t.plural + (f"/{req.subresource}" if req.subresource else ""),
                  req.namespace, req.name or None)

    def _live(self, req):
        obj = self.store.raw(req.rtype.group, req.rtype.kind, req.namespace, req.name)
        if obj is None:
            raise errors.not_found(req.rtype.group, req.rtype.plural, req.name)
        return obj

    def _out(self, req, obj):
        """A copy of a stored object as the requested version shows it."""
        out = clone(obj)
        out["apiVersion"] = req.rtype.api_version(req.version)
        return out

    def _modified(self, req):
        return errors.conflict(req.rtype.group, req.rtype.plural, req.name,
                               "the object has been modified; please apply your changes to the latest "
                               "version and try again")

    def _check_type(self, req, obj):
        if not isinstance(obj, dict):
            raise _bad_request("the body of the request must be a JSON object")
        t = req.rtype
        expected = t.api_version(req.version)
        api_version = obj.setdefault("apiVersion", expected)
        kind = obj.setdefault("kind", t.kind)
        if api_version != expected:
            raise _bad_request(f"the API version in the data ({api_version}) does not match the expected "
                               f"API version ({expected})")
        if kind != t.kind:
            raise _bad_request(f"the kind in the data ({kind}) does not match the expected kind ({t.kind})")

    def _check_namespace_field(self, req, m):
        if not req.rtype.namespaced:
            m.pop("namespace", None)
            return
        if m.get("namespace") and m["namespace"] != req.namespace:
            raise _bad_request("the namespace of the provided object does not match the namespace sent on "
                               "the request")
        m["namespace"] = req.namespace

    def _check_name(self, req, m):
        if m.get("name") and m["name"] != req.name:
            raise _bad_request(f"the name of the object ({m['name']}) does not match the name on the URL "
                               f"({req.name})")
        m["name"] = req.name

    def _validate(self, t, obj):
        name = obj["metadata"]["name"]
        problem = _name_problem(t, name)
        if problem:
            raise errors.invalid(t.group, t.kind, name, [("metadata.name", f'Invalid value: "{name}": {problem}')])
        if t.kind == "CustomResourceDefinition" and not t.custom:
            spec = obj.get("spec") or {}
            want = f"{(spec.get('names') or {}).get('plural')}.{spec.get('group')}"
            if name != want:
                raise errors.invalid(t.group, t.kind, name, [
                    ("metadata.name", f'Invalid value: "{name}": must be spec.names.plural+"."+spec.group')])

    def _merge_subresource(self, req, live, new):
        """Main-resource writes keep the stored status of kinds with a status subresource;
        /status writes change only the status."""
        if req.subresource == "status":
            merged = clone(live)
            merged["status"] = new.get("status")
            merged["metadata"]["managedFields"] = new.get("metadata", {}).get(
                "managedFields", live["metadata"].get("managedFields"))
            return merged
        if req.rtype.status:
            if "status" in live:
                new["status"] = clone(live["status"])
            else:
                new.pop("status", None)
        return new

    def _record(self, live, new, req):
        given = new.get("metadata", {}).get("managedFields")
        if live is not None and given and given != live["metadata"].get("managedFields"):
            return new  # the client rewrote managedFields itself (kubectl's CSA->SSA migration)
        return ssa.record_update(clone(live) if live else None, new, req.field_manager, "Update", now_rfc3339())

    def _admit(self, req, operation, obj, old, dry_run):
        t = req.rtype
        name = req.name or ((obj or old or {}).get("metadata") or {}).get("name", "")
        request = AdmissionRequest(operation, t.group, req.version, t.kind, t.plural, req.subresource,
                                   req.namespace, name, obj, old, dry_run, req.identity.user)
        for hook in list(self.em.admission_hooks):
            hook(request)
        return request.object

    def _commit(self, req, name, compute, allow_missing=False):
        """Runs compute(live) -> new object under the lock, admission outside it, then stores the
        result if the object did not change meanwhile (else computes again)."""
        t = req.rtype
        for _ in range(MAX_ATTEMPTS):
            with self.store.lock:
                live = self.store.raw(t.group, t.kind, req.namespace, name)
                if live is None and not allow_missing:
                    raise errors.not_found(t.group, t.plural, name)
                new = compute(live)
                seen = live["metadata"]["resourceVersion"] if live else None
                old = clone(live) if live else None
            new = self._admit(req, "UPDATE" if old else "CREATE", new, old, req.dry_run)
            with self.store.lock:
                current = self.store.raw(t.group, t.kind, req.namespace, name)
                if (current["metadata"]["resourceVersion"] if current else None) != seen:
                    continue
                stored = self.store.write(new, current, dry_run=req.dry_run)
                return self._out(req, stored)
        raise self._modified(req)

