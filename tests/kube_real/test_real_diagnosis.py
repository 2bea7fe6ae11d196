"""When an install on a real Kubernetes v1.24 node cannot come up, `ferry install` exits 1 within
its --timeout and names each cause in one line with the object, the image or reason and the
kubelet's or scheduler's own message: an image missing at the mirror, an image that would run as
root under runAsNonRoot, a container that keeps crashing (with its last log lines), a pod no node
will take (an untolerated taint); and when applies keep failing because a webhook cannot be
called, why that webhook's pods are not ready. A Knative 0.6 release is refused by preflight
before anything is applied, naming the API versions a 1.24 server no longer serves."""

import os
import unittest

from ferrytest import standin
from ferrytest.real_node import Node, RealNodeCase as NodeCase, Release, write_lock, write_profile

NODE = Node()
TAINT = "ferry-test/diagnosis=true:NoSchedule"


def deployment(name, ns, image, pod_extra="", container_extra=""):
    return f"""apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {ns}}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      terminationGracePeriodSeconds: 1{pod_extra}
      containers:
      - name: main
        image: {image}{container_extra}
---
"""


class RealNodeCase(NodeCase):
    def standin(self, repo, mode="serve", user="65532", ports=(8080,)):
        return standin.push(os.environ["FERRY_STANDIN"], NODE.image_tool, f"{NODE.registry}/{repo}",
                            {"mode": mode, "ports": list(ports)}, self.tmp.path, user=user)

    def install_profile(self, name, files, mapping, *extra, timeout="40s"):
        directory = self.tmp.sub(name)
        profile = write_profile(directory, name, files)
        lock = os.path.join(directory, "images.lock")
        write_lock(lock, mapping)
        self.addCleanup(lambda: self.ferry.run("uninstall", "--kubeconfig", NODE.kubeconfig, "--force",
                                               "--delete-crds", timeout=300))
        return self.ferry.run("install", "--profile", profile, "--manifests-dir", directory, "--lock", lock,
                              "--kubeconfig", NODE.kubeconfig, "--timeout", timeout, "--no-pull-secret", *extra,
                              timeout=600)


class TestBrokenWorkloads(RealNodeCase):
    def test_each_cause_is_one_line_with_the_kubelets_words(self):
        crash = self.standin("diag/crash:1", mode="crash")
        as_root = self.standin("diag/root:1", user=None)
        fine = self.standin("diag/fine:1")
        missing = f"{NODE.registry}/diag/missing:1@sha256:{'0' * 63}1"
        tolerate = "\n      tolerations: [{key: ferry-test/diagnosis, operator: Exists}]"
        text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: ferry-diag}\n---\n"
        text += deployment("missing", "ferry-diag", "example.test/diag/missing:1", tolerate)
        text += deployment("as-root", "ferry-diag", "example.test/diag/root:1", tolerate,
                           "\n        securityContext: {runAsNonRoot: true}")
        text += deployment("crash", "ferry-diag", "example.test/diag/crash:1", tolerate)
        text += deployment("untolerated", "ferry-diag", "example.test/diag/fine:1")
        mapping = {"example.test/diag/missing:1": missing, "example.test/diag/root:1": as_root,
                   "example.test/diag/crash:1": crash, "example.test/diag/fine:1": fine}
        NODE.kubectl("taint", "node", NODE.name, TAINT)
        self.addCleanup(lambda: NODE.kubectl("taint", "node", NODE.name, TAINT + "-", check=False))
        r = self.install_profile("diag", {"diag.yaml": text}, mapping, "--skip-preflight")
        self.assertEqual(r.code, 1, r)
        out = r.out + r.err
        lines = out.splitlines()

        def line_with(*needles):
            found = [l for l in lines if all(n in l for n in needles)]
            self.assertTrue(found, f"no line with {needles} in:\n{out}")
            return found[0]

        # The missing image: which pod, the image, the kubelet's pull error; said while waiting
        # already, not only when the timeout came.
        live = lines.index(line_with("not ready yet: pod ferry-diag/missing-", "diag/missing:1", "not found"))
        final = lines.index(line_with("not ready: Deployment ferry-diag/missing"))
        self.assertLess(live, final)
        self.assertIn("diag/missing:1", lines[final + 1])
        self.assertTrue(any(("ErrImagePull" in l or "ImagePullBackOff" in l) and "ferry-diag/missing-" in l
                            for l in lines), out)
        # runAsNonRoot against an image that runs as root: the kubelet's own sentence.
        line_with("pod ferry-diag/as-root-", "CreateContainerConfigError",
                  "container has runAsNonRoot and image will run as root")
        # A crash loop, with what the container said last.
        crash_at = lines.index(line_with("pod ferry-diag/crash-", "CrashLoopBackOff"))
        self.assertIn("fatal: configuration is unusable", "\n".join(lines[crash_at:crash_at + 6]))
        # A pod the scheduler cannot place: its reason names the taint.
        line_with("pod ferry-diag/untolerated-", "Pending", "ferry-test/diagnosis")


class TestWebhookWithoutReadyPods(RealNodeCase):
    def test_failing_applies_say_why_the_webhooks_pods_are_not_ready(self):
        crash = self.standin("hook/crash:1", mode="crash")
        # The webhook's Deployment is not part of the release (another team's, or a leftover), and
        # it crashes: every Job this release creates is refused until the deadline.
        NODE.kubectl("create", "namespace", "ferry-hook-backend")
        self.addCleanup(lambda: NODE.kubectl("delete", "namespace", "ferry-hook-backend", "--wait=false",
                                             check=False))
        NODE.kubectl("create", "deployment", "ghost", "-n", "ferry-hook-backend", "--image", crash)
        text = """apiVersion: v1
kind: Namespace
metadata: {name: ferry-hook, labels: {ferry-hook: guarded}}
---
apiVersion: v1
kind: Service
metadata: {name: ghost, namespace: ferry-hook-backend}
spec:
  selector: {app: ghost}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: ghost.ferry.test}
webhooks:
- name: ghost.ferry.test
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  clientConfig: {service: {name: ghost, namespace: ferry-hook-backend}}
  namespaceSelector: {matchLabels: {ferry-hook: guarded}}
  rules: [{apiGroups: [batch], apiVersions: [v1], operations: [CREATE], resources: [jobs]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: guarded, namespace: ferry-hook}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: example.test/hook/crash:1}]
"""
        r = self.install_profile("hook", {"hook.yaml": text}, {"example.test/hook/crash:1": crash},
                                 "--skip-preflight", timeout="30s")
        self.assertEqual(r.code, 1, r)
        out = r.out + r.err
        self.assertIn('failed calling webhook "ghost.ferry.test"', out)
        self.assertIn("webhook ghost.ferry.test (ValidatingWebhookConfiguration ghost.ferry.test) calls Service "
                      "ferry-hook-backend/ghost", out)
        self.assertTrue(any("pod ferry-hook-backend/ghost-" in l and ("CrashLoopBackOff" in l or "exited with" in l)
                            for l in out.splitlines()), out)
        self.assertIn("fatal: configuration is unusable", out)


class TestOldReleaseRefused(RealNodeCase):
    def test_knative_0_6_is_refused_before_anything_is_applied(self):
        release = Release(NODE, self.ferry, self.tmp.path, profile="knative-0.6-istio-1.1")
        release.push_unrunnable()
        before = NODE.namespaces()
        crds_before = len(NODE.get_json("customresourcedefinitions")["items"])
        r = release.install(timeout="60s")
        self.assertEqual(r.code, 1, r)
        out = r.out + r.err
        for version in ("extensions/v1beta1", "apiextensions.k8s.io/v1beta1"):
            self.assertIn(version, out)
        self.assertNotIn("wave 1 of", out)
        self.assertEqual(NODE.namespaces(), before)
        self.assertEqual(len(NODE.get_json("customresourcedefinitions")["items"]), crds_before)


class TestUnrunnableRelease(RealNodeCase):
    def test_images_that_cannot_run_and_one_missing_fail_naming_the_missing_one(self):
        release = Release(NODE, self.ferry, self.tmp.path)
        targets = release.push_unrunnable(skip=("cmd/activator",))
        missing = next(t for s, t in targets.items() if "cmd/activator" in s)
        self.addCleanup(lambda: release.uninstall("--force"))
        r = release.install("--skip-preflight", timeout="45s")
        self.assertEqual(r.code, 1, r)
        out = r.out + r.err
        repo = missing.split("@")[0].rsplit(":", 1)[0]
        pull = [l for l in out.splitlines() if repo in l and ("ErrImagePull" in l or "ImagePullBackOff" in l)]
        self.assertTrue(pull, out)
        self.assertIn("knative-serving/activator-", pull[0])
        self.assertIn("container has runAsNonRoot and image will run as root", out)
        self.assertNotIn("everything ready", out)


if __name__ == "__main__":
    unittest.main()
