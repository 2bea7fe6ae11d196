"""Simulated Knative Serving controller: a Service (serving.knative.dev v1, or v1alpha1 in its
runLatest and template shapes) gets a Configuration and a Route of its name; each Configuration
generation gets a Revision <name>-0000N, each Revision a Deployment <revision>-deployment (with
the queue-proxy image from config-deployment, when that ConfigMap exists). Readiness flows back
up: the Deployment's availability (or its pods' image pull failure) decides the Revision, which
decides the Configuration, Route and Service, with the usual conditions, URL and traffic. Knative
caching Images and networking Certificates just become Ready.

v1alpha1 objects get the status of Knative 0.6 (serving v0.6.0 RouteStatusFields): `url` beside the
deprecated `domain` and `domainInternal`, and an `address` with both `url` and `hostname`
(duckv1alpha1.Addressable). Clients of 0.5 and older read `domain`, of 1.x `url`."""

import copy

from .workload_status import condition, deployment_available, owner_reference

SERVING = "serving.knative.dev"
_NS = "knative-serving"


def _conditions(old, wanted, now):
    """Knative conditions (sorted by type): wanted is [(type, status, reason, message)]."""
    old_list = (old.get("status") or {}).get("conditions") or []
    return sorted((condition(old_list, t, s, r, m, now) for t, s, r, m in wanted), key=lambda c: c["type"])


def _ready(obj):
    c = next((c for c in (obj or {}).get("status", {}).get("conditions") or [] if c.get("type") == "Ready"), None)
    return (c or {}).get("status", "Unknown"), (c or {}).get("reason"), (c or {}).get("message")


def _child(owner, kind, name, spec, labels):
    meta = owner["metadata"]
    return {"apiVersion": owner["apiVersion"], "kind": kind,
            "metadata": {"name": name, "namespace": meta["namespace"], "labels": labels,
                         "ownerReferences": [owner_reference(owner)]},
            "spec": spec}


def _template(ksvc):
    """The revision template of a Service in any of its shapes, as v1 writes it."""
    spec = ksvc.get("spec") or {}
    if "template" in spec:
        return copy.deepcopy(spec["template"])
    old = ((spec.get("runLatest") or spec.get("release") or spec.get("pinned") or {}).get("configuration") or {}) \
        .get("revisionTemplate") or {}
    template = copy.deepcopy(old)
    tspec = template.setdefault("spec", {})
    if "container" in tspec:
        tspec["containers"] = [tspec.pop("container")]
    return template


# --- Service ------------------------------------------------------------------------------------------
def reconcile_service(ctl, ksvc):
    meta, now = ksvc["metadata"], ctl.now()
    ns, name = meta["namespace"], meta["name"]
    labels = {f"{SERVING}/service": name, f"{SERVING}/serviceUID": meta["uid"]}
    config = ctl.put_if_changed(ctl.store.get(SERVING, "Configuration", ns, name),
                                _child(ksvc, "Configuration", name, {"template": _template(ksvc)}, labels))
    route = ctl.put_if_changed(ctl.store.get(SERVING, "Route", ns, name),
                               _child(ksvc, "Route", name, {"traffic": [
                                   {"configurationName": name, "latestRevision": True, "percent": 100}]}, labels))
    config_status, route_status = config.get("status") or {}, route.get("status") or {}
    c_state, c_reason, c_message = _ready(config)
    r_state, r_reason, r_message = _ready(route)
    overall = "True" if c_state == r_state == "True" else ("False" if "False" in (c_state, r_state) else "Unknown")
    reason, message = (c_reason, c_message) if c_state != "True" else (r_reason, r_message)
    status = {"observedGeneration": meta.get("generation", 1),
              "conditions": _conditions(ksvc, [("ConfigurationsReady", c_state, c_reason, c_message),
                                               ("Ready", overall, reason if overall != "True" else None,
                                                message if overall != "True" else None),
                                               ("RoutesReady", r_state, r_reason, r_message)], now)}
    status.update(_addresses(ksvc, ctl))
    for field in ("latestCreatedRevisionName", "latestReadyRevisionName"):
        if config_status.get(field):
            status[field] = config_status[field]
    if route_status.get("traffic"):
        status["traffic"] = route_status["traffic"]
    ctl.set_status(ksvc, status)


def _addresses(obj, ctl):
    """Where a Service or Route answers: url and address (v1), plus domain, domainInternal and
    address.hostname on v1alpha1 (Knative 0.6)."""
    name, ns = obj["metadata"]["name"], obj["metadata"]["namespace"]
    domain = f"{name}.{ns}.{getattr(ctl.options, 'domain', 'example.com')}"
    internal = f"{name}.{ns}.svc.cluster.local"
    out = {"url": f"http://{domain}", "address": {"url": f"http://{internal}"}}
    if obj["apiVersion"].endswith("/v1alpha1"):
        out.update({"domain": domain, "domainInternal": internal})
        out["address"]["hostname"] = internal
    return out


# --- Configuration ----------------------------------------------------------------------------------
def reconcile_configuration(ctl, config):
    meta, now = config["metadata"], ctl.now()
    template = (config.get("spec") or {}).get("template") or {}
    generation = meta.get("generation", 1)
    rev_name = (template.get("metadata") or {}).get("name") or f"{meta['name']}-{generation:05d}"
    revision = ctl.store.get(SERVING, "Revision", meta["namespace"], rev_name)
    if revision is None:
        labels = dict((template.get("metadata") or {}).get("labels") or {})
        labels.update({f"{SERVING}/configuration": meta["name"], f"{SERVING}/configurationUID": meta["uid"],
                       f"{SERVING}/configurationGeneration": str(generation)})
        service = (meta.get("labels") or {}).get(f"{SERVING}/service")
        if service:
            labels[f"{SERVING}/service"] = service
        rev = _child(config, "Revision", rev_name, copy.deepcopy(template.get("spec") or {}), labels)
        annotations = (template.get("metadata") or {}).get("annotations")
        if annotations:
            rev["metadata"]["annotations"] = dict(annotations)
        revision = ctl.store.put(rev)
    state, reason, message = _ready(revision)
    old = config.get("status") or {}
    status = {"observedGeneration": generation, "latestCreatedRevisionName": rev_name}
    latest_ready = rev_name if state == "True" else old.get("latestReadyRevisionName")
    if latest_ready:
        status["latestReadyRevisionName"] = latest_ready
    if state == "False":
        reason, message = "RevisionFailed", f'Revision "{rev_name}" failed with message: {message}.'
    status["conditions"] = _conditions(config, [("Ready", state, reason if state != "True" else None,
                                                 message if state != "True" else None)], now)
    ctl.set_status(config, status)


# --- Revision ----------------------------------------------------------------------------------------
def _queue_image(ctl):
    cm = ctl.store.get("", "ConfigMap", _NS, "config-deployment")
    data = (cm or {}).get("data") or {}
    return data.get("queue-sidecar-image") or data.get("queueSidecarImage")


def reconcile_revision(ctl, rev):
    meta, now = rev["metadata"], ctl.now()
    ns, name = meta["namespace"], meta["name"]
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k.startswith(SERVING)}
    labels.update({"app": name, f"{SERVING}/revision": name, f"{SERVING}/revisionUID": meta["uid"]})
    pod_spec = copy.deepcopy(rev.get("spec") or {})
    for field in ("containerConcurrency", "timeoutSeconds", "idleTimeoutSeconds", "responseStartTimeoutSeconds"):
        pod_spec.pop(field, None)
    containers = pod_spec.get("containers") or []
    for c in containers:
        c.setdefault("name", "user-container")
    queue = _queue_image(ctl)
    if queue:
        containers.append({"name": "queue-proxy", "image": queue})
    pod_spec["containers"] = containers
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                  "metadata": {"name": f"{name}-deployment", "namespace": ns, "labels": dict(labels),
                               "ownerReferences": [owner_reference(rev)]},
                  "spec": {"replicas": 1, "progressDeadlineSeconds": 600,
                           "selector": {"matchLabels": {f"{SERVING}/revisionUID": meta["uid"]}},
                           "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec}}}
    live = ctl.store.get("apps", "Deployment", ns, f"{name}-deployment")
    if live is None:
        live = ctl.store.put(deployment)
    if deployment_available(live):
        wanted = [("ContainerHealthy", "True", None, None), ("Ready", "True", None, None),
                  ("ResourcesAvailable", "True", None, None)]
    else:
        reason, message = _pull_failure(ctl, rev)
        if reason:
            wanted = [("ContainerHealthy", "Unknown", "Deploying", None), ("Ready", "False", reason, message),
                      ("ResourcesAvailable", "False", reason, message)]
        else:
            wanted = [("ContainerHealthy", "Unknown", "Deploying", None), ("Ready", "Unknown", "Deploying", None),
                      ("ResourcesAvailable", "Unknown", "Deploying", None)]
    status = {"observedGeneration": meta.get("generation", 1), "serviceName": name,
              "conditions": _conditions(rev, wanted, now),
              "actualReplicas": (live.get("status") or {}).get("readyReplicas") or 0,
              "desiredReplicas": (live.get("spec") or {}).get("replicas", 1)}
    ctl.set_status(rev, status)


def _pull_failure(ctl, rev):
    pods = ctl.store.list("", "Pod", rev["metadata"]["namespace"],
                          label_selector={f"{SERVING}/revision": rev["metadata"]["name"]})
    for pod in pods:
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                return waiting["reason"], waiting.get("message")
    return None, None


# --- Route ---------------------------------------------------------------------------------------------
def reconcile_route(ctl, route):
    meta, now = route["metadata"], ctl.now()
    ns = meta["namespace"]
    traffic = []
    missing = None
    for target in (route.get("spec") or {}).get("traffic") or []:
        revision = target.get("revisionName")
        if not revision:
            config = ctl.store.get(SERVING, "Configuration", ns, target.get("configurationName"))
            revision = ((config or {}).get("status") or {}).get("latestReadyRevisionName")
            if not revision:
                missing = f'Configuration "{target.get("configurationName")}" does not have any ready Revision.'
                continue
        entry = {"revisionName": revision, "percent": target.get("percent", 100)}
        if "latestRevision" in target:
            entry["latestRevision"] = target["latestRevision"]
        traffic.append(entry)
    status = {"observedGeneration": meta.get("generation", 1), **_addresses(route, ctl)}
    if missing:
        wanted = [("AllTrafficAssigned", "Unknown", "RevisionMissing", missing),
                  ("IngressReady", "Unknown", None, None), ("Ready", "Unknown", "RevisionMissing", missing)]
    else:
        status["traffic"] = traffic
        wanted = [("AllTrafficAssigned", "True", None, None), ("IngressReady", "True", None, None),
                  ("Ready", "True", None, None)]
    status["conditions"] = _conditions(route, wanted, now)
    ctl.set_status(route, status)


def reconcile_ready(ctl, obj):
    """Knative caching Images and networking Certificates: Ready as soon as they exist."""
    ctl.set_status(obj, {"observedGeneration": obj["metadata"].get("generation", 1),
                         "conditions": _conditions(obj, [("Ready", "True", None, None)], ctl.now())})


def on_event(ctl, event_type, obj):
    """Links that are not ownerReferences: a revision's pods decide it (image pulls), and a
    Configuration's status decides the Route of the same name."""
    labels = (obj.get("metadata") or {}).get("labels") or {}
    ns = (obj.get("metadata") or {}).get("namespace", "")
    if obj.get("kind") == "Pod" and f"{SERVING}/revision" in labels:
        ctl.schedule((SERVING, "Revision", ns, labels[f"{SERVING}/revision"]))
    if obj.get("kind") == "Configuration" and obj.get("apiVersion", "").startswith(SERVING + "/"):
        ctl.schedule((SERVING, "Route", ns, obj["metadata"]["name"]))


HANDLERS = {
    (SERVING, "Service"): reconcile_service,
    (SERVING, "Configuration"): reconcile_configuration,
    (SERVING, "Revision"): reconcile_revision,
    (SERVING, "Route"): reconcile_route,
    ("caching.internal.knative.dev", "Image"): reconcile_ready,
    ("networking.internal.knative.dev", "Certificate"): reconcile_ready,
}
