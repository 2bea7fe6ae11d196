"""The three patch formats the API server accepts besides apply: JSON merge patch (RFC 7386),
strategic merge patch (what kubectl's client-side apply and `kubectl patch` send for built-in
kinds, with its directives) and JSON patch (RFC 6902). Each returns a new object and raises
ApiError for a patch the real server would refuse."""

import copy
import json

from . import schema_hints
from .errors import ApiError

_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"


def _bad_request(message):
    return ApiError(400, "BadRequest", message)


# --- RFC 7386 ---------------------------------------------------------------------------------------
def json_merge_patch(target, patch):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = copy.deepcopy(target) if isinstance(target, dict) else {}
    for field, value in patch.items():
        if value is None:
            out.pop(field, None)
        else:
            out[field] = json_merge_patch(out.get(field), value)
    return out


# --- strategic merge patch -----------------------------------------------------------------------
def strategic_merge_patch(target, patch):
    if not isinstance(patch, dict):
        raise _bad_request("invalid JSON document: a strategic merge patch must be a JSON object")
    return _merge_map(copy.deepcopy(target) if isinstance(target, dict) else {}, patch, ())


def _merge_map(original, patch, names):
    patch = dict(patch)
    directive = patch.pop("$patch", None)
    if directive == "replace":
        return _merge_map({}, patch, names)
    if directive == "delete":
        return {}
    if directive not in (None, "merge"):
        raise _bad_request(f'Unknown patch type: {directive} in map: {json.dumps(patch)}')
    retain = patch.pop("$retainKeys", None)
    if retain is not None:
        if not isinstance(retain, list):
            raise _bad_request("invalid patch: $retainKeys must be a list of field names")
        original = {k: v for k, v in original.items() if k in retain}
    orders = {k[len(_ORDER):]: patch.pop(k) for k in list(patch) if k.startswith(_ORDER)}
    for key in [k for k in patch if k.startswith(_DELETE_FROM)]:
        field, values = key[len(_DELETE_FROM):], patch.pop(key)
        if isinstance(original.get(field), list) and isinstance(values, list):
            original[field] = [v for v in original[field] if v not in values]
    for field, value in patch.items():
        current = original.get(field)
        if value is None:
            original.pop(field, None)
        elif isinstance(value, dict):
            if value.get("$patch") == "delete":
                original.pop(field, None)
            else:
                original[field] = _merge_map(current if isinstance(current, dict) else {}, value,
                                             names + (field,))
        elif isinstance(value, list):
            original[field] = _merge_list(current if isinstance(current, list) else [], value,
                                          names + (field,))
        else:
            original[field] = value
    for field, order in orders.items():
        if isinstance(original.get(field), list) and isinstance(order, list):
            original[field] = _reorder(original[field], order, names + (field,))
    return original


def _merge_list(original, patch, names):
    if any(isinstance(i, dict) and i.get("$patch") == "replace" for i in patch):
        rest = [i for i in patch if not (isinstance(i, dict) and i.get("$patch") == "replace")]
        return _merge_list([], rest, names)
    if schema_hints.is_set(names):
        return original + [v for v in patch if v not in original]
    key = schema_hints.merge_key(names)
    if key is None:
        return [_merge_map({}, i, names) if isinstance(i, dict) else copy.deepcopy(i) for i in patch]
    out = list(original)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise _bad_request(f"map: {json.dumps(item)} does not contain declared merge key: {key}")
        at = next((n for n, o in enumerate(out) if isinstance(o, dict) and o.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if at is not None:
                del out[at]
        elif at is None:
            out.append(_merge_map({}, item, names))
        else:
            out[at] = _merge_map(out[at], item, names)
    return out


def _reorder(items, order, names):
    """Applies $setElementOrder: the items it names take its order; the others keep their places."""
    key = schema_hints.merge_key(names)

    def rank(item):
        probe = item.get(key) if key and isinstance(item, dict) else item
        for n, o in enumerate(order):
            if (o.get(key) if key and isinstance(o, dict) else o) == probe:
                return n
        return None

    slots = [n for n, item in enumerate(items) if rank(item) is not None]
    ordered = sorted((items[n] for n in slots), key=rank)
    out = list(items)
    for slot, item in zip(slots, ordered):
        out[slot] = item
    return out


# --- RFC 6902 ---------------------------------------------------------------------------------------
def json_patch(target, ops):
    if not isinstance(ops, list):
        raise _bad_request("invalid JSON patch: the body must be a JSON array of operations")
    doc = copy.deepcopy(target)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise _bad_request(f"invalid JSON patch operation: {json.dumps(op)}")
        kind, path = op["op"], op["path"]
        if kind == "add":
            doc = _add(doc, path, copy.deepcopy(_value(op)))
        elif kind == "remove":
            doc, _ = _remove(doc, path)
        elif kind == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(_value(op)))
        elif kind == "move":
            doc, moved = _remove(doc, _from(op))
            doc = _add(doc, path, moved)
        elif kind == "copy":
            doc = _add(doc, path, copy.deepcopy(_get(doc, _from(op))))
        elif kind == "test":
            if _get(doc, path) != _value(op):
                raise _unprocessable(f"testing value {path} failed: test failed")
        else:
            raise _bad_request(f"Unexpected kind: {kind}")
    return doc


def _unprocessable(message):
    return ApiError(422, "Invalid", "the server rejected our request due to an error in our request",
                    {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]})


def _value(op):
    if "value" not in op:
        raise _bad_request(f"invalid JSON patch operation: {op['op']} needs a value")
    return op["value"]


def _from(op):
    if "from" not in op:
        raise _bad_request(f"invalid JSON patch operation: {op['op']} needs from")
    return op["from"]


def _tokens(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise _bad_request(f"invalid JSON pointer: {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _container(doc, pointer):
    tokens = _tokens(pointer)
    if not tokens:
        return None, None
    node = doc
    for token in tokens[:-1]:
        node = _step(node, token, pointer)
    return node, tokens[-1]


def _step(node, token, pointer):
    if isinstance(node, dict) and token in node:
        return node[token]
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return node[int(token)]
    raise _unprocessable(f"doc is missing path: {pointer!r}")


def _get(doc, pointer):
    node = doc
    for token in _tokens(pointer):
        node = _step(node, token, pointer)
    return node


def _add(doc, pointer, value):
    parent, token = _container(doc, pointer)
    if token is None:
        return value
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        index = len(parent) if token == "-" else (int(token) if token.isdigit() else -1)
        if not 0 <= index <= len(parent):
            raise _unprocessable(f"add operation does not apply: doc is missing path: {pointer!r}")
        parent.insert(index, value)
    else:
        raise _unprocessable(f"add operation does not apply: doc is missing path: {pointer!r}")
    return doc


def _remove(doc, pointer):
    parent, token = _container(doc, pointer)
    if token is None:
        return None, doc
    if isinstance(parent, dict) and token in parent:
        return doc, parent.pop(token)
    if isinstance(parent, list) and token.isdigit() and int(token) < len(parent):
        return doc, parent.pop(int(token))
    raise _unprocessable(f"doc is missing path: {pointer!r}")
