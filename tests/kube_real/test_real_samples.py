"""The sample apps on the real node: `ferry samples push` to the node's registry, then helloworld
and autoscale run as plain Deployments on the real kubelet (as non-root, which their images say)
and answer `Hello <TARGET>!` and the prime over the pod IP. And `ferry selftest` against a
cluster without Knative fails at once, saying Knative Serving is not there."""

import json
import unittest
import urllib.request

from ferrytest.real_node import Node, RealNodeCase

NODE = Node()
NS = "ferry-samples"


def deployment(name, image, env):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": NS},
            "spec": {"selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}}, "spec": {
                         "terminationGracePeriodSeconds": 5,
                         "containers": [{"name": "app", "image": image, "env": env,
                                         "securityContext": {"runAsNonRoot": True, "allowPrivilegeEscalation": False},
                                         "readinessProbe": {"httpGet": {"path": "/", "port": 8080}}}]}}}}


def get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.status, r.read().decode()


class TestSamplesOnTheRealNode(RealNodeCase):
    def test_pushed_samples_run_on_the_kubelet_and_answer(self):
        r = self.ferry.run("samples", "push", "--to", f"{NODE.registry}/knative-samples", "--output", "json")
        self.assertEqual(r.code, 0, r)
        pinned = {i["name"]: i["pinned"] for i in r.json()["images"]}
        NODE.kubectl("create", "namespace", NS)
        self.addCleanup(lambda: NODE.kubectl("delete", "namespace", NS, "--wait=false", check=False))
        apps = {"helloworld": deployment("helloworld", pinned["helloworld"], [{"name": "TARGET", "value": "real node"}]),
                "autoscale": deployment("autoscale", pinned["autoscale"], [])}
        for doc in apps.values():
            NODE.kubectl("apply", "-f", "-", input=json.dumps(doc))
        for name in apps:
            NODE.kubectl("wait", "-n", NS, "--for=condition=Available", f"deployment/{name}", "--timeout=120s")

        def pod_ip(app):
            pods = NODE.get_json("pods", "-n", NS, "-l", f"app={app}")["items"]
            return next(p["status"]["podIP"] for p in pods if p["status"].get("podIP"))

        self.assertEqual(get(f"http://{pod_ip('helloworld')}:8080/"), (200, "Hello real node!\n"))
        status, body = get(f"http://{pod_ip('autoscale')}:8080/?prime=100")
        self.assertEqual(status, 200)
        self.assertIn("The largest prime less than 100 is 97.", body)

    def test_selftest_without_knative_fails_at_once(self):
        r = self.ferry.run("selftest", "--kubeconfig", NODE.kubeconfig, "--namespace", "ferry-selftest-none")
        self.assertEqual(r.code, 1, r)
        self.assertIn("Knative Serving serves Services", r.out)
        self.assertIn("FAIL", r.out)
        self.assertNotIn("ferry-selftest-none", NODE.namespaces())


if __name__ == "__main__":
    unittest.main()
