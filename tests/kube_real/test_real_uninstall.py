"""`ferry uninstall` on real timing: a pod that drains for its whole termination grace period (as
Knative's activator may, for up to 600 s) keeps its namespace terminating; uninstall says which
pod holds it and how long its grace period runs, fails at its --timeout naming both and --force,
and `uninstall --force` deletes that pod with grace period 0 and finishes clean."""

import os
import unittest

from ferrytest import standin
from ferrytest.real_node import Node, RealNodeCase, write_lock, write_profile

NODE = Node()

RELEASE = """apiVersion: v1
kind: Namespace
metadata: {name: ferry-drain}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: activator, namespace: ferry-drain}
spec:
  selector: {matchLabels: {app: activator}}
  template:
    metadata: {labels: {app: activator}}
    spec:
      terminationGracePeriodSeconds: 300
      containers:
      - name: activator
        image: example.test/drain/activator:1
        readinessProbe: {httpGet: {port: 8012}}
"""


class TestUninstallOnRealTiming(RealNodeCase):
    def test_a_draining_pod_is_named_and_force_ends_the_wait(self):
        image = standin.push(os.environ["FERRY_STANDIN"], NODE.image_tool, f"{NODE.registry}/drain/activator:1",
                             {"mode": "drain", "ports": [8012]}, self.tmp.path)
        directory = self.tmp.sub("drain")
        profile = write_profile(directory, "drain", {"drain.yaml": RELEASE})
        lock = os.path.join(directory, "images.lock")
        write_lock(lock, {"example.test/drain/activator:1": image})
        kube = ("--kubeconfig", NODE.kubeconfig)
        self.addCleanup(lambda: self.ferry.run("uninstall", *kube, "--force", timeout=300))
        r = self.ferry.run("install", "--profile", profile, "--manifests-dir", directory, "--lock", lock, *kube,
                           "--no-pull-secret", "--timeout", "120s", timeout=300)
        self.assertEqual(r.code, 0, r)

        u = self.ferry.run("uninstall", *kube, "--timeout", "15s", timeout=300)
        self.assertEqual(u.code, 1, u)
        out = u.out + u.err
        self.assertIn("namespace ferry-drain still terminating: 1 pod in it: activator-", out)
        self.assertIn("grace period 300 s, about ", out)
        error = u.err.strip().splitlines()[-1]
        self.assertIn("Namespace ferry-drain", error)
        self.assertIn("activator-", error)
        self.assertIn("--force", error)

        f = self.ferry.run("uninstall", *kube, "--force", "--timeout", "60s", timeout=300)
        self.assertEqual(f.code, 0, f)
        self.assertIn("grace period 0", f.err + f.out)
        self.assertNotIn("ferry-drain", NODE.namespaces())


if __name__ == "__main__":
    unittest.main()
