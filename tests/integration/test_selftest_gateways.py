"""`ferry install` then `ferry selftest` through the gateway paths other than Kourier's
LoadBalancer, against the Kubernetes emulator with its serving data plane and a real registry as
the mirror.

Contract under test: on a cluster without a load-balancer controller (the emulator's
load_balancer=False: kind, bare metal) `install --no-wait-load-balancer` succeeds, says once that
kourier's address was not waited for, and the self-test passes through the NodePort on the node's
address; without the flag the install times out saying only the LoadBalancer address is missing,
naming the flag and the NodePort. With the Istio profile (Istio itself preinstalled), the
self-test passes through istio-system/istio-ingressgateway."""

import json
import os
import unittest

from ferrytest import images, istio_base, kube_release
from ferrytest.kube import Emulator
from ferrytest.registry import Registry

from test_install import ReleaseCase
from test_samples import sample_apps

FLAG = "--no-wait-load-balancer"


class GatewayCase(ReleaseCase):
    profile = "knative-1.23-kourier"
    load_balancer = True

    def setUp(self):
        super().setUp()
        self.reg = self.use(Registry())
        self.kube = self.use(Emulator(self.tmp.sub("kube"), controllers=True, pki=self.pki(),
                                      crd_established_delay=0.1, workload_ready_delay=0.1,
                                      image_registry=self.reg.host, load_balancer=self.load_balancer,
                                      dataplane=True, dataplane_apps=sample_apps(), kpa_stable_window=1.0, kpa_tick=0.1,
                                      scale_to_zero_grace=1.5))
        self.kube.options.image_pull_backoff = 0.5
        self.lock = self.tmp.sub("images.lock")
        kube_release.mirror_release(self.reg, self.references, self.lock)
        # The samples at the mirror, as a user who mirrored them would name them.
        for name in ("helloworld", "autoscale"):
            images.push(self.reg, f"samples/{name}", "v1", images.make_image(name, layers=1, layer_size=256))
        self.report_dir = self.tmp.sub("report")

    def install(self, *extra, timeout="60s"):
        return self.ferry.run("install", "--profile", self.profile, "--manifests-dir", self.corpus,
                              "--lock", self.lock, "--kubeconfig", self.kube.kubeconfig, "--context", "admin",
                              "--timeout", timeout, *extra)

    def selftest(self):
        """The self-test with short phases (the gateway path is what is under test here)."""
        return self.ferry.run("selftest", "--kubeconfig", self.kube.kubeconfig, "--context", "admin",
                              "--hello-image", f"{self.reg.host}/samples/helloworld:v1",
                              "--autoscale-image", f"{self.reg.host}/samples/autoscale:v1",
                              "--duration", "3s", "--concurrency", "10", "--ready-timeout", "30s",
                              "--scale-to-zero-timeout", "30s", "--report", self.report_dir, timeout=240)

    def report(self):
        with open(os.path.join(self.report_dir, "report.json")) as f:
            return json.load(f)

    def http_node_port(self, namespace, name):
        svc = self.kube.store.get("", "Service", namespace, name)
        return next(p["nodePort"] for p in svc["spec"]["ports"] if p["port"] == 80)


class TestWithoutLoadBalancer(GatewayCase):
    load_balancer = False

    def test_install_with_the_flag_succeeds_and_selftest_goes_through_the_node_port(self):
        r = self.install(FLAG)
        self.assertEqual(r.code, 0, r)
        notes = [line for line in r.out.splitlines() if "not waited for" in line]
        self.assertEqual(notes, ["  Service kourier-system/kourier: no LoadBalancer address "
                                 f"(not waited for: {FLAG})"], r.out)
        svc = self.kube.store.get("", "Service", "kourier-system", "kourier")
        self.assertFalse(svc["status"]["loadBalancer"].get("ingress"))

        s = self.selftest()
        self.assertEqual(s.code, 0, s)
        node_port = self.http_node_port("kourier-system", "kourier")
        self.assertTrue(30000 <= node_port <= 32767, node_port)
        gateway = self.report()["gateway"]
        self.assertEqual(gateway, {"address": f"127.0.0.1:{node_port}",
                                   "how": f"NodePort {node_port} of kourier-system/kourier on node address 127.0.0.1"})
        self.assertTrue(self.report()["passed"], self.report()["checks"])

    def test_without_the_flag_the_install_times_out_naming_the_load_balancer_and_the_flag(self):
        r = self.install(timeout="20s")
        self.assertNotEqual(r.code, 0, r)
        # Everything else came up: the one thing awaited is kourier's address.
        self.assertIn("timed out waiting for everything ready (1 not ready: Service kourier-system/kourier: "
                      "waiting for a load balancer address", r.err)
        self.assertIn(f"install with {FLAG} and reach the gateway through its NodePort", r.err)
        node_port = self.http_node_port("kourier-system", "kourier")
        hint = [line for line in r.out.splitlines() if "has no LoadBalancer address" in line]
        self.assertEqual(len(hint), 1, r.out)
        self.assertIn(FLAG, hint[0])
        self.assertIn(f"NodePort {node_port} (its port 80)", hint[0])


class TestIstio(GatewayCase):
    profile = "knative-1.23-istio"

    def test_selftest_passes_through_the_istio_ingress_gateway(self):
        proxy = images.make_image("istio-proxyv2", layers=1, layer_size=256)
        images.push(self.reg, "istio/proxyv2", "1.23.0", proxy)
        istio_base.install(self.kube, f"{self.reg.host}/istio/proxyv2:1.23.0")
        r = self.install()
        self.assertEqual(r.code, 0, r)
        self.assertIsNone(self.kube.store.get("", "Service", "kourier-system", "kourier"))

        s = self.selftest()
        self.assertEqual(s.code, 0, s)
        report = self.report()
        self.assertEqual(report["gateway"], {"address": self.kube.gateway,
                                             "how": "LoadBalancer of istio-system/istio-ingressgateway"})
        self.assertTrue(report["passed"], report["checks"])


if __name__ == "__main__":
    unittest.main()
