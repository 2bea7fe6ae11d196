"""What the `kube-real:` tests share: the node (kit.node()), kubectl against it, and a profile's
release mirrored into the node's registry, either as stand-ins that really run or as images that
cannot run."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import unittest

from . import kit, kube_release, standin
from .client import RegistryClient
from .ferry import Ferry
from .util import TempDir, corpus_dir, run

PROFILE = "knative-1.23-kourier"
BUILT_IN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


class Node:
    """The running node of this ctest run (or a skip, see kit.node()), or of the environment a
    kit's DIR/env was sourced into (from_env)."""

    def __init__(self, env=None):
        self.env = env or kit.node()
        self.kubeconfig = self.env["KUBECONFIG"]
        self.registry = self.env["FERRYKUBE_REGISTRY"]
        self.image_tool = self.env["FERRYKUBE_IMAGE_TOOL"]
        self.name = self.env["FERRYKUBE_NODE_NAME"]

    @classmethod
    def from_env(cls):
        return cls({k: v for k, v in os.environ.items() if k == "KUBECONFIG" or k.startswith("FERRYKUBE_")})

    def kubectl(self, *args, check=True, timeout=120, input=None):
        kubectl = shutil.which("kubectl")
        if not kubectl:
            raise RuntimeError("kubectl is not on PATH (the Makefile installs kubernetes-client)")
        p = subprocess.run([kubectl, "--kubeconfig", self.kubeconfig, *args], capture_output=True, text=True,
                           timeout=timeout, input=input)
        if check and p.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
        return p

    def get_json(self, *args):
        return json.loads(self.kubectl("get", "-o", "json", *args).stdout)

    def namespaces(self):
        return {n["metadata"]["name"] for n in self.get_json("namespaces")["items"]}


def profile_files(ferry, profile, manifests_dir):
    listing = json.loads(run([ferry.bin, "manifests", "list", "--output", "json"]).stdout)
    for p in listing["profiles"]:
        if p["name"] == profile:
            return [os.path.join(manifests_dir, f["name"]) for f in p["files"]]
    raise RuntimeError(f"no profile {profile}")


def flat_name(reference):
    return re.sub(r"[^a-z0-9]+", "-", reference.split("@")[0].split(":v")[0].lower()).strip("-")[-60:]


class RealNodeCase(unittest.TestCase):
    """A test on the node: a scratch directory and a ferry "user" of its own."""

    def setUp(self):
        self.tmp = TempDir()
        self.ferry = Ferry()
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(self.ferry.cleanup)


class Release:
    """A profile's images at the node's registry and the images.lock that points at them."""

    def __init__(self, node, ferry, tmp, profile=PROFILE):
        self.node, self.ferry, self.tmp, self.profile = node, ferry, tmp, profile
        self.corpus = corpus_dir()
        self.references = kube_release.release_images(ferry.bin, profile, self.corpus)
        self.lock = os.path.join(tmp, "images.lock")

    def targets(self, tag):
        return {ref: f"mirror/{flat_name(ref)}:{tag}" for ref in self.references}

    def push_standins(self, tag="standin", modes=None, skip=()):
        """Stand-ins that run (modes: {fragment of a reference: "crash" | "job" | "serve"});
        references containing a string in `skip` stay out of the registry but in the lock."""
        objects = standin.release_objects(profile_files(self.ferry, self.profile, self.corpus))
        configs = standin.plan(objects)
        pki = standin.webhook_pki(os.path.join(self.tmp, "webhook-pki"), standin.webhook_services(objects))
        override = {ref: mode for ref in self.references for frag, mode in (modes or {}).items() if frag in ref}
        wanted = {r: t for r, t in self.targets(tag).items() if not any(s in r for s in skip)}
        pushed = standin.build(os.environ["FERRY_STANDIN"], self.node.image_tool, self.node.registry, wanted,
                               configs, pki, self.tmp, override)
        for ref, target in self.targets(tag).items():
            if ref not in pushed:  # missing at the mirror: a digest nothing has
                pushed[ref] = (f"{self.node.registry}/{target}@sha256:{'0' * 63}1", 1)
        standin.write_lock(self.lock, pushed)
        return pushed

    def push_unrunnable(self, skip=()):
        """Random one-layer images without any program (what kube_release makes for the emulator):
        they cannot run on a real kubelet."""
        targets = kube_release.mirror_release(_RegistryAt(self.node.registry), self.references, self.lock, skip=skip)
        return targets

    def install(self, *extra, timeout="300s", profile=None):
        return self.ferry.run("install", "--profile", profile or self.profile, "--manifests-dir", self.corpus,
                              "--lock", self.lock, "--kubeconfig", self.node.kubeconfig, "--timeout", timeout,
                              "--no-wait-load-balancer", *extra, timeout=900)

    def uninstall(self, *extra):
        return self.ferry.run("uninstall", "--kubeconfig", self.node.kubeconfig, *extra, timeout=900)


class _RegistryAt:
    """The little of ferrytest.registry.Registry that kube_release/images need."""

    def __init__(self, host):
        self.host = host

    def client(self):
        return RegistryClient(self.host)


def write_profile(directory, name, files, layer="kourier"):
    """A profile of the user's own: `files` ({file name: YAML text}) written into `directory`
    beside the profile, each with its sha256. Returns the profile's path."""
    os.makedirs(directory, exist_ok=True)
    lines = [f"name: {name}", f"description: {name} (test)", "networking:", f"  layer: {layer}",
             "serviceApiVersion: serving.knative.dev/v1", "files:"]
    for file_name, text in files.items():
        with open(os.path.join(directory, file_name), "w") as f:
            f.write(text)
        lines += [f"  - name: {file_name}", f"    url: https://example.test/{file_name}",
                  f"    sha256: {hashlib.sha256(text.encode()).hexdigest()}"]
    path = os.path.join(directory, "profile-" + name + ".yaml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def write_lock(path, mapping):
    """An images.lock for {source reference: target reference@digest}."""
    standin.write_lock(path, {s: (t, 1) for s, t in mapping.items()})
