"""Field sets as server-side apply tracks them: which fields of an object a manager owns.

A path is a tuple of path elements written the way FieldsV1 writes them: 'f:spec' (a field),
'k:{"name":"app"}' (an item of an associative list, by its keys), 'v:"x"' (an item of a set),
'i:0' (a list position). `nodes()` walks an object into {path: (kind, value)}; the FieldsV1
functions turn a set of paths into the nested JSON stored in metadata.managedFields and back."""

import json

from . import schema_hints

# Fields the API server never records in managedFields (its "strip" set), plus status, which is
# reset on the main resource.
_STRIPPED_TOP = {"apiVersion", "kind", "status"}
_STRIPPED_META = {"name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                  "managedFields", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds"}

MAP, ITEM, LEAF = "map", "item", "leaf"


def _compact(value):
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def key_element(key):
    return "k:" + _compact(key)


def value_element(value):
    return "v:" + _compact(value)


def nodes(obj):
    """{path: (kind, value)} for every node below the root of `obj`, leaving out the stripped
    fields. kind: MAP (a granular map or list: its members are tracked one by one), ITEM (an item
    of an associative list) or LEAF (a scalar, an atomic list or map, or a set item)."""
    out = {}
    for field, value in (obj or {}).items():
        if field in _STRIPPED_TOP or value is None:
            continue
        if field == "metadata" and isinstance(value, dict):
            for mfield, mvalue in value.items():
                if mfield not in _STRIPPED_META and mvalue is not None:
                    _walk(mvalue, ("f:metadata", "f:" + mfield), ("metadata", mfield), out)
            continue
        _walk(value, ("f:" + field,), (field,), out)
    return out


def _walk(value, path, names, out):
    if isinstance(value, dict) and not schema_hints.is_atomic_map(names):
        out[path] = (MAP, None)
        for field, child in value.items():
            if child is not None:
                _walk(child, path + ("f:" + field,), names + (field,), out)
    elif isinstance(value, list) and schema_hints.is_set(names):
        out[path] = (MAP, None)
        for item in value:
            out[path + (value_element(item),)] = (LEAF, item)
    elif isinstance(value, list) and keyed(names, value):
        out[path] = (MAP, None)
        for item in value:
            item_path = path + (key_element(schema_hints.item_key(names, item)),)
            out[item_path] = (ITEM, None)
            for field, child in item.items():
                if child is not None:
                    _walk(child, item_path + ("f:" + field,), names + (field,), out)
    else:
        out[path] = (LEAF, value)


def keyed(names, items):
    """True if the list at `names` is associative and every item has a distinct key."""
    if schema_hints.list_keys(names) is None:
        return False
    keys = [schema_hints.item_key(names, item) for item in items]
    if any(k is None for k in keys):
        return False
    return len({_compact(k) for k in keys}) == len(keys)


def applied_set(obj):
    """The fields an applied configuration sets: its leaves and list items (maps themselves are
    not members, as the real ToFieldSet does)."""
    return {path for path, (kind, _) in nodes(obj).items() if kind != MAP}


def owned_set(obj):
    """Every field of `obj`, as recorded for the manager that created it: leaves, list items and
    free-form maps (labels, data, ...)."""
    return {path for path, (kind, _) in nodes(obj).items() if kind != MAP or _free_form(path)}


def _free_form(path):
    return path[-1].startswith("f:") and schema_hints.is_free_form_map((path[-1][2:],))


def compare(old, new):
    """(added, modified, removed) paths between two objects, as the API server's field manager
    computes them: added and removed subtrees count every node in them."""
    old_nodes, new_nodes = nodes(old), nodes(new)
    added, modified, removed = set(), set(), set()
    for path, (kind, value) in new_nodes.items():
        before = old_nodes.get(path)
        if before is None:
            if kind != MAP or _free_form(path):
                added.add(path)
        elif kind == LEAF and (before[0] != LEAF or before[1] != value):
            modified.add(path)
    for path, (kind, _) in old_nodes.items():
        if path not in new_nodes:
            removed.add(path)
    return added, modified, removed


# --- FieldsV1 -------------------------------------------------------------------------------------
def to_fields_v1(paths):
    """The nested FieldsV1 JSON for a set of paths ('.': {} marks a member that has children)."""
    tree = {}
    members = set(paths)
    for path in members:
        node = tree
        for element in path:
            node = node.setdefault(element, {})
    for path in members:
        node = tree
        for element in path:
            node = node[element]
        if node:
            node["."] = {}
    return _sorted(tree)


def _sorted(tree):
    return {k: _sorted(tree[k]) for k in sorted(tree)}


def from_fields_v1(fields):
    """The set of paths in a FieldsV1 JSON value (tolerates junk by ignoring it)."""
    out = set()

    def visit(node, path):
        if not isinstance(node, dict):
            return
        if path and (not node or "." in node):
            out.add(path)
        for element, child in node.items():
            if element != ".":
                visit(child, path + (element,))

    visit(fields or {}, ())
    return out


def path_string(path):
    """A path as the API server prints it in conflicts: .spec.containers[name="app"].image"""
    text = ""
    for element in path:
        prefix, rest = element[:2], element[2:]
        if prefix == "f:":
            text += "." + rest
        elif prefix == "k:":
            key = json.loads(rest)
            text += "[" + ",".join(f"{k}={_compact(v)}" for k, v in sorted(key.items())) + "]"
        elif prefix == "v:":
            text += "[=" + rest + "]"
        else:
            text += "[" + rest + "]"
    return text


# --- editing objects by path ----------------------------------------------------------------------
def remove_path(obj, path):
    """Removes the node at `path` from `obj` (in place) if it is there."""
    parent, names = _find_parent(obj, path)
    if parent is None:
        return
    element = path[-1]
    if isinstance(parent, dict) and element.startswith("f:"):
        parent.pop(element[2:], None)
    elif isinstance(parent, list):
        index = _find_in_list(parent, element, names)
        if index is not None:
            del parent[index]


def get_path(obj, path):
    """The node at `path` in `obj`, or None."""
    parent, names = _find_parent(obj, path)
    if parent is None or not path:
        return obj if not path else None
    element = path[-1]
    if isinstance(parent, dict) and element.startswith("f:"):
        return parent.get(element[2:])
    if isinstance(parent, list):
        index = _find_in_list(parent, element, names)
        return parent[index] if index is not None else None
    return None


def _find_parent(obj, path):
    node, names = obj, ()
    for element in path[:-1]:
        if isinstance(node, dict) and element.startswith("f:"):
            names += (element[2:],)
            node = node.get(element[2:])
        elif isinstance(node, list):
            index = _find_in_list(node, element, names)
            node = node[index] if index is not None else None
        else:
            return None, names
        if node is None:
            return None, names
    return node, names


def _find_in_list(items, element, names):
    for index, item in enumerate(items):
        if element.startswith("k:") and isinstance(item, dict):
            if key_element(schema_hints.item_key(names, item)) == element:
                return index
        elif element.startswith("v:") and value_element(item) == element:
            return index
        elif element == f"i:{index}":
            return index
    return None
