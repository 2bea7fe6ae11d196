"""Integration tests for `ferry selftest` on a cluster whose Knative Serving serves only
serving.knative.dev/v1alpha1, as Knative 0.6 did (against the Kubernetes API emulator with its
simulated serving data plane).

The emulator serves only current built-in API versions, so a 0.6 release cannot be installed on it;
the cluster is built the way an admin would carry 0.6's CRDs onto a 1.22+ server: the four
serving.knative.dev CRD documents of the real v0.6.0 release (FERRY_CORPUS), read with kubectl and
rewritten from apiextensions v1beta1 to v1, still serving v1alpha1 only. The gateway is Istio's, as
in 0.6.

Contract under test: discovery offers v1alpha1 only, so the self-test deploys the v1alpha1 samples
(spec.template), finds where they answer from their 0.6 status, every check passes, and the report
says which API version it used."""

import json
import os
import subprocess
import unittest

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import corpus_dir, wait_until

from test_selftest import dataplane_emulator

NS = "ferry-selftest"
SERVING = "serving.knative.dev"
RELEASE_06 = "knative-serving-v0.6.0-serving.yaml"
KINDS = ("services", "configurations", "revisions", "routes")


def json_stream(text):
    """The JSON objects of `text`, one after another (kubectl prints one per document)."""
    decoder, objects, text, at = json.JSONDecoder(), [], text.strip(), 0
    while at < len(text):
        obj, at = decoder.raw_decode(text, at)
        objects.append(obj)
        while at < len(text) and text[at].isspace():
            at += 1
    return objects


def crds_of_release_06():
    """The v0.6.0 release's serving.knative.dev CRDs as apiextensions.k8s.io/v1 objects that serve
    v1alpha1 only (names, scope, printer columns and status subresource kept)."""
    with open(os.path.join(corpus_dir(), RELEASE_06)) as f:
        docs = [d for d in f.read().split("\n---") if "kind: CustomResourceDefinition" in d
                and any(f"name: {kind}.{SERVING}" in d for kind in KINDS)]
    # kubectl reads YAML without a server (--local); the tests use the standard library only.
    out = subprocess.run(["kubectl", "annotate", "--local", "-f", "-", "ferry.test/from=" + RELEASE_06,
                          "-o", "json"], input="\n---".join(docs), capture_output=True, text=True, check=True,
                         env={**os.environ, "KUBECONFIG": os.devnull}).stdout
    crds = []
    for old in json_stream(out):
        spec = old["spec"]
        version = {"name": spec["version"], "served": True, "storage": True,
                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
                   "subresources": spec.get("subresources") or {},
                   "additionalPrinterColumns": [{"name": c["name"], "type": c["type"], "jsonPath": c["JSONPath"]}
                                                for c in spec.get("additionalPrinterColumns") or []]}
        crds.append({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
                     "metadata": old["metadata"],
                     "spec": {"group": spec["group"], "scope": spec["scope"], "names": spec["names"],
                              "versions": [version]}})
    return crds


class SelftestV1alpha1Case(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.kube = dataplane_emulator(self)
        crds = crds_of_release_06()
        self.assertEqual(sorted(c["spec"]["names"]["plural"] for c in crds), sorted(KINDS))
        for crd in crds:
            code, body = self.kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
            self.assertEqual(code, 201, body)
        wait_until(lambda: self.kube.request("GET", f"/apis/{SERVING}/v1alpha1")[0] == 200,
                   "the 0.6 CRDs established")
        store = self.kube.store
        store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        store.put({"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
                   "spec": {"type": "LoadBalancer", "ports": [{"name": "http2", "port": 80}]}})
        # Every Knative Service as it was stored (the self-test deletes them at the end).
        self.services = []
        store.subscribe(lambda event, obj: self.services.append(json.loads(json.dumps(obj)))
                        if event == "ADDED" and obj.get("kind") == "Service" and
                        obj.get("apiVersion", "").startswith(SERVING + "/") else None)
        self.report_dir = self.tmp.sub("report")


class TestSelftestOnV1alpha1(SelftestV1alpha1Case):
    def test_discovery_offers_v1alpha1_only(self):
        groups = self.kube.request("GET", "/apis")[1]
        serving = next(g for g in groups["groups"] if g["name"] == SERVING)
        self.assertEqual([v["version"] for v in serving["versions"]], ["v1alpha1"])
        self.assertEqual(self.kube.request("GET", f"/apis/{SERVING}/v1")[0], 404)

    def test_selftest_uses_the_v1alpha1_samples_and_passes(self):
        r = self.ferry.run("selftest", "--kubeconfig", self.kube.kubeconfig, "--duration", "5s",
                           "--concurrency", "20", "--scale-to-zero-timeout", "30s", "--ready-timeout", "30s",
                           "--report", self.report_dir, timeout=240)
        self.assertEqual(r.code, 0, str(r))
        with open(os.path.join(self.report_dir, "report.json")) as f:
            report = json.load(f)
        checks = {c["name"]: c for c in report["checks"]}
        self.assertTrue(report["passed"], report["checks"])
        self.assertEqual([c["name"] for c in report["checks"] if not c["passed"]], [])
        # The report says which API the samples were deployed with.
        self.assertEqual(checks["Knative Serving serves Services"]["seen"], f"{SERVING}/v1alpha1")
        for name in ("helloworld-go is Ready", "autoscale-go is Ready", "helloworld answers through the gateway",
                     "helloworld scales to zero", "cold start from zero succeeds",
                     "autoscale scales out under load", "autoscale scales back down after the load"):
            self.assertIn(name, checks)
        self.assertEqual(report["gateway"]["how"], "LoadBalancer of istio-system/istio-ingressgateway")

        # What ferry sent: the v1alpha1 samples, to the v1alpha1 path, and nothing to v1.
        made = {s["metadata"]["name"]: s for s in self.services}
        self.assertEqual(sorted(made), ["autoscale-go", "helloworld-go"])
        for service in made.values():
            self.assertEqual(service["apiVersion"], f"{SERVING}/v1alpha1")
            self.assertIn("containers", service["spec"]["template"]["spec"])
        container = made["helloworld-go"]["spec"]["template"]["spec"]["containers"][0]
        self.assertEqual(container["env"], [{"name": "TARGET", "value": "Go Sample v1"}])
        paths = [(e["method"], e["path"].split("?")[0]) for e in self.kube.requests()]
        self.assertIn(("PATCH", f"/apis/{SERVING}/v1alpha1/namespaces/{NS}/services/helloworld-go"), paths)
        self.assertFalse([p for _, p in paths if p.startswith(f"/apis/{SERVING}/v1/")], paths)
        wait_until(lambda: not self.kube.store.list(SERVING, "Service", NS), "sample Services deleted")


class TestV1alpha1Status(SelftestV1alpha1Case):
    def test_runlatest_service_reports_the_0_6_status_fields(self):
        # The 0.5 shape, still accepted by 0.6: spec.runLatest...revisionTemplate.spec.container.
        service = {"apiVersion": f"{SERVING}/v1alpha1", "kind": "Service",
                   "metadata": {"name": "hello", "namespace": "default"},
                   "spec": {"runLatest": {"configuration": {"revisionTemplate": {"spec": {"container": {
                       "image": "registry.local/helloworld:v1", "env": [{"name": "TARGET", "value": "old"}]}}}}}}}
        code, body = self.kube.request("POST", f"/apis/{SERVING}/v1alpha1/namespaces/default/services", service)
        self.assertEqual(code, 201, body)

        def ready():
            status = self.kube.request("GET", f"/apis/{SERVING}/v1alpha1/namespaces/default/services/hello")[1] \
                .get("status") or {}
            return status if any(c["type"] == "Ready" and c["status"] == "True"
                                 for c in status.get("conditions") or []) else None
        status = wait_until(ready, "the v1alpha1 Service Ready", timeout=30)
        self.assertEqual(status["url"], "http://hello.default.example.com")
        self.assertEqual(status["domain"], "hello.default.example.com")
        self.assertEqual(status["domainInternal"], "hello.default.svc.cluster.local")
        self.assertEqual(status["address"], {"hostname": "hello.default.svc.cluster.local",
                                             "url": "http://hello.default.svc.cluster.local"})
        self.assertEqual(status["traffic"][0]["revisionName"], status["latestReadyRevisionName"])
        route = self.kube.request("GET", f"/apis/{SERVING}/v1alpha1/namespaces/default/routes/hello")[1]
        self.assertEqual(route["status"]["domain"], "hello.default.example.com")
        # The single container of the old shape is what the pod runs.
        rev = self.kube.store.get(SERVING, "Revision", "default", status["latestReadyRevisionName"])
        self.assertEqual(rev["spec"]["containers"][0]["image"], "registry.local/helloworld:v1")


if __name__ == "__main__":
    unittest.main()
