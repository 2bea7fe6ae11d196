"""The defaults the API server fills in on every write, for the fields users see in `get -o yaml`
and controllers rely on (Deployment replicas and strategy, Service type and clusterIP, pod
template fields, Secret type, namespace label). Not the whole of Kubernetes' defaulting."""

import itertools
import threading

_ips = itertools.count(1)
_ips_lock = threading.Lock()


def _cluster_ip():
    with _ips_lock:
        n = next(_ips)
    return f"10.96.{n // 250}.{n % 250 + 1}"


def _containers(spec):
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if "image" in c and "imagePullPolicy" not in c:
            tag = c["image"].rsplit("/", 1)[-1]
            latest = "@" not in tag and (":" not in tag or tag.endswith(":latest"))
            c["imagePullPolicy"] = "Always" if latest else "IfNotPresent"
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            p.setdefault("protocol", "TCP")


def _pod_spec(spec, restart="Always"):
    spec.setdefault("restartPolicy", restart)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)
    _containers(spec)


def _template(spec, restart="Always"):
    template = spec.get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        _pod_spec(template.setdefault("spec", {}), restart)


def _deployment(obj, live):
    spec = obj.setdefault("spec", {})
    spec.setdefault("replicas", 1)
    spec.setdefault("revisionHistoryLimit", 10)
    spec.setdefault("progressDeadlineSeconds", 600)
    strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
    if strategy.get("type", "RollingUpdate") == "RollingUpdate":
        strategy.setdefault("type", "RollingUpdate")
        strategy.setdefault("rollingUpdate", {"maxSurge": "25%", "maxUnavailable": "25%"})
    _template(spec)


def _service(obj, live):
    spec = obj.setdefault("spec", {})
    spec.setdefault("type", "ClusterIP")
    spec.setdefault("sessionAffinity", "None")
    if spec["type"] != "ExternalName":
        old = ((live or {}).get("spec") or {}).get("clusterIP")
        if "clusterIP" not in spec:
            spec["clusterIP"] = old or _cluster_ip()
        spec.setdefault("clusterIPs", [spec["clusterIP"]])
        if spec["clusterIP"] != "None":
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
        spec.setdefault("internalTrafficPolicy", "Cluster")
    for p in spec.get("ports") or []:
        p.setdefault("protocol", "TCP")
        p.setdefault("targetPort", p.get("port"))
    obj.setdefault("status", {}).setdefault("loadBalancer", {})


def _job(obj, live):
    spec = obj.setdefault("spec", {})
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completions", 1)
    spec.setdefault("parallelism", 1)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    _template(spec, restart="Never")


def _namespace(obj, live):
    name = obj["metadata"].get("name")
    obj["metadata"].setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    status = obj.setdefault("status", {})
    status.setdefault("phase", "Active")


def _crd(obj, live):
    if live is None:
        finalizers = obj["metadata"].setdefault("finalizers", [])
        if "customresourcecleanup.apiextensions.k8s.io" not in finalizers:
            finalizers.append("customresourcecleanup.apiextensions.k8s.io")


_BY_KIND = {
    ("apps", "Deployment"): _deployment,
    ("apps", "ReplicaSet"): lambda o, live: (o.setdefault("spec", {}).setdefault("replicas", 1),
                                             _template(o["spec"])),
    ("apps", "StatefulSet"): lambda o, live: (o.setdefault("spec", {}).setdefault("replicas", 1),
                                              _template(o["spec"])),
    ("apps", "DaemonSet"): lambda o, live: _template(o.setdefault("spec", {})),
    ("batch", "Job"): _job,
    ("", "Pod"): lambda o, live: _pod_spec(o.setdefault("spec", {})),
    ("", "Service"): _service,
    ("", "Secret"): lambda o, live: o.setdefault("type", "Opaque"),
    ("", "Namespace"): _namespace,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
}


def apply_defaults(rtype, obj, live):
    """Fills in defaults in `obj` (changed in place) on create (`live` None) or update."""
    fn = _BY_KIND.get((rtype.group, rtype.kind))
    if fn is not None and not rtype.custom:
        fn(obj, live)
