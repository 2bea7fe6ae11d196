"""Server-side printing: the meta.k8s.io/v1 Table kubectl asks for when it prints `get` output for
humans. Name and Age for every kind, a few well-known columns, and a CRD's additionalPrinterColumns
(simple JSONPath: .a.b, .a[0], .a[?(@.k=='v')].b)."""

import datetime
import re

_NAME = {"name": "Name", "type": "string", "format": "name", "priority": 0,
         "description": "Name must be unique within a namespace."}
_AGE = {"name": "Age", "type": "string", "format": "", "priority": 0,
        "description": "CreationTimestamp is a timestamp representing the server time when this "
                       "object was created."}

# (group, kind) -> [(column name, jsonpath)]
_BUILTIN_COLUMNS = {
    ("", "Namespace"): [("Status", ".status.phase")],
    ("", "Pod"): [("Status", ".status.phase")],
    ("", "Service"): [("Type", ".spec.type"), ("Cluster-IP", ".spec.clusterIP")],
    ("apps", "Deployment"): [("Ready", ".status.readyReplicas"), ("Up-to-date", ".status.updatedReplicas"),
                             ("Available", ".status.availableReplicas")],
    ("", "Secret"): [("Type", ".type")],
}


def wants_table(accept):
    return "as=Table" in (accept or "")


def human_age(timestamp):
    try:
        created = datetime.datetime.strptime(timestamp, "%Y-%m-%dT%H:%M:%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return "<unknown>"
    s = max(0, int((datetime.datetime.now(datetime.timezone.utc) - created).total_seconds()))
    if s < 120:
        return f"{s}s"
    if s < 600:
        return f"{s // 60}m{s % 60}s" if s % 60 else f"{s // 60}m"
    if s < 3 * 3600:
        return f"{s // 60}m"
    if s < 48 * 3600:
        return f"{s // 3600}h"
    return f"{s // 86400}d"


def jsonpath(obj, path):
    """Evaluates the simple JSONPath forms CRDs use for printer columns; None if absent."""
    cur = obj
    for part in re.findall(r"\.([A-Za-z0-9_-]+)|\[(\d+)\]|\[\?\(@\.([A-Za-z0-9_-]+)==['\"]([^'\"]*)['\"]\)\]",
                           path):
        name, index, key, value = part
        if name:
            cur = cur.get(name) if isinstance(cur, dict) else None
        elif index:
            cur = cur[int(index)] if isinstance(cur, list) and int(index) < len(cur) else None
        else:
            found = [e for e in cur if isinstance(e, dict) and str(e.get(key)) == value] \
                if isinstance(cur, list) else []
            cur = found[0] if found else None
        if cur is None:
            return None
    return cur


def _columns(rtype):
    if rtype.custom:
        return [(c["name"], c.get("jsonPath", ""), c.get("type", "string"), c.get("priority", 0))
                for c in rtype.printer_columns]
    return [(n, p, "string", 0) for n, p in _BUILTIN_COLUMNS.get((rtype.group, rtype.kind), [])]


def to_table(rtype, objects, resource_version):
    columns = _columns(rtype)
    show_age = not any(p == ".metadata.creationTimestamp" for _, p, _, _ in columns)
    definitions = [_NAME] + [{"name": n, "type": "string" if t == "date" else t, "format": "",
                              "priority": prio, "description": ""} for n, _, t, prio in columns]
    if show_age:
        definitions.append(_AGE)
    rows = []
    for obj in objects:
        cells = [obj["metadata"]["name"]]
        for _, path, type_, _ in columns:
            value = jsonpath(obj, path)
            cells.append(human_age(value) if type_ == "date" else ("" if value is None else value))
        if show_age:
            cells.append(human_age(obj["metadata"].get("creationTimestamp")))
        rows.append({"cells": cells, "object": {"kind": "PartialObjectMetadata",
                                                "apiVersion": "meta.k8s.io/v1",
                                                "metadata": obj["metadata"]}})
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1",
            "metadata": {"resourceVersion": str(resource_version)},
            "columnDefinitions": definitions, "rows": rows}
