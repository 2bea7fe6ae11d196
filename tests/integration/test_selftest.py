"""Integration tests for `ferry selftest` against the Kubernetes API emulator with its simulated
serving data plane (sample apps run as the revisions' pods, a Host-routed gateway, the KPA).

Contract under test: on a working cluster every check passes, exit code 0, and --report DIR holds
report.json (the checks, the gateway and how it was found, scale to zero, cold start, one series
point per second of each load phase) and report.html; each failure (an image with no app, an
unreachable --gateway) exits non-zero with a failed check that says what was expected, what was
seen and what to look at."""

import json
import os
import unittest

from ferrytest.ferry import Ferry
from ferrytest.kube.server import Emulator
from ferrytest.testcase import ServerTestCase
from ferrytest.util import free_port, wait_until

from test_samples import sample_apps

NS = "ferry-selftest"


def knative_crd():
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "services.serving.knative.dev"},
            "spec": {"group": "serving.knative.dev", "scope": "Namespaced",
                     "names": {"plural": "services", "singular": "service", "kind": "Service",
                               "shortNames": ["ksvc"]},
                     "versions": [{"name": "v1", "served": True, "storage": True}]}}


def dataplane_emulator(case):
    """An emulator with controllers and the serving data plane running both sample apps, with a
    KPA quick enough for tests (1 s window, zero after 1.5 s idle)."""
    return case.use(Emulator(case.tmp.sub("kube"), controllers=True, pki=case.pki(), dataplane=True,
                             dataplane_apps=sample_apps(), kpa_stable_window=1.0, kpa_tick=0.1,
                             scale_to_zero_grace=1.5))


class SelftestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.kube = dataplane_emulator(self)
        self.kube.options.image_pull_backoff = 0.5
        store = self.kube.store
        self.kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", knative_crd())
        wait_until(lambda: self.kube.request("GET", "/apis/serving.knative.dev/v1")[0] == 200,
                   "Knative Service CRD established")
        store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kourier-system"}})
        store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "kourier", "namespace": "kourier-system"},
                   "spec": {"type": "LoadBalancer", "ports": [{"name": "http2", "port": 80}]}})
        self.report_dir = self.tmp.sub("report")

    def selftest(self, *args, **flags):
        """Runs the self-test with short windows; flags={"scale_to_zero_timeout": "3s"} overrides one."""
        options = {"duration": "5s", "concurrency": "20", "scale_to_zero_timeout": "30s", "ready_timeout": "30s",
                   "report": self.report_dir, **flags}
        argv = [x for k, v in options.items() for x in ("--" + k.replace("_", "-"), v)]
        return self.ferry.run("selftest", "--kubeconfig", self.kube.kubeconfig, *argv, *args, timeout=240)

    def report(self):
        with open(os.path.join(self.report_dir, "report.json")) as f:
            return json.load(f)

    def checks(self, report):
        return {c["name"]: c for c in report["checks"]}


class TestSelftestPasses(SelftestCase):
    def test_whole_selftest_passes_and_writes_both_reports(self):
        r = self.selftest()
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("PASS", r.out)
        report = self.report()
        self.assertTrue(report["passed"], report["checks"])
        self.assertTrue(all(c["passed"] for c in report["checks"]))
        names = set(self.checks(report))
        for name in ("helloworld answers through the gateway", "helloworld scales to zero",
                     "cold start from zero succeeds", "autoscale scales out under load",
                     "autoscale scales back down after the load"):
            self.assertIn(name, names)
        self.assertEqual(report["gateway"]["address"], self.kube.gateway)
        self.assertEqual(report["gateway"]["how"], "LoadBalancer of kourier-system/kourier")
        self.assertTrue(report["scale_to_zero"]["observed"])
        cold = report["cold_start"]
        self.assertTrue(cold["measured"])
        self.assertGreater(cold["total_seconds"], 0)
        labels = [p["label"] for p in cold["timeline"]]
        for label in ("request sent", "first byte", "response complete"):
            self.assertIn(label, labels)
        self.assertTrue(all(0 <= p["t_seconds"] <= cold["total_seconds"] for p in cold["timeline"]), cold)
        phases = {p["name"]: p for p in report["phases"]}
        self.assertEqual(set(phases), {"autoscale", "helloworld"})
        auto = phases["autoscale"]
        self.assertGreaterEqual(auto["peak_pods"], 2)  # 80% of ceil(20/10)
        self.assertGreaterEqual(len(auto["series"]), 4)  # one point per second of a 5 s run
        self.assertGreater(max(p["rps"] for p in auto["series"]), 0)
        self.assertEqual(max(p["pods"] for p in auto["series"]) <= auto["peak_pods"], True)
        self.assertTrue(phases["helloworld"]["note"])
        with open(os.path.join(self.report_dir, "report.html")) as f:
            html = f.read()
        self.assertIn('data-series="pods"', html)
        self.assertIn('data-series="cold-start"', html)
        # cleaned up: the namespace the self-test made is going or gone
        wait_until(lambda: not self.kube.store.list("serving.knative.dev", "Service", NS), "sample Services deleted")


class TestSelftestFailures(SelftestCase):
    def test_image_without_an_app_fails_naming_image_pull_back_off(self):
        r = self.selftest("--hello-image", "registry.local/samples/nothing:v1", ready_timeout="5s",
                          duration="2s", concurrency="10")
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn("FAIL", r.out)
        report = self.report()
        self.assertFalse(report["passed"])
        ready = self.checks(report)["helloworld-go is Ready"]
        self.assertFalse(ready["passed"])
        # The kubelet alternates ErrImagePull and ImagePullBackOff while it retries; either names it.
        self.assertRegex(ready["hint"], "ImagePullBackOff|ErrImagePull")
        self.assertIn("registry.local/samples/nothing:v1", ready["hint"])
        self.assertRegex(r.out, "ImagePullBackOff|ErrImagePull")

    def test_unreachable_gateway_fails_saying_so(self):
        r = self.selftest("--gateway", f"127.0.0.1:{free_port()}")
        self.assertNotEqual(r.code, 0, str(r))
        report = self.report()
        self.assertEqual(report["gateway"], {"address": report["gateway"]["address"], "how": "--gateway"})
        probe = self.checks(report)["helloworld answers through the gateway"]
        self.assertFalse(probe["passed"])
        self.assertIn("status 200", probe["expected"])
        self.assertIn("--gateway", probe["hint"])
        self.assertIn("FAIL  helloworld answers through the gateway", r.out)

    def test_wrong_body_fails_showing_what_came_back(self):
        # the autoscale app as "helloworld": it answers, but not "Hello Go Sample v1!"
        r = self.selftest("--hello-image", "registry.local/samples/autoscale:v1")
        self.assertNotEqual(r.code, 0, str(r))
        probe = self.checks(self.report())["helloworld answers through the gateway"]
        self.assertFalse(probe["passed"])
        self.assertEqual(probe["expected"], 'status 200, body "Hello Go Sample v1!"')
        self.assertNotIn("Hello", probe["seen"])
        self.assertTrue(probe["hint"])

    def test_never_scaling_to_zero_fails_with_the_pods_seen(self):
        self.kube.set_options(scale_to_zero_grace=3600)
        r = self.selftest(scale_to_zero_timeout="3s")
        self.assertNotEqual(r.code, 0, str(r))
        check = self.checks(self.report())["helloworld scales to zero"]
        self.assertFalse(check["passed"])
        self.assertIn("within 3.0 s", check["expected"])
        self.assertIn("1 pod(s) still there", check["seen"])
        self.assertIn("config-autoscaler", check["hint"])
        self.assertFalse(self.report()["scale_to_zero"]["observed"])


if __name__ == "__main__":
    unittest.main()
