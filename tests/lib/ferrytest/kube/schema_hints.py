"""The few facts from the real Kubernetes OpenAPI schemas that patches and server-side apply need:
which lists are merged by key (and by which keys), which lists are sets, which maps are replaced
whole. The emulator has no schemas, so these are looked up by field name along the path.

`names` is the path of field names from the object root down to the list or map in question
(list positions are left out): ("spec", "template", "spec", "containers", "ports")."""

_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}

# field name -> keys of an associative list (listType=map); the first key is the strategic merge
# patch's patchMergeKey. Lists not named here (args, command, rules, subjects, ...) are atomic.
_LIST_KEYS = {
    "containers": ("name",),
    "initContainers": ("name",),
    "ephemeralContainers": ("name",),
    "env": ("name",),
    "volumes": ("name",),
    "volumeMounts": ("mountPath",),
    "volumeDevices": ("devicePath",),
    "imagePullSecrets": ("name",),
    "hostAliases": ("ip",),
    "ownerReferences": ("uid",),
    "conditions": ("type",),
    "webhooks": ("name",),
    "topologySpreadConstraints": ("topologyKey", "whenUnsatisfiable"),
    "resourceClaims": ("name",),
}

# Lists of strings merged as sets (listType=set / patchStrategy=merge on primitives).
_SETS = {"finalizers"}

# Maps replaced as a whole (structType/mapType=atomic): label selectors and node selectors.
_ATOMIC_MAPS = {"selector", "nodeSelector", "namespaceSelector", "objectSelector", "labelSelector"}

# Maps with free-form keys (map[string]T): when one is created, the map itself becomes a member of
# the creating manager's field set (the ".": {} entries a real server writes for them).
_FREE_FORM_MAPS = {"labels", "annotations", "data", "stringData", "binaryData", "limits", "requests",
                   "matchLabels", "capacity", "allocatable"}

# Key fields the server defaults, so an item that leaves them out still has them in its key.
_KEY_DEFAULTS = {"protocol": "TCP"}


def list_keys(names):
    """The keys of the associative list at `names`, or None when the list is atomic or a set."""
    if not names:
        return None
    field = names[-1]
    if field == "ports":
        if len(names) >= 2 and names[-2] in _CONTAINER_LISTS:
            return ("containerPort", "protocol")
        if tuple(names) == ("spec", "ports"):  # a Service's ports
            return ("port", "protocol")
        return None
    return _LIST_KEYS.get(field)


def is_set(names):
    return bool(names) and names[-1] in _SETS


def merge_key(names):
    """The strategic merge patch's patchMergeKey for the list at `names`, or None."""
    keys = list_keys(names)
    return keys[0] if keys else None


def is_atomic_map(names):
    return bool(names) and names[-1] in _ATOMIC_MAPS


def is_free_form_map(names):
    return bool(names) and names[-1] in _FREE_FORM_MAPS


def item_key(names, item):
    """The key of one item of the associative list at `names` as {field: value}, with server
    defaults filled in; None if the item is not a map or lacks a key field without a default."""
    keys = list_keys(names)
    if not keys or not isinstance(item, dict):
        return None
    key = {}
    for field in keys:
        if item.get(field) is not None:
            key[field] = item[field]
        elif field in _KEY_DEFAULTS:
            key[field] = _KEY_DEFAULTS[field]
        else:
            return None
    return key
