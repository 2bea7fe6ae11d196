"""The simulated kubelet: a new Pod is scheduled at once (Pending), and after its workload's
start-up delay either runs (Ready; Job pods succeed) or, when an image cannot be pulled from the
emulator's registry, stays Pending with ErrImagePull, then ImagePullBackOff, with the kubelet's
Warning Events; it tries the pull again every `image_pull_backoff` seconds (option, default 10).
Test hooks (options, keyed by pod or owner name like workload_delays): `pod_unschedulable` leaves
the pod unscheduled with the scheduler's message; `pod_crashes` makes its containers exit 1 with
that text as their log, so the pod is in CrashLoopBackOff. `read_log` answers pods/log."""

import hashlib

from . import pod_failures
from .image_check import normalize
from .workload_status import condition

NODE = "emulator-node"
HOST_IP = "127.0.0.1"  # the Node's InternalIP (nodes.py): pods run on it


def reconcile_pod(ctl, pod):
    status = pod.get("status") or {}
    if status.get("phase"):
        return
    now = ctl.now()
    unschedulable = _hook(ctl.options, "pod_unschedulable", _names(ctl.store, pod))
    if unschedulable is not None:
        pod_failures.unschedulable(ctl, pod, unschedulable)
        return
    ctl.set_status(pod, {"phase": "Pending", "qosClass": "BestEffort", "hostIP": HOST_IP,
                         "hostIPs": [{"ip": HOST_IP}], "startTime": now,
                         "conditions": [condition([], "PodScheduled", "True", None, None, now)]})
    ctl.later(ctl.delay_for(_names(ctl.store, pod)), lambda c: start(c, _key(pod), pod["metadata"]["uid"]))


HANDLERS = {("", "Pod"): reconcile_pod}


def _key(pod):
    return "", "Pod", pod["metadata"].get("namespace", ""), pod["metadata"]["name"]


def _names(store, obj, depth=3):
    """The pod's name and its owners' names, nearest first (the delays are configured by name)."""
    names = [obj["metadata"]["name"]]
    namespace = obj["metadata"].get("namespace", "")
    for ref in obj["metadata"].get("ownerReferences") or []:
        if depth and ref.get("controller"):
            owner = store.get(ref["apiVersion"].rpartition("/")[0], ref["kind"], namespace, ref["name"])
            names += _names(store, owner, depth - 1) if owner else [ref["name"]]
    return names


def crash_log(emulator, pod):
    """What the pod's containers print before they exit, when `pod_crashes` makes them crash."""
    return _hook(emulator.options, "pod_crashes", _names(emulator.store, pod))


def _hook(options, option, names):
    """The value a test hook option (name -> value) gives the first of `names` it lists, or None."""
    configured = getattr(options, option, None) or {}
    return next((configured[n] for n in names if n in configured), None)


def _containers(pod):
    spec = pod.get("spec") or {}
    return (spec.get("initContainers") or []) + (spec.get("containers") or [])


def _owner_kind(pod):
    return next((r.get("kind") for r in pod["metadata"].get("ownerReferences") or [] if r.get("controller")), None)


def start(ctl, key, uid):
    """After the start-up delay: pull the images, then run (or complete) or fail the pull."""
    pod = ctl.store.get(*key)
    if pod is None or pod["metadata"]["uid"] != uid or pod["metadata"].get("deletionTimestamp"):
        return
    if (pod.get("status") or {}).get("phase") not in (None, "Pending"):
        return
    registry = getattr(ctl.options, "image_registry", None)
    failures = {}
    for c in _containers(pod):
        result = ctl.images.check(c.get("image", ""), registry, max_age=_backoff(ctl))
        if not result.ok:
            failures[c["name"]] = result.message(c.get("image", ""))
    dataplane = getattr(ctl.emulator, "dataplane", None)  # dataplane.py runs Knative revision pods
    if dataplane is not None and dataplane.runs(pod):
        failures.update(dataplane.pull_failure(pod))
    if failures:
        _pull_failed(ctl, pod, failures)
    elif _hook(ctl.options, "pod_crashes", _names(ctl.store, pod)) is not None:
        pod_failures.crash(ctl, key, uid)
    elif dataplane is not None and dataplane.runs(pod):
        dataplane.launch(pod, _run)  # Running and Ready once its app process answers
    else:
        _run(ctl, pod)


def _run(ctl, pod):
    now = ctl.now()
    old = (pod.get("status") or {}).get("conditions") or []
    done = _owner_kind(pod) == "Job"
    ip = (pod.get("status") or {}).get("podIP") or ctl.next_pod_ip()
    statuses = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        state = ({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}}
                 if done else {"running": {"startedAt": now}})
        statuses.append(_container_status(c, ready=not done, state=state, started=not done, running=True))
    conditions = []
    for kind in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"):
        if done and kind in ("Ready", "ContainersReady"):  # a finished Job pod is no longer ready
            conditions.append(condition(old, kind, "False", "PodCompleted", None, now))
        else:
            conditions.append(condition(old, kind, "True", None, None, now))
    status = dict(pod.get("status") or {}, phase="Succeeded" if done else "Running", conditions=conditions,
                  podIP=ip, podIPs=[{"ip": ip}], containerStatuses=statuses)
    ctl.set_status(pod, status)


def _container_status(c, ready, state, started, running):
    image = c.get("image", "")
    out = {"name": c["name"], "image": image, "imageID": "", "ready": ready, "restartCount": 0,
           "started": started, "state": state}
    if running:
        cid = hashlib.sha256((c["name"] + image).encode()).hexdigest()
        out["containerID"] = f"containerd://{cid}"
        _, host, repo, reference = normalize(image)
        digest = reference if reference.startswith("sha256:") else "sha256:" + cid
        out["imageID"] = f"{host}/{repo}@{digest}"
    return out


def _waiting_status(ctl, pod, failures, reason):
    now = ctl.now()
    old = (pod.get("status") or {}).get("conditions") or []
    names = [c["name"] for c in (pod.get("spec") or {}).get("containers") or []]
    unready = f"containers with unready status: [{' '.join(names)}]"
    statuses = []
    for c in (pod.get("spec") or {}).get("containers") or []:
        if c["name"] in failures:
            message = failures[c["name"]] if reason == "ErrImagePull" else f'Back-off pulling image "{c.get("image")}"'
            waiting = {"reason": reason, "message": message}
        else:
            waiting = {"reason": "ContainerCreating"}
        statuses.append(_container_status(c, ready=False, state={"waiting": waiting}, started=False, running=False))
    conditions = [condition(old, "PodReadyToStartContainers", "True", None, None, now),
                  condition(old, "Initialized", "True", None, None, now),
                  condition(old, "Ready", "False", "ContainersNotReady", unready, now),
                  condition(old, "ContainersReady", "False", "ContainersNotReady", unready, now),
                  condition(old, "PodScheduled", "True", None, None, now)]
    return dict(pod.get("status") or {}, phase="Pending", conditions=conditions, containerStatuses=statuses)


def _pull_failed(ctl, pod, failures):
    ctl.set_status(pod, _waiting_status(ctl, pod, failures, "ErrImagePull"))
    for c in _containers(pod):
        if c["name"] in failures:
            where = f"spec.containers{{{c['name']}}}"
            event(ctl, pod, "Normal", "Pulling", f'Pulling image "{c.get("image")}"', where)
            event(ctl, pod, "Warning", "Failed", failures[c["name"]], where)
            event(ctl, pod, "Warning", "Failed", "Error: ErrImagePull", where)
    uid = pod["metadata"]["uid"]
    ctl.later(min(1.0, _backoff(ctl)), lambda c: _back_off(c, _key(pod), uid, failures))


def _back_off(ctl, key, uid, failures):
    pod = ctl.store.get(*key)
    if pod is None or pod["metadata"]["uid"] != uid or (pod.get("status") or {}).get("phase") != "Pending":
        return
    ctl.set_status(pod, _waiting_status(ctl, pod, failures, "ImagePullBackOff"))
    for c in _containers(pod):
        if c["name"] in failures:
            where = f"spec.containers{{{c['name']}}}"
            event(ctl, pod, "Normal", "BackOff", f'Back-off pulling image "{c.get("image")}"', where)
            event(ctl, pod, "Warning", "Failed", "Error: ImagePullBackOff", where)
    ctl.later(_backoff(ctl), lambda c: start(c, key, uid))


def _backoff(ctl):
    return float(getattr(ctl.options, "image_pull_backoff", 10.0) or 10.0)


def event(ctl, obj, event_type, reason, message, field_path=None, component="kubelet"):
    """Records a core/v1 Event about `obj`, or counts one more of the same."""
    m = obj["metadata"]
    namespace = m.get("namespace") or "default"
    digest = hashlib.sha256(f"{m['uid']}/{reason}/{message}".encode()).hexdigest()[:16]
    name = f"{m['name']}.{digest}"
    now = ctl.now()
    live = ctl.store.get("", "Event", namespace, name)
    if live is not None:
        live["count"] = live.get("count", 1) + 1
        live["lastTimestamp"] = now
        ctl.store.put(live)
        return
    involved = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"), "name": m["name"],
                "namespace": m.get("namespace"), "uid": m["uid"], "resourceVersion": m.get("resourceVersion")}
    if field_path:
        involved["fieldPath"] = field_path
    ctl.store.put({"apiVersion": "v1", "kind": "Event",
                   "metadata": {"name": name, "namespace": namespace},
                   "involvedObject": involved, "reason": reason, "message": message, "type": event_type,
                   "source": {"component": component, "host": NODE}, "count": 1,
                   "firstTimestamp": now, "lastTimestamp": now, "eventTime": None,
                   "reportingComponent": component, "reportingInstance": NODE})
