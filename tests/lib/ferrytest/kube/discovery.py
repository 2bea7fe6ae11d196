"""What the emulator serves right now (`Catalog`: built-in kinds plus the kinds of Established
CRDs) and the discovery documents built from it: /api, /apis, /api/v1, /apis/G/V (v1 lists) and
the aggregated apidiscovery.k8s.io/v2 lists kubectl asks for first."""

import re

from .resources import BUILTIN, crd_types

V2_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
CRD_GROUP, CRD_KIND = "apiextensions.k8s.io", "CustomResourceDefinition"


def wants_v2(accept):
    """True when the Accept header asks for aggregated discovery v2 (kubectl >= 1.30 does)."""
    for part in (accept or "").split(","):
        params = {p.split("=", 1)[0].strip(): p.split("=", 1)[1].strip()
                  for p in part.split(";")[1:] if "=" in p}
        if params.get("g") == "apidiscovery.k8s.io" and params.get("v") == "v2" \
                and params.get("as") == "APIGroupDiscoveryList":
            return True
    return False


def version_priority(version):
    """Sort key, highest first, as Kubernetes orders versions: v2 > v1 > v1beta2 > v1beta1 > v1alpha1."""
    m = re.fullmatch(r"v(\d+)(?:(alpha|beta)(\d+))?", version)
    if not m:
        return (0, 0, 0, version)
    stability = {"alpha": 1, "beta": 2, None: 3}[m.group(2)]
    return (stability, int(m.group(1)), int(m.group(3) or 0), "")


def is_established(crd):
    if crd["metadata"].get("deletionTimestamp"):
        return False
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


class Catalog:
    """The served ResourceTypes, recomputed when the store changed since the last look."""

    def __init__(self, store):
        self._store = store
        self._rv = None
        self._types = []

    def all(self):
        with self._store.lock:
            if self._rv != self._store.resource_version:
                types = list(BUILTIN)
                for crd in self._store.raw_list(CRD_GROUP, CRD_KIND):
                    if is_established(crd):
                        types += crd_types(crd)
                self._types, self._rv = types, self._store.resource_version
            return self._types

    def find(self, group, version, plural):
        for t in self.all():
            if t.group == group and t.version == version and t.plural == plural:
                return t
        return None

    def by_kind(self, group, kind):
        """The preferred served type of a kind, None if the kind is not served."""
        found = [t for t in self.all() if t.group == group and t.kind == kind]
        found.sort(key=lambda t: version_priority(t.version), reverse=True)
        return found[0] if found else None

    def groups(self):
        """[(group, [versions, preferred first])], core group excluded, in a stable order."""
        versions = {}
        for t in self.all():
            if t.group:
                versions.setdefault(t.group, set()).add(t.version)
        return [(g, sorted(vs, key=version_priority, reverse=True)) for g, vs in sorted(versions.items())]

    def in_group_version(self, group, version):
        return [t for t in self.all() if t.group == group and t.version == version]


def api_versions(server_address):
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group_list(catalog):
    groups = []
    for group, versions in catalog.groups():
        gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        groups.append({"name": group, "versions": gvs, "preferredVersion": gvs[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(catalog, group, version):
    """The v1 APIResourceList of a group/version, None if nothing is served there."""
    types = catalog.in_group_version(group, version)
    if not types:
        return None
    resources = []
    for t in types:
        entry = {"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                 "kind": t.kind, "verbs": list(t.verbs)}
        if t.short_names:
            entry["shortNames"] = list(t.short_names)
        if t.categories:
            entry["categories"] = list(t.categories)
        resources.append(entry)
        if t.status:
            resources.append({"name": f"{t.plural}/status", "singularName": "", "namespaced": t.namespaced,
                              "kind": t.kind, "verbs": ["get", "patch", "update"]})
    gv = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}


def _v2_resource(t):
    kind = {"group": t.group, "version": t.version, "kind": t.kind}
    entry = {"resource": t.plural, "responseKind": kind,
             "scope": "Namespaced" if t.namespaced else "Cluster",
             "singularResource": t.singular, "verbs": list(t.verbs)}
    if t.short_names:
        entry["shortNames"] = list(t.short_names)
    if t.categories:
        entry["categories"] = list(t.categories)
    if t.status:
        entry["subresources"] = [{"subresource": "status", "responseKind": kind,
                                  "verbs": ["get", "patch", "update"]}]
    return entry


def _v2_group(catalog, group, versions):
    return {"metadata": {"name": group, "creationTimestamp": None},
            "versions": [{"version": v,
                          "resources": [_v2_resource(t) for t in catalog.in_group_version(group, v)],
                          "freshness": "Current"} for v in versions]}


def aggregated(catalog, legacy):
    """The APIGroupDiscoveryList for /api (`legacy`) or /apis."""
    if legacy:
        items = [_v2_group(catalog, "", ["v1"])]
        items[0]["metadata"].pop("name")
    else:
        items = [_v2_group(catalog, g, vs) for g, vs in catalog.groups()]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
            "metadata": {}, "items": items}
