"""Simulated workload controllers: Deployment (through ReplicaSets named <deployment>-<hash>, rolled
over when the template changes, the old one scaled down once the new one is available),
ReplicaSet, DaemonSet (one node), StatefulSet (<name>-0..n-1) and Job (one pod to completion).
Each owns its Pods (template labels, ownerReferences) and reports status with the real field
names, reasons and messages; readiness comes from the Pods, which the kubelet simulation in
pods.py starts after the configured delay."""

import copy
import time

from .pods import NODE
from .workload_status import condition, max_unavailable, owner_reference, suffix, template_hash

_REVISION = "deployment.kubernetes.io/revision"


def _ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _nonzero(status, *fields):
    """Drops zero counters, as the API omits them (omitempty)."""
    for field in fields:
        if not status.get(field):
            status.pop(field, None)
    return status


def _new_pod(owner, template, name, extra_labels):
    meta = copy.deepcopy((template or {}).get("metadata") or {})
    labels = dict(meta.get("labels") or {}, **extra_labels)
    pod_meta = {"name": name, "namespace": owner["metadata"]["namespace"], "labels": labels,
                "ownerReferences": [owner_reference(owner)]}
    if meta.get("annotations"):
        pod_meta["annotations"] = meta["annotations"]
    spec = copy.deepcopy((template or {}).get("spec") or {})
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("nodeName", NODE)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": pod_meta, "spec": spec}


def _live_pods(ctl, owner):
    return [p for p in ctl.owned("", "Pod", owner) if (p.get("status") or {}).get("phase") != "Failed"]


def _delete(ctl, obj):
    m = obj["metadata"]
    ctl.store.delete(obj["apiVersion"].rpartition("/")[0], obj["kind"], m.get("namespace", ""), m["name"])


# --- Deployment --------------------------------------------------------------------------------
def reconcile_deployment(ctl, d):
    spec, meta = d.get("spec") or {}, d["metadata"]
    replicas = spec.get("replicas", 1)
    template_h = template_hash(spec.get("template") or {})
    rs_name = f"{meta['name']}-{template_h}"
    owned = ctl.owned("apps", "ReplicaSet", d)
    new_rs = next((rs for rs in owned if rs["metadata"]["name"] == rs_name), None)
    if new_rs is None:
        revision = 1 + max([int((rs["metadata"].get("annotations") or {}).get(_REVISION, 0)) for rs in owned] or [0])
        new_rs = ctl.store.put(_replica_set(d, rs_name, template_h, replicas, revision))
        owned.append(new_rs)
    elif (new_rs.get("spec") or {}).get("replicas") != replicas:
        new_rs["spec"]["replicas"] = replicas
        new_rs = ctl.store.put(new_rs)
    new_status = new_rs.get("status") or {}
    if new_status.get("availableReplicas", 0) >= replicas:
        for rs in owned:
            if rs is not new_rs and rs["metadata"]["name"] != rs_name and rs["spec"].get("replicas"):
                rs["spec"]["replicas"] = 0
                ctl.store.put(rs)
    _deployment_status(ctl, d, owned, new_rs, replicas)


def _replica_set(d, name, template_h, replicas, revision):
    template = copy.deepcopy(d["spec"].get("template") or {})
    template.setdefault("metadata", {}).setdefault("labels", {})["pod-template-hash"] = template_h
    selector = copy.deepcopy(d["spec"].get("selector") or {})
    selector.setdefault("matchLabels", {})["pod-template-hash"] = template_h
    labels = dict((d["spec"].get("template") or {}).get("metadata", {}).get("labels") or {},
                  **{"pod-template-hash": template_h})
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": d["metadata"]["namespace"], "labels": labels,
                         "annotations": {_REVISION: str(revision),
                                         "deployment.kubernetes.io/desired-replicas": str(replicas)},
                         "ownerReferences": [owner_reference(d)]},
            "spec": {"replicas": replicas, "selector": selector, "template": template}}


def _deployment_status(ctl, d, owned, new_rs, replicas):
    spec = d.get("spec") or {}
    now = ctl.now()
    old = (d.get("status") or {}).get("conditions") or []
    total = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned)
    ready = sum((rs.get("status") or {}).get("readyReplicas", 0) for rs in owned)
    available = sum((rs.get("status") or {}).get("availableReplicas", 0) for rs in owned)
    updated = (new_rs.get("status") or {}).get("replicas", 0)
    rs_name = new_rs["metadata"]["name"]
    if available >= replicas - max_unavailable(spec, replicas):
        available_c = condition(old, "Available", "True", "MinimumReplicasAvailable",
                                "Deployment has minimum availability.", now, update_time=True)
    else:
        available_c = condition(old, "Available", "False", "MinimumReplicasUnavailable",
                                "Deployment does not have minimum availability.", now, update_time=True)
    complete = updated == replicas and total == replicas and available >= replicas
    if complete:
        progressing = condition(old, "Progressing", "True", "NewReplicaSetAvailable",
                                f'ReplicaSet "{rs_name}" has successfully progressed.', now, update_time=True)
    elif _deadline_exceeded(ctl, d):
        progressing = condition(old, "Progressing", "False", "ProgressDeadlineExceeded",
                                f'ReplicaSet "{rs_name}" has timed out progressing.', now, update_time=True)
    else:
        progressing = condition(old, "Progressing", "True", "ReplicaSetUpdated",
                                f'ReplicaSet "{rs_name}" is progressing.', now, update_time=True)
    status = {"observedGeneration": d["metadata"].get("generation", 1), "replicas": total,
              "updatedReplicas": updated, "readyReplicas": ready, "availableReplicas": available,
              "unavailableReplicas": max(replicas - available, 0), "conditions": [available_c, progressing]}
    ctl.set_status(d, _nonzero(status, "replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                               "unavailableReplicas"))


def _deadline_exceeded(ctl, d):
    """Progress deadline per generation: the clock starts when the rollout is first seen."""
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds", 600)
    key = (d["metadata"]["uid"], d["metadata"].get("generation"))
    started = ctl.state.setdefault("rollout_started", {})
    if key not in started:
        started[key] = time.monotonic()
        group_key = ("apps", "Deployment", d["metadata"]["namespace"], d["metadata"]["name"])
        ctl.schedule(group_key, delay=deadline + 0.05)
    return time.monotonic() - started[key] >= deadline


# --- ReplicaSet -------------------------------------------------------------------------------------
def reconcile_replica_set(ctl, rs):
    spec = rs.get("spec") or {}
    desired = spec.get("replicas", 1)
    pods = _live_pods(ctl, rs)
    for _ in range(desired - len(pods)):
        pods.append(ctl.store.put(_new_pod(rs, spec.get("template"), f"{rs['metadata']['name']}-{suffix()}", {})))
    if len(pods) > desired:
        extra = sorted(pods, key=_ready)[:len(pods) - desired]  # not-ready pods go first
        for pod in extra:
            _delete(ctl, pod)
        pods = [p for p in pods if p not in extra]
    ready = sum(1 for p in pods if _ready(p))
    status = {"replicas": len(pods), "fullyLabeledReplicas": len(pods), "readyReplicas": ready,
              "availableReplicas": ready, "observedGeneration": rs["metadata"].get("generation", 1)}
    ctl.set_status(rs, _nonzero(status, "fullyLabeledReplicas", "readyReplicas", "availableReplicas"))


# --- DaemonSet and StatefulSet --------------------------------------------------------------------
def reconcile_daemon_set(ctl, ds):
    spec = ds.get("spec") or {}
    revision = template_hash(spec.get("template") or {})
    pods = _live_pods(ctl, ds)
    for pod in [p for p in pods if p["metadata"]["labels"].get("controller-revision-hash") != revision]:
        _delete(ctl, pod)
        pods.remove(pod)
    if not pods:
        labels = {"controller-revision-hash": revision,
                  "pod-template-generation": str(ds["metadata"].get("generation", 1))}
        pods.append(ctl.store.put(_new_pod(ds, spec.get("template"), f"{ds['metadata']['name']}-{suffix()}", labels)))
    ready = sum(1 for p in pods if _ready(p))
    status = {"currentNumberScheduled": len(pods), "desiredNumberScheduled": 1, "numberMisscheduled": 0,
              "numberReady": ready, "numberAvailable": ready, "numberUnavailable": 1 - ready,
              "updatedNumberScheduled": len(pods), "observedGeneration": ds["metadata"].get("generation", 1)}
    ctl.set_status(ds, _nonzero(status, "numberAvailable", "numberUnavailable"))


def reconcile_stateful_set(ctl, sts):
    spec, name = sts.get("spec") or {}, sts["metadata"]["name"]
    replicas = spec.get("replicas", 1)
    revision = f"{name}-{template_hash(spec.get('template') or {})}"
    by_name = {p["metadata"]["name"]: p for p in _live_pods(ctl, sts)}
    pods = []
    for ordinal in range(replicas):
        pod_name = f"{name}-{ordinal}"
        pod = by_name.pop(pod_name, None)
        if pod is not None and pod["metadata"]["labels"].get("controller-revision-hash") != revision:
            _delete(ctl, pod)
            pod = None
        if pod is None:
            labels = {"controller-revision-hash": revision, "statefulset.kubernetes.io/pod-name": pod_name,
                      "apps.kubernetes.io/pod-index": str(ordinal)}
            pod = ctl.store.put(_new_pod(sts, spec.get("template"), pod_name, labels))
        pods.append(pod)
    for pod in by_name.values():  # scaled down
        _delete(ctl, pod)
    ready = sum(1 for p in pods if _ready(p))
    old = sts.get("status") or {}
    current = revision if ready == replicas else old.get("currentRevision", revision)
    status = {"observedGeneration": sts["metadata"].get("generation", 1), "replicas": len(pods),
              "readyReplicas": ready, "availableReplicas": ready, "currentReplicas": len(pods),
              "updatedReplicas": len(pods), "currentRevision": current, "updateRevision": revision,
              "collisionCount": 0}
    ctl.set_status(sts, _nonzero(status, "readyReplicas", "availableReplicas"))


# --- Job ---------------------------------------------------------------------------------------------
def reconcile_job(ctl, job):
    status = dict(job.get("status") or {})
    if any(c.get("type") == "Complete" for c in status.get("conditions") or []):
        return
    spec, meta = job.get("spec") or {}, job["metadata"]
    now = ctl.now()
    status.setdefault("startTime", now)
    pods = ctl.owned("", "Pod", job)
    if not pods:
        labels = {"batch.kubernetes.io/job-name": meta["name"], "job-name": meta["name"],
                  "batch.kubernetes.io/controller-uid": meta["uid"], "controller-uid": meta["uid"]}
        template = copy.deepcopy(spec.get("template") or {})
        template.setdefault("spec", {}).setdefault("restartPolicy", "Never")
        pods = [ctl.store.put(_new_pod(job, template, f"{meta['name']}-{suffix()}", labels))]
    succeeded = sum(1 for p in pods if (p.get("status") or {}).get("phase") == "Succeeded")
    if succeeded >= spec.get("completions", 1):
        status.update(succeeded=succeeded, active=0, ready=0, completionTime=now, conditions=[
            condition([], "SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods", now),
            condition([], "Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods", now)])
        status.pop("active", None)
    else:
        status.update(active=len(pods) - succeeded, ready=sum(1 for p in pods if _ready(p)))
    status["terminating"] = 0
    ctl.set_status(job, status)


HANDLERS = {
    ("apps", "Deployment"): reconcile_deployment,
    ("apps", "ReplicaSet"): reconcile_replica_set,
    ("apps", "DaemonSet"): reconcile_daemon_set,
    ("apps", "StatefulSet"): reconcile_stateful_set,
    ("batch", "Job"): reconcile_job,
}
