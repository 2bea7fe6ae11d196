"""Small pure helpers the simulated controllers and admission share: conditions that keep their
transition times while nothing changes, availability of a Deployment, stable names and addresses
(template hashes, random-looking suffixes, cluster IPs), object keys and owner references."""

import hashlib
import json
import random

# The alphabet Kubernetes uses for generated name suffixes and hashes (no vowels, no 0/1/3).
SAFE_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def get_condition(obj, kind):
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def condition_true(obj, kind):
    c = get_condition(obj, kind)
    return bool(c) and c.get("status") == "True"


def condition(old_conditions, kind, status, reason, message, now, update_time=False):
    """A condition dict; lastTransitionTime stays as it was unless the status flips (and
    lastUpdateTime, written for workloads, unless anything changes)."""
    old = next((c for c in old_conditions or [] if c.get("type") == kind), None)
    out = {"type": kind, "status": status}
    if reason:
        out["reason"] = reason
    if message:
        out["message"] = message
    same_status = old is not None and old.get("status") == status
    if update_time:
        same = same_status and old.get("reason") == reason and old.get("message") == message
        out["lastUpdateTime"] = old.get("lastUpdateTime", now) if same else now
    out["lastTransitionTime"] = old.get("lastTransitionTime", now) if same_status else now
    return out


def deployment_available(deployment):
    """What the Knative operator and kapp ask: is the Available condition True for this generation?"""
    status = deployment.get("status") or {}
    if status.get("observedGeneration") != deployment["metadata"].get("generation"):
        return False
    return condition_true(deployment, "Available")


def max_unavailable(spec, replicas):
    """A Deployment's rollingUpdate.maxUnavailable as a number of pods (default 25%, rounded down)."""
    value = ((spec.get("strategy") or {}).get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        return replicas
    if isinstance(value, str) and value.endswith("%"):
        return int(replicas * int(value[:-1]) // 100)
    return int(value)


def template_hash(template):
    """A stable pod-template-hash / controller-revision-hash for a pod template (10 chars)."""
    digest = hashlib.sha256(json.dumps(template, sort_keys=True).encode()).digest()
    return "".join(SAFE_CHARS[b % len(SAFE_CHARS)] for b in digest[:10])


def suffix(n=5):
    return "".join(random.choice(SAFE_CHARS) for _ in range(n))


def cluster_ip_for(namespace, name):
    """A stable 10.96.x.y for a Service that has none recorded."""
    digest = hashlib.sha256(f"{namespace}/{name}".encode()).digest()
    return f"10.96.{digest[0]}.{digest[1] % 253 + 2}"


# --- object identity -------------------------------------------------------------------------------
def api_group(api_version):
    return (api_version or "").rpartition("/")[0]


def key_of(obj):
    m = obj.get("metadata") or {}
    return api_group(obj.get("apiVersion")), obj.get("kind"), m.get("namespace") or "", m.get("name")


def owned_by(obj, owner):
    uid = owner["metadata"].get("uid")
    return any(r.get("uid") == uid for r in obj["metadata"].get("ownerReferences") or [])


def owner_reference(owner):
    return {"apiVersion": owner["apiVersion"], "kind": owner["kind"], "name": owner["metadata"]["name"],
            "uid": owner["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}
