"""The kinds the emulator serves: the built-in table (every built-in kind in the corpus plus the
ones controllers and kubectl touch) and `ResourceType`, which custom resources also become once
their CRD is Established.

Only the versions a current (1.2x/1.3x) API server serves are listed. The 0.6-era corpus files use
extensions/v1beta1, apps/v1beta1, rbac v1beta1, apiextensions v1beta1, autoscaling v2beta1,
policy v1beta1...; a real cluster answers those with kubectl's "no matches for kind", and so do we."""

from dataclasses import dataclass, field

ALL_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
CREATE_ONLY = ["create"]


@dataclass
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: list = field(default_factory=list)
    verbs: list = field(default_factory=lambda: list(ALL_VERBS))
    status: bool = False  # has a status subresource: main writes keep .status, /status writes only it
    generation: bool = False  # metadata.generation is kept (bumped when anything but metadata/status changes)
    categories: list = field(default_factory=list)
    singular: str = ""
    versions: list = field(default_factory=list)  # every served version (CRDs); [version] if empty
    printer_columns: list = field(default_factory=list)  # CRD additionalPrinterColumns
    custom: bool = False

    def __post_init__(self):
        self.singular = self.singular or self.kind.lower()
        self.versions = self.versions or [self.version]

    @property
    def group_version(self):
        return f"{self.group}/{self.version}" if self.group else self.version

    def api_version(self, version=None):
        v = version or self.version
        return f"{self.group}/{v}" if self.group else v

    @property
    def virtual(self):
        """Create-only review kinds (SelfSubjectAccessReview...) are answered, never stored."""
        return self.verbs == CREATE_ONLY


def _t(group, version, kind, plural, namespaced, short=(), **kw):
    return ResourceType(group, version, kind, plural, namespaced, list(short), **kw)


_WORKLOAD = dict(status=True, generation=True, categories=["all"])

BUILTIN = [
    # core/v1
    _t("", "v1", "Namespace", "namespaces", False, ["ns"], status=True),
    _t("", "v1", "ConfigMap", "configmaps", True, ["cm"]),
    _t("", "v1", "Secret", "secrets", True),
    _t("", "v1", "ServiceAccount", "serviceaccounts", True, ["sa"]),
    _t("", "v1", "Service", "services", True, ["svc"], status=True, categories=["all"]),
    _t("", "v1", "Pod", "pods", True, ["po"], status=True, categories=["all"]),
    _t("", "v1", "Event", "events", True, ["ev"]),
    _t("", "v1", "Endpoints", "endpoints", True, ["ep"], singular="endpoints"),
    _t("", "v1", "Node", "nodes", False, ["no"], status=True),
    _t("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, ["pvc"], status=True),
    # apps, batch, autoscaling, policy
    _t("apps", "v1", "Deployment", "deployments", True, ["deploy"], **_WORKLOAD),
    _t("apps", "v1", "ReplicaSet", "replicasets", True, ["rs"], **_WORKLOAD),
    _t("apps", "v1", "StatefulSet", "statefulsets", True, ["sts"], **_WORKLOAD),
    _t("apps", "v1", "DaemonSet", "daemonsets", True, ["ds"], **_WORKLOAD),
    _t("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    _t("batch", "v1", "Job", "jobs", True, **_WORKLOAD),
    _t("batch", "v1", "CronJob", "cronjobs", True, ["cj"], **_WORKLOAD),
    _t("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, ["hpa"],
       status=True, categories=["all"]),
    _t("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, ["pdb"], status=True,
       generation=True),
    # rbac
    _t("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _t("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _t("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _t("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    # API machinery
    _t("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration",
       "mutatingwebhookconfigurations", False, generation=True),
    _t("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration",
       "validatingwebhookconfigurations", False, generation=True),
    _t("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False,
       ["crd", "crds"], status=True, generation=True),
    _t("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    _t("events.k8s.io", "v1", "Event", "events", True, ["ev"]),
    _t("coordination.k8s.io", "v1", "Lease", "leases", True),
    _t("networking.k8s.io", "v1", "Ingress", "ingresses", True, ["ing"], status=True, generation=True),
    _t("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, ["netpol"], generation=True),
    # reviews: answered from the caller's identity, never stored
    _t("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
       verbs=CREATE_ONLY),
    _t("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False,
       verbs=CREATE_ONLY),
]


def crd_types(crd):
    """The ResourceTypes a CRD object serves (one per served version), [] when it is malformed."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    group, kind, plural = spec.get("group"), names.get("kind"), names.get("plural")
    if not (group and kind and plural):
        return []
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    served_names = [v["name"] for v in served]
    out = []
    for v in served:
        out.append(ResourceType(
            group, v["name"], kind, plural, spec.get("scope", "Namespaced") == "Namespaced",
            list(names.get("shortNames") or []), status="status" in (v.get("subresources") or {}),
            generation=True, categories=list(names.get("categories") or []),
            singular=names.get("singular") or kind.lower(), versions=served_names,
            printer_columns=list(v.get("additionalPrinterColumns") or []), custom=True))
    return out
