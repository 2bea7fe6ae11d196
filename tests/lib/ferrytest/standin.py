"""Stand-in images for a release on the real test node: for every image a profile's release files
use, one image holding the static `standin` program (tests/standin/standin.h) and a
/standin.json written from the release's own container specs: the ports its containers declare
or probe, `job` for Jobs, the webhook Services it stands behind (with a certificate for them).
Built with the kit's image tool, pushed to the kit's registry, and recorded in an images.lock as
`ferry mirror` would, so `ferry install --lock` points the release at them."""

import json
import os
import tempfile

from .pki import make_pki
from .util import run

WORKLOAD_KINDS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "Pod"}


def release_objects(files):
    """The objects of `files` as ferry reads them (the test tool release_objects)."""
    tool = os.environ.get("FERRY_RELEASE_OBJECTS")
    if not tool:
        raise RuntimeError("FERRY_RELEASE_OBJECTS is not set (ctest sets it)")
    return json.loads(run([tool, *files]).stdout)


def _pod_spec(obj):
    spec = obj.get("spec", {})
    return spec if obj["kind"] == "Pod" else spec.get("template", {}).get("spec", {})


def _pod_labels(obj):
    return obj.get("metadata", {}).get("labels", {}) if obj["kind"] == "Pod" else \
        obj.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})


def _ports(container):
    named = {p.get("name"): p["containerPort"] for p in container.get("ports", []) if "containerPort" in p}
    ports = set(named.values())
    for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
        action = container.get(probe, {})
        for kind in ("httpGet", "tcpSocket", "grpc"):
            port = action.get(kind, {}).get("port")
            if isinstance(port, int):
                ports.add(port)
            elif port in named:
                ports.add(named[port])
    return ports


def webhook_services(objects):
    """(namespace, name) of every Service a webhook configuration or CRD conversion calls."""
    out = set()
    for obj in objects:
        configs = [w.get("clientConfig", {}) for w in obj.get("webhooks", [])]
        conversion = obj.get("spec", {}).get("conversion", {}) if obj["kind"] == "CustomResourceDefinition" else {}
        configs.append(conversion.get("webhook", {}).get("clientConfig", {}))
        for c in configs:
            s = c.get("service")
            if s:
                out.add((s.get("namespace", ""), s["name"]))
    return out


def plan(objects):
    """{image reference: standin config} for every container image of the release's workloads."""
    services = {(o["metadata"].get("namespace", ""), o["metadata"]["name"]): o.get("spec", {}).get("selector", {})
                for o in objects if o["kind"] == "Service"}
    hooks = webhook_services(objects)
    configs = {}
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        ns = obj["metadata"].get("namespace", "")
        labels = _pod_labels(obj)
        behind = [{"namespace": s_ns, "service": name} for (s_ns, name), selector in sorted(services.items())
                  if (s_ns, name) in hooks and s_ns == ns and selector
                  and all(labels.get(k) == v for k, v in selector.items())]
        spec = _pod_spec(obj)
        for container in spec.get("initContainers", []) + spec.get("containers", []):
            c = configs.setdefault(container["image"], {"mode": "serve", "ports": set(), "webhooks": [], "paths": set()})
            if obj["kind"] == "Job" or container in spec.get("initContainers", []):
                c["mode"] = "job"
            c["ports"] |= _ports(container)
            c["webhooks"] += [w for w in behind if w not in c["webhooks"]]
            if container.get("command"):
                c["paths"].add(container["command"][0])
    return configs


def webhook_pki(directory, services):
    """A CA and one serving certificate for `services` ((namespace, name) pairs) as the API server
    dials them: NAME.NAMESPACE.svc."""
    names = ",".join(f"DNS:{name}.{ns}.svc,DNS:{name}.{ns}.svc.cluster.local" for ns, name in sorted(services))
    return make_pki(directory, san=names or "DNS:localhost")


def tls_of(pki):
    with open(pki.cert) as c, open(pki.key) as k, open(pki.ca_cert) as a:
        return {"cert": c.read(), "key": k.read(), "ca": a.read()}


def push(standin_bin, image_tool, reference, doc, work_dir, paths=(), user="65532"):
    """Pushes one stand-in image with configuration `doc` to `reference` (REGISTRY/REPO:TAG); the
    program also sits at each of `paths` (a container's `command` names it). `user` None: the
    image runs as root. Returns the reference with the pushed digest."""
    fd, cfg = tempfile.mkstemp(dir=work_dir, suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(doc, f)
    specs = [f"{standin_bin}:/standin:0755", f"{cfg}:/standin.json:0644"]
    specs += [f"{standin_bin}:{p}:0755" for p in sorted(paths) if p != "/standin"]
    argv = ["python3", image_tool, "--entrypoint", '["/standin"]'] + (["--user", user] if user else [])
    line = run(argv + [reference, *specs]).stdout.split()
    return f"{reference}@{line[-1]}"


def build(standin_bin, image_tool, registry, targets, configs, pki, work_dir, mode_override=None):
    """Pushes one stand-in image per source reference to `registry` at `targets[source]`
    (REPOSITORY:TAG) and returns {source: (target reference with digest, size)}."""
    tls = tls_of(pki)
    out = {}
    for source, target in targets.items():
        # An image no workload runs here (the queue-proxy, which Knative injects into app pods).
        c = configs.get(source) or {"mode": "serve", "ports": set(), "webhooks": [], "paths": set()}
        doc = {"mode": (mode_override or {}).get(source, c["mode"]), "ports": sorted(c["ports"]),
               "webhooks": c["webhooks"], "tls": tls}
        pushed = push(standin_bin, image_tool, f"{registry}/{target}", doc, work_dir, c["paths"])
        out[source] = (pushed, os.path.getsize(standin_bin))
    return out


def write_lock(path, pushed):
    """An images.lock mapping each source to its stand-in, as `ferry mirror` writes it."""
    entries = [{"source": s, "target": t, "digest": t.split("@")[1],
                "mediaType": "application/vnd.oci.image.manifest.v1+json", "platforms": ["linux/amd64"],
                "size": size} for s, (t, size) in sorted(pushed.items())]
    with open(path, "w") as f:
        json.dump({"version": 1, "images": entries}, f, indent=2)
