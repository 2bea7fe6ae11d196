"""Server-side apply and field ownership (metadata.managedFields), following the API server's
field manager: an apply merges the configuration into the live object, removes what the manager
applied last time and no longer sends (unless someone else owns it), and refuses to change a
field another manager owns (409 Conflict) unless forced. Plain writes (create, update, patch)
give the writer the fields it changed, taking them away from everyone else.

Managers are kept as {(manager, operation, apiVersion or None): entry}; Update managers are told
apart by apiVersion (as the real server does), Apply managers are not."""

import copy

from . import fieldsets, schema_hints
from .errors import ApiError

BEFORE_FIRST_APPLY = "before-first-apply"


def server_side_apply(live, applied, manager, force, now):
    """The object after applying `applied` (the request body) for `manager`; see the module comment.
    Raises ApiError 409 Conflict listing the fields other managers own, unless `force`."""
    applied = _without_nulls(applied)
    applied.pop("status", None)
    (applied.get("metadata") or {}).pop("managedFields", None)
    api_version = applied.get("apiVersion", "")
    new_set = fieldsets.applied_set(applied)
    if live is None:
        merged = _merge(None, applied, ())
        managers = {}
    else:
        managers = _decode(live)
        if not managers:
            # An object nobody tracked yet: the server hands its fields to "before-first-apply".
            managers[(BEFORE_FIRST_APPLY, "Update", live.get("apiVersion", ""))] = {
                "set": fieldsets.owned_set(live), "apiVersion": live.get("apiVersion", ""),
                "time": now}
        merged = _merge(live, applied, ())
        merged.get("metadata", {}).pop("managedFields", None)
        me = (manager, "Apply", None)
        last = managers.get(me, {}).get("set", set())
        owned = new_set.union(*(e["set"] for k, e in managers.items() if k != me))
        # A field still owned by someone keeps its parents too (a map a client-side apply created
        # may be listed itself after kubectl moved it to this manager).
        kept = {path[:n] for path in owned for n in range(1, len(path) + 1)}
        for path in sorted(last - kept, key=len):  # items before their fields
            _prune(merged, path)
        _take_from_others(live, merged, managers, me, force)
    managers[(manager, "Apply", None)] = {"set": new_set, "apiVersion": api_version, "time": now}
    return _encode(merged, managers)


def record_update(live, new, manager, operation, now):
    """`new` with managedFields updated for a create, update or patch by `manager` (operation
    "Create"/"Update" are both recorded as Update, as the real server does)."""
    new = copy.deepcopy(new)
    api_version = new.get("apiVersion", "")
    me = (manager, "Update", api_version)
    requested = (new.get("metadata") or {}).get("managedFields")
    if requested == [{}]:
        managers = {}  # the documented way to reset managedFields
    else:
        # A writer may set managedFields itself (kubectl does, to migrate to server-side apply);
        # one that does not send them keeps what is stored.
        managers = _decode(new) or _decode(live)
    if live is None:
        added, modified, removed = fieldsets.owned_set(new), set(), set()
    else:
        added, modified, removed = fieldsets.compare(live, new)
    changed = added | modified
    for key, entry in list(managers.items()):
        if key != me:
            entry["set"] = entry["set"] - removed - changed
    mine = managers.get(me, {}).get("set", set())
    managers[me] = {"set": (mine | changed) - removed, "apiVersion": api_version, "time": now}
    return _encode(new, managers)


# --- conflicts -------------------------------------------------------------------------------------
def _take_from_others(live, merged, managers, me, force):
    added, modified, removed = fieldsets.compare(live, merged)
    changed = added | modified
    conflicts = []
    for key, entry in managers.items():
        if key == me:
            continue
        entry["set"] = entry["set"] - removed
        for path in sorted(entry["set"] & changed):
            conflicts.append((key, path))
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for key, path in conflicts:
        managers[key]["set"].discard(path)


def _manager_label(key):
    manager, operation, api_version = key
    if operation == "Update":
        return f'"{manager}" using {api_version}'
    return f'"{manager}"'


def _conflict_error(conflicts):
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {_manager_label(key)}",
               "field": fieldsets.path_string(path)} for key, path in conflicts]
    if len(conflicts) == 1:
        key, path = conflicts[0]
        message = (f"Apply failed with 1 conflict: conflict with {_manager_label(key)}: "
                   f"{fieldsets.path_string(path)}")
    else:
        lines = []
        for key in sorted({key for key, _ in conflicts}, key=_manager_label):
            lines.append(f"conflicts with {_manager_label(key)}:")
            lines += [f"- {fieldsets.path_string(p)}" for k, p in conflicts if k == key]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return ApiError(409, "Conflict", message, {"causes": causes})


# --- merging an applied configuration ------------------------------------------------------------
def _merge(live, applied, names):
    """live merged with applied: maps field by field, associative lists item by item (by key),
    sets as unions; everything else (scalars, atomic lists and maps) is replaced."""
    if isinstance(applied, dict) and isinstance(live, dict) and not schema_hints.is_atomic_map(names):
        out = copy.deepcopy(live)
        for field, value in applied.items():
            out[field] = _merge(live.get(field), value, names + (field,))
        return out
    if isinstance(applied, list) and isinstance(live, list):
        if schema_hints.is_set(names):
            return copy.deepcopy(live) + [copy.deepcopy(v) for v in applied if v not in live]
        if fieldsets.keyed(names, applied) and fieldsets.keyed(names, live):
            out = copy.deepcopy(live)
            index = {fieldsets.key_element(schema_hints.item_key(names, item)): i
                     for i, item in enumerate(out)}
            for item in applied:
                at = index.get(fieldsets.key_element(schema_hints.item_key(names, item)))
                if at is None:
                    out.append(copy.deepcopy(item))
                else:
                    out[at] = _merge(out[at], item, names)
            return out
    return copy.deepcopy(applied)


def _prune(obj, path):
    """Removes a field the manager no longer applies, and a map or list emptied by that."""
    fieldsets.remove_path(obj, path)
    for depth in range(len(path) - 1, 0, -1):
        ancestor = path[:depth]
        if ancestor == ("f:metadata",) or fieldsets.get_path(obj, ancestor) not in ({}, []):
            break
        fieldsets.remove_path(obj, ancestor)


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


# --- managedFields encoding ---------------------------------------------------------------------
def _decode(obj):
    managers = {}
    for entry in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(entry, dict) or not entry.get("manager"):
            continue
        operation = entry.get("operation", "Update")
        key = (entry["manager"], operation, entry.get("apiVersion", "") if operation == "Update" else None)
        managers[key] = {"set": fieldsets.from_fields_v1(entry.get("fieldsV1")),
                         "apiVersion": entry.get("apiVersion", ""), "time": entry.get("time"),
                         "subresource": entry.get("subresource")}
    return managers


def _encode(obj, managers):
    entries = []
    for (manager, operation, _), entry in managers.items():
        if not entry["set"]:
            continue  # a manager that owns nothing is dropped
        out = {"apiVersion": entry["apiVersion"], "fieldsType": "FieldsV1",
               "fieldsV1": fieldsets.to_fields_v1(entry["set"]), "manager": manager,
               "operation": operation}
        if entry.get("subresource"):
            out["subresource"] = entry["subresource"]
        if entry.get("time"):
            out["time"] = entry["time"]
        entries.append(out)
    metadata = obj.setdefault("metadata", {})
    if entries:
        metadata["managedFields"] = entries
    else:
        metadata.pop("managedFields", None)
    return obj
