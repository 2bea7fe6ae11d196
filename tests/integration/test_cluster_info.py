"""Integration tests for `ferry cluster info` against the Kubernetes API emulator over HTTPS.

Contract under test: on success the server, its version, the identity the server sees, the
default namespace and whether Knative Serving / Istio / Kourier are installed (text, or one JSON
object with --output json); on failure exit code != 0 and one `ferry: error:` line that says why
(cannot reach, TLS verification, Unauthorized), never quoting a credential."""

import base64
import json
import unittest

from ferrytest.ferry import Ferry
from ferrytest.kube import Emulator
from ferrytest.testcase import ServerTestCase
from ferrytest.util import free_port


def write_kubeconfig(path, server, ca_file=None, token=None):
    """A one-context kubeconfig, written as JSON (which is YAML)."""
    cluster = {"server": server}
    if ca_file:
        with open(ca_file, "rb") as f:
            cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": "only",
           "clusters": [{"name": "c", "cluster": cluster}],
           "users": [{"name": "u", "user": {"token": token} if token else {}}],
           "contexts": [{"name": "only", "context": {"cluster": "c", "user": "u", "namespace": "team"}}]}
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


def crd(name, group, plural, kind, version_label=None):
    labels = {"app.kubernetes.io/version": version_label} if version_label else {}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": name, "labels": labels},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": plural[:-1], "kind": kind},
                     "versions": [{"name": "v1", "served": True, "storage": True}]}}


class ClusterInfoTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.kube = self.use(Emulator(self.tmp.sub("kube"), pki=self.pki()))

    def info(self, *args):
        return self.ferry.run("cluster", "info", "--kubeconfig", self.kube.kubeconfig, *args)

    def info_json(self, *args):
        r = self.info("--output", "json", *args)
        self.assertEqual(r.code, 0, str(r))
        return r.json()

    def components(self, doc):
        return {c["name"]: c for c in doc["components"]}

    def test_empty_cluster_as_admin(self):
        doc = self.info_json("--context", "admin")
        self.assertEqual(doc["server"], self.kube.url)
        self.assertEqual(doc["context"], "admin")
        self.assertTrue(doc["version"]["gitVersion"].startswith("v1."), doc)
        self.assertEqual(doc["identity"], {"served": True, "username": "admin",
                                           "groups": ["system:masters", "system:authenticated"]})
        self.assertEqual(doc["namespace"], "default")
        self.assertEqual({n: c["state"] for n, c in self.components(doc).items()},
                         {"knative-serving": "not installed", "istio": "not installed",
                          "kourier": "not installed"})

    def test_text_output_names_server_identity_and_components(self):
        r = self.info("--context", "cert-admin", "--namespace", "knative-serving")
        self.assertEqual(r.code, 0, str(r))
        self.assertIn(self.kube.url, r.out)
        self.assertRegex(r.out, r"Identity:\s+ferry-admin \(groups: system:masters")
        self.assertRegex(r.out, r"Namespace:\s+knative-serving")
        self.assertRegex(r.out, r"Knative Serving:\s+not installed")

    def test_installed_components_and_their_versions(self):
        self.kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                          crd("services.serving.knative.dev", "serving.knative.dev", "services", "Service", "1.20.0"))
        self.kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                          crd("gateways.networking.istio.io", "networking.istio.io", "gateways", "Gateway"))
        self.kube.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                                         "metadata": {"name": "kourier-system"}})
        doc = self.info_json("--context", "viewer")  # reading is enough
        self.assertEqual(doc["identity"]["username"], "viewer")
        comps = self.components(doc)
        self.assertEqual(comps["knative-serving"]["state"], "installed")
        self.assertEqual(comps["knative-serving"]["version"], "1.20.0")
        self.assertEqual(comps["istio"]["state"], "installed")
        self.assertEqual(comps["istio"]["found"], ["crd gateways.networking.istio.io"])
        self.assertEqual(comps["kourier"]["found"], ["namespace kourier-system"])

    def test_unreachable_server(self):
        path = write_kubeconfig(self.tmp.sub("down"), f"https://127.0.0.1:{free_port()}", self.kube.ca_file,
                                token=self.kube.admin_token)
        r = self.ferry.run("cluster", "info", "--kubeconfig", path)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertRegex(r.err, r"^ferry: error: cannot reach the API server https://127\.0\.0\.1:\d+")
        self.assertEqual(len(r.err.strip().splitlines()), 1, r.err)

    def test_certificate_not_verified(self):
        # No CA in the kubeconfig: the system store does not know the emulator's test CA.
        path = write_kubeconfig(self.tmp.sub("noca"), self.kube.url, None, token=self.kube.admin_token)
        r = self.ferry.run("cluster", "info", "--kubeconfig", path)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn("ferry: error: TLS verification of the API server " + self.kube.url, r.err)

    def test_rejected_token_is_unauthorized_and_not_printed(self):
        token = "wrong-token-0123456789"
        path = write_kubeconfig(self.tmp.sub("badtoken"), self.kube.url, self.kube.ca_file, token=token)
        r = self.ferry.run("cluster", "info", "--kubeconfig", path)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn("ferry: error: Unauthorized: the API server " + self.kube.url, r.err)
        self.assertNotIn(token, r.err + r.out)

    def test_context_namespace_is_the_default(self):
        path = write_kubeconfig(self.tmp.sub("ns"), self.kube.url, self.kube.ca_file, token=self.kube.admin_token)
        r = self.ferry.run("cluster", "info", "--kubeconfig", path, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(r.json()["namespace"], "team")


if __name__ == "__main__":
    unittest.main()
