"""Simulated Service handling: every Service gets a spec.clusterIP (10.96.x.y; NodePort and
LoadBalancer ports a nodePort), a LoadBalancer gets status.loadBalancer.ingress with the
emulator's lb_ip (unless the option `load_balancer` is off: a cluster with no load-balancer
controller, like kind or bare metal, where the ingress stays empty and only the nodePorts work),
and Services with a selector get Endpoints and an EndpointSlice listing the matching Pods (ready
or not), as kube-proxy's clients and `kn quickstart` read them."""

import copy
import hashlib

from .workload_status import cluster_ip_for, owner_reference, template_hash

_MANAGED_BY = "endpointslice-controller.k8s.io"


def reconcile_service(ctl, svc):
    spec = svc.get("spec") or {}
    wanted = copy.deepcopy(svc)
    wspec = wanted.setdefault("spec", {})
    kind = spec.get("type") or "ClusterIP"
    if kind != "ExternalName" and not spec.get("clusterIP"):
        ip = cluster_ip_for(svc["metadata"].get("namespace", ""), svc["metadata"]["name"])
        wspec["clusterIP"], wspec["clusterIPs"] = ip, [ip]
    if kind in ("NodePort", "LoadBalancer"):
        for n, port in enumerate(wspec.get("ports") or []):
            digest = hashlib.sha256(f"{svc['metadata']['uid']}/{n}".encode()).digest()
            port.setdefault("nodePort", 30000 + int.from_bytes(digest[:4], "big") % 2768)
    if wanted != svc:
        svc = ctl.store.put(wanted)
    lb_ip = getattr(ctl.options, "lb_ip", "127.0.0.1")
    balanced = kind == "LoadBalancer" and getattr(ctl.options, "load_balancer", True)
    status = {"loadBalancer": {"ingress": [{"ip": lb_ip, "ipMode": "VIP"}]} if balanced else {}}
    ctl.set_status(svc, status)
    if spec.get("selector"):
        _endpoints(ctl, svc)


def on_event(ctl, event_type, obj):
    """A Pod that changes may change the endpoints of the Services in its namespace."""
    if obj.get("kind") == "Pod" and obj.get("apiVersion") == "v1":
        for svc in ctl.store.list("", "Service", obj["metadata"].get("namespace", "")):
            if (svc.get("spec") or {}).get("selector"):
                ctl.schedule(("", "Service", svc["metadata"]["namespace"], svc["metadata"]["name"]))


def _matching_pods(ctl, svc):
    selector = svc["spec"]["selector"]
    pods = ctl.store.list("", "Pod", svc["metadata"]["namespace"], label_selector=selector)
    return [p for p in pods if (p.get("status") or {}).get("podIP") and not p["metadata"].get("deletionTimestamp")]


def _ready(pod):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def _target_port(port, pods):
    target = port.get("targetPort", port.get("port"))
    if isinstance(target, str):
        for pod in pods:
            for c in (pod.get("spec") or {}).get("containers") or []:
                for p in c.get("ports") or []:
                    if p.get("name") == target:
                        return p.get("containerPort")
        return port.get("port")
    return target


def _target_ref(pod):
    m = pod["metadata"]
    return {"kind": "Pod", "name": m["name"], "namespace": m["namespace"], "uid": m["uid"]}


def _endpoints(ctl, svc):
    meta = svc["metadata"]
    pods = _matching_pods(ctl, svc)
    ports = [{k: v for k, v in (("name", p.get("name")), ("port", _target_port(p, pods)),
                                ("protocol", p.get("protocol", "TCP"))) if v is not None}
             for p in svc["spec"].get("ports") or []]
    address = [{"ip": p["status"]["podIP"], "nodeName": p["spec"].get("nodeName"), "targetRef": _target_ref(p)}
               for p in pods]
    ready = [a for a, p in zip(address, pods) if _ready(p)]
    not_ready = [a for a, p in zip(address, pods) if not _ready(p)]
    subset = {"ports": ports}
    if ready:
        subset["addresses"] = ready
    if not_ready:
        subset["notReadyAddresses"] = not_ready
    labels = dict(meta.get("labels") or {})
    endpoints = {"apiVersion": "v1", "kind": "Endpoints",
                 "metadata": {"name": meta["name"], "namespace": meta["namespace"], "labels": labels},
                 "subsets": [subset] if pods else []}
    if not endpoints["subsets"]:
        endpoints.pop("subsets")
    ctl.put_if_changed(ctl.store.get("", "Endpoints", meta["namespace"], meta["name"]), endpoints)

    name = f"{meta['name']}-{template_hash(meta['uid'])[:5]}"
    slice_labels = dict(labels, **{"kubernetes.io/service-name": meta["name"],
                                   "endpointslice.kubernetes.io/managed-by": _MANAGED_BY})
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
        "metadata": {"name": name, "namespace": meta["namespace"], "labels": slice_labels,
                     "ownerReferences": [owner_reference(svc)]},
        "endpoints": [{"addresses": [p["status"]["podIP"]], "nodeName": p["spec"].get("nodeName"),
                       "targetRef": _target_ref(p),
                       "conditions": {"ready": _ready(p), "serving": _ready(p), "terminating": False}}
                      for p in pods],
        "ports": ports}
    ctl.put_if_changed(ctl.store.get("discovery.k8s.io", "EndpointSlice", meta["namespace"], name), endpoint_slice)


HANDLERS = {("", "Service"): reconcile_service}
