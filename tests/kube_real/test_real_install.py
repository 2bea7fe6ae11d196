"""`ferry install` of Knative 1.23 on Kourier on a real Kubernetes v1.24 node, with stand-in images
that really run (tests/standin): every Deployment Available and every Job complete when ferry
says ready, the self-test failing at once because nothing really reconciles Knative Services, a
second install unchanged, and uninstall leaving none of the release's namespaces."""

import time
import unittest

from ferrytest.real_node import BUILT_IN_NAMESPACES, Node, RealNodeCase, Release

NODE = Node()


class TestRealInstall(RealNodeCase):
    def setUp(self):
        super().setUp()
        self.release = Release(NODE, self.ferry, self.tmp.path)
        self.release.push_standins()

    def test_install_is_really_ready_then_unchanged_then_uninstalled(self):
        started = time.monotonic()
        r = self.release.install()
        install_s = time.monotonic() - started
        self.assertEqual(r.code, 0, r)
        for ns in ("knative-serving", "kourier-system"):
            for d in NODE.get_json("deployments", "-n", ns)["items"]:
                name = f"{ns}/{d['metadata']['name']}"
                want = d["spec"].get("replicas", 1)
                self.assertEqual(d["status"].get("availableReplicas", 0), want, f"Deployment {name} not available")
                conditions = {c["type"]: c["status"] for c in d["status"].get("conditions", [])}
                self.assertEqual(conditions.get("Available"), "True", name)
        jobs = NODE.get_json("jobs", "-n", "knative-serving")["items"]
        self.assertTrue(jobs)
        for j in jobs:
            complete = [c for c in j["status"].get("conditions", []) if c["type"] == "Complete"]
            self.assertEqual([c["status"] for c in complete], ["True"], j["metadata"]["name"])
        # The stand-in behind the webhook wrote its CA through the API, as Knative's webhook does.
        hooks = NODE.get_json("validatingwebhookconfigurations")["items"]
        serving = [h for h in hooks if h["metadata"]["name"].endswith("serving.knative.dev")]
        self.assertTrue(serving)
        for h in serving:
            for w in h["webhooks"]:
                self.assertTrue(w["clientConfig"].get("caBundle"), h["metadata"]["name"])

        # Knative's controllers are stand-ins here: the self-test must say Knative Serving is not
        # running, naming the controller pods, instead of waiting out its five-minute timeout.
        st = self.ferry.run("selftest", "--kubeconfig", NODE.kubeconfig, "--namespace", "ferry-selftest-real")
        self.assertEqual(st.code, 1, st)
        self.assertIn("Knative Serving is not running", st.out)
        self.assertIn("knative-serving/controller-", st.out)
        self.assertNotIn("autoscale-go is Ready", st.out)

        started = time.monotonic()
        again = self.release.install()
        again_s = time.monotonic() - started
        self.assertEqual(again.code, 0, again)
        self.assertIn("unchanged", again.out.splitlines()[-1])

        started = time.monotonic()
        u = self.release.uninstall("--delete-crds")
        uninstall_s = time.monotonic() - started
        self.assertEqual(u.code, 0, u)
        self.assertEqual(NODE.namespaces(), BUILT_IN_NAMESPACES)
        print(f"real node: install {install_s:.1f} s, again {again_s:.1f} s, uninstall {uninstall_s:.1f} s")


if __name__ == "__main__":
    unittest.main()
