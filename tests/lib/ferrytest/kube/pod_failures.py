"""Pods that fail the way they do on a real cluster, for tests of failure diagnosis (hooks chosen by
the options `pod_unschedulable` and `pod_crashes`, see pods.py): an unschedulable pod (Pending,
PodScheduled False with the scheduler's message, a FailedScheduling Event) and a container that
keeps exiting 1 (CrashLoopBackOff, restarts counted every `image_pull_backoff` seconds, BackOff
Events); plus the pods/log subresource, which returns what such a container printed."""

from . import errors, pods
from .workload_status import condition


def unschedulable(ctl, pod, message):
    """What kube-scheduler leaves on a pod no node can take: `message` such as
    "0/1 nodes are available: 1 Insufficient cpu."."""
    now = ctl.now()
    ctl.set_status(pod, {"phase": "Pending", "qosClass": "BestEffort",
                         "conditions": [condition([], "PodScheduled", "False", "Unschedulable", message, now)]})
    pods.event(ctl, pod, "Warning", "FailedScheduling", message, component="default-scheduler")


def crash(ctl, key, uid):
    """The pod's containers ran and exited 1: CrashLoopBackOff, restarted again after the back-off."""
    pod = ctl.store.get(*key)
    if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
        return
    now = ctl.now()
    status = pod.get("status") or {}
    old = status.get("conditions") or []
    containers = (pod.get("spec") or {}).get("containers") or []
    restarts = 1 + max([c.get("restartCount", 0) for c in status.get("containerStatuses") or []] or [0])
    names = " ".join(c["name"] for c in containers)
    unready = f"containers with unready status: [{names}]"
    where = f"{pod['metadata']['name']}_{pod['metadata'].get('namespace')}({uid})"
    statuses = []
    for c in containers:
        out = pods._container_status(c, ready=False, started=False, running=True, state={"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 10s restarting failed container={c['name']} pod={where}"}})
        out["restartCount"] = restarts
        out["lastState"] = {"terminated": {"exitCode": 1, "reason": "Error", "startedAt": now, "finishedAt": now,
                                           "containerID": out["containerID"]}}
        statuses.append(out)
        pods.event(ctl, pod, "Warning", "BackOff", f"Back-off restarting failed container {c['name']} in pod {where}",
                   f"spec.containers{{{c['name']}}}")
    ip = status.get("podIP") or ctl.next_pod_ip()
    conditions = [condition(old, "PodReadyToStartContainers", "True", None, None, now),
                  condition(old, "Initialized", "True", None, None, now),
                  condition(old, "Ready", "False", "ContainersNotReady", unready, now),
                  condition(old, "ContainersReady", "False", "ContainersNotReady", unready, now),
                  condition(old, "PodScheduled", "True", None, None, now)]
    ctl.set_status(pod, dict(status, phase="Running", conditions=conditions, podIP=ip, podIPs=[{"ip": ip}],
                             containerStatuses=statuses))
    ctl.later(pods._backoff(ctl), lambda c: crash(c, key, uid))


def read_log(emulator, namespace, name, query):
    """The text of GET pods/NAME/log (container, previous, tailLines), or the API server's errors."""
    pod = emulator.store.get("", "Pod", namespace, name)
    if pod is None:
        raise errors.not_found("", "pods", name)
    containers = [c["name"] for c in pods._containers(pod)]
    container = query.get("container") or ""
    if not container:
        if len(containers) != 1:
            raise errors.ApiError(400, "BadRequest", f"a container name must be specified for pod {name}, "
                                                     f"choose one of: [{' '.join(containers)}]")
        container = containers[0]
    if container not in containers:
        raise errors.ApiError(400, "BadRequest", f"container {container} is not valid for pod {name}")
    status = next((s for s in (pod.get("status") or {}).get("containerStatuses") or [] if s["name"] == container), {})
    previous = query.get("previous") in ("true", "1")
    if previous and "terminated" not in (status.get("lastState") or {}):
        raise errors.ApiError(400, "BadRequest", f'previous terminated container "{container}" in pod "{name}" not found')
    waiting = (status.get("state") or {}).get("waiting") or {}
    if not previous and waiting and waiting.get("reason") != "CrashLoopBackOff":
        raise errors.ApiError(400, "BadRequest", f'container "{container}" in pod "{name}" is waiting to start: '
                                                 f'{waiting.get("reason", "ContainerCreating")}')
    text = pods.crash_log(emulator, pod) or ""
    lines = text.splitlines(keepends=True)
    tail = query.get("tailLines")
    if tail is not None and str(tail).isdigit():
        lines = lines[len(lines) - min(int(tail), len(lines)):]
    return "".join(lines)
