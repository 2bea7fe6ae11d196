"""The emulator's one Node (with controllers): `emulator-node`, where the simulated kubelet runs
every pod, Ready, with the InternalIP 127.0.0.1. The address is loopback because that is where the
data plane's gateway listens on each gateway Service's nodePort (dataplane.py), so a client that
finds the gateway as NODE_ADDRESS:nodePort (as on kind or bare metal) really reaches it."""

from .pods import HOST_IP, NODE
from .store import now_rfc3339

NODE_ADDRESS = HOST_IP


def install(emulator):
    emulator.store.put(node_object(now_rfc3339()))


def node_object(now):
    labels = {"kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
              "node-role.kubernetes.io/control-plane": ""}
    ready = {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
             "lastHeartbeatTime": now, "lastTransitionTime": now}
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": NODE, "labels": labels},
        "spec": {"podCIDR": "10.244.0.0/24", "podCIDRs": ["10.244.0.0/24"]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": NODE_ADDRESS}, {"type": "Hostname", "address": NODE}],
            "conditions": [ready],
            "capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "110"},
            "nodeInfo": {"kubeletVersion": "v1.32.4", "containerRuntimeVersion": "containerd://1.7.24",
                         "operatingSystem": "linux", "architecture": "amd64"},
        },
    }
