"""The emulator in tests/lib/ferrytest/kube answers as the real API server does: the same requests
go to the real v1.24 node and to the emulator, and the answers are compared where ferry relies on
them: status codes, Status reasons, messages and details, which fields exist (kind/apiVersion of
list items, metadata the server sets, watch events), server-side apply's 201/200 and conflicts,
terminating namespaces and their conditions, and a pod whose image is missing. What still differs
on purpose is listed in tests/lib/ferrytest/kube/README.md ("Known differences")."""

import base64
import http.client
import json
import os
import re
import ssl
import tempfile
import unittest
import urllib.parse

from ferrytest.kube import Emulator
from ferrytest.real_node import Node
from ferrytest.util import TempDir, wait_until

NODE = Node()
NS = "ferry-conformance"


class Server:
    """One API server, spoken to over HTTPS with a bearer token."""

    def __init__(self, name, url, token, ca_file):
        self.name, self.token = name, token
        u = urllib.parse.urlparse(url)
        self.host, self.port = u.hostname, u.port
        self.context = ssl.create_default_context(cafile=ca_file)

    def call(self, method, path, body=None, content_type="application/json", accept="application/json"):
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": accept}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = content_type
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            doc = json.loads(raw) if raw else None
        except ValueError:
            doc = raw.decode(errors="replace")
        return resp.status, doc

    def watch_first(self, path):
        """The first event of a watch that starts at a known state."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=30)
        conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"})
        resp = conn.getresponse()
        line = resp.readline()  # through the chunked encoding
        conn.close()
        return resp.status, json.loads(line)


def real_server():
    with open(NODE.kubeconfig) as f:
        text = f.read()
    url = re.search(r"server: (\S+)", text).group(1)
    token = re.search(r"token: (\S+)", text).group(1)
    ca = base64.b64decode(re.search(r"certificate-authority-data: (\S+)", text).group(1))
    fd, ca_file = tempfile.mkstemp(suffix=".crt")
    with os.fdopen(fd, "wb") as f:
        f.write(ca)
    return Server("real", url, token, ca_file)


def shape(doc):
    """The set of dotted key paths of a JSON document (list positions collapsed to [])."""
    out = set()

    def walk(value, prefix):
        if isinstance(value, dict):
            for k, v in value.items():
                out.add(prefix + k)
                walk(v, prefix + k + ".")
        elif isinstance(value, list):
            for v in value:
                walk(v, prefix.rstrip(".") + "[].")
    walk(doc, "")
    return out


def status_view(doc):
    """What ferry reads of a Status: everything but the server-specific uid."""
    view = {k: doc.get(k) for k in ("kind", "apiVersion", "status", "message", "reason", "code")}
    details = dict(doc.get("details") or {})
    details.pop("uid", None)
    view["details"] = details
    return view


def configmap(name, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": NS},
            "data": data or {"a": "1"}}


class TestConformance(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempDir()
        cls.emulator = Emulator(cls.tmp.sub("kube"), controllers=True, image_registry=NODE.registry)
        cls.emulator.options.image_pull_backoff = 0.5
        cls.emulator.start()
        cls.real = real_server()
        cls.fake = Server("emulator", cls.emulator.url, cls.emulator.admin_token, cls.emulator.ca_file)
        cls.servers = (cls.real, cls.fake)
        for s in cls.servers:
            s.call("DELETE", f"/api/v1/namespaces/{NS}")
        for s in cls.servers:
            wait_until(lambda: s.call("GET", f"/api/v1/namespaces/{NS}")[0] == 404, f"{NS} gone on {s.name}",
                       timeout=120, interval=0.5)
            code, _ = s.call("POST", "/api/v1/namespaces",
                             {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
            assert code == 201, (s.name, code)
        # The default ServiceAccount a pod needs (the controllers make it).
        for s in cls.servers:
            wait_until(lambda: s.call("GET", f"/api/v1/namespaces/{NS}/serviceaccounts/default")[0] == 200,
                       f"default ServiceAccount on {s.name}", timeout=60, interval=0.2)

    @classmethod
    def tearDownClass(cls):
        for s in cls.servers:
            s.call("DELETE", f"/api/v1/namespaces/{NS}")
        cls.emulator.stop()
        cls.tmp.cleanup()

    def both(self, method, path, body=None, **kw):
        return [s.call(method, path.replace("{ns}", NS), body, **kw) for s in self.servers]

    def assertSame(self, real, fake, what):
        self.assertEqual(fake, real, f"{what}: emulator (first) differs from the real server (second)")

    # --- discovery ------------------------------------------------------------------------------
    def test_version_and_discovery_documents_have_the_real_fields(self):
        (rc, rv), (fc, fv) = self.both("GET", "/version")
        self.assertEqual((rc, fc), (200, 200))
        self.assertSame(set(rv), set(fv), "/version fields")
        (rc, r), (fc, f) = self.both("GET", "/api")
        self.assertSame((r["kind"], r["versions"]), (f["kind"], f["versions"]), "/api")
        (rc, r), (fc, f) = self.both("GET", "/apis")
        self.assertSame((r["kind"], r["apiVersion"]), (f["kind"], f["apiVersion"]), "/apis")
        self.assertSame(shape(r["groups"][0]), shape(f["groups"][0]), "an APIGroup")
        (rc, r), (fc, f) = self.both("GET", "/apis/apps/v1")
        real_res = {x["name"]: x for x in r["resources"]}
        fake_res = {x["name"]: x for x in f["resources"]}
        for name in ("deployments", "deployments/status", "statefulsets"):
            self.assertSame({k: real_res[name][k] for k in ("name", "namespaced", "kind")},
                            {k: fake_res[name][k] for k in ("name", "namespaced", "kind")}, name)
            self.assertSame(set(real_res[name]["verbs"]), set(fake_res[name]["verbs"]), name + " verbs")

    # --- reads and writes -----------------------------------------------------------------------
    def test_create_get_list_answer_with_the_same_fields(self):
        (rc, r), (fc, f) = self.both("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("c1"))
        self.assertEqual((rc, fc), (201, 201))
        self.assertSame(shape(r), shape(f), "created ConfigMap")
        (rc, r), (fc, f) = self.both("GET", "/api/v1/namespaces/{ns}/configmaps/c1")
        self.assertSame((rc, r["kind"], r["apiVersion"]), (fc, f["kind"], f["apiVersion"]), "GET one")
        (rc, r), (fc, f) = self.both("GET", "/api/v1/namespaces/{ns}/configmaps")
        self.assertSame((r["kind"], r["apiVersion"], set(r["metadata"])), (f["kind"], f["apiVersion"], set(f["metadata"])),
                        "the List")
        real_item = next(i for i in r["items"] if i["metadata"]["name"] == "c1")
        fake_item = next(i for i in f["items"] if i["metadata"]["name"] == "c1")
        # The difference that once made every Deployment look ready: no kind in list items.
        self.assertNotIn("kind", real_item)
        self.assertSame(shape(real_item), shape(fake_item), "a list item")

    def test_errors_are_the_same_status(self):
        self.both("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("dup"))
        cases = {
            "AlreadyExists": ("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("dup")),
            "NotFound": ("GET", "/api/v1/namespaces/{ns}/configmaps/nope", None),
            "NotFound (deployment)": ("GET", "/apis/apps/v1/namespaces/{ns}/deployments/nope", None),
            "Invalid": ("POST", "/api/v1/namespaces/{ns}/configmaps", configmap("Bad_Name")),
            "namespace NotFound": ("POST", "/api/v1/namespaces/ferry-no-such-ns/configmaps",
                                   dict(configmap("x"), metadata={"name": "x", "namespace": "ferry-no-such-ns"})),
        }
        for what, (method, path, body) in cases.items():
            (rc, r), (fc, f) = self.both(method, path, body)
            self.assertSame((rc, status_view(r)), (fc, status_view(f)), what)

    def test_update_with_a_stale_resource_version_is_the_same_conflict(self):
        results = []
        for s in self.servers:
            _, created = s.call("POST", f"/api/v1/namespaces/{NS}/configmaps", configmap("stale"))
            stale = dict(created)
            s.call("PUT", f"/api/v1/namespaces/{NS}/configmaps/stale", dict(created, data={"a": "2"}))
            results.append(s.call("PUT", f"/api/v1/namespaces/{NS}/configmaps/stale", dict(stale, data={"a": "3"})))
        (rc, r), (fc, f) = results
        self.assertSame((rc, status_view(r)), (fc, status_view(f)), "stale update")

    def test_server_side_apply_created_unchanged_and_conflicts(self):
        path = "/api/v1/namespaces/{ns}/configmaps/applied?fieldManager=ferry"
        body = configmap("applied")
        apply = "application/apply-patch+yaml"
        (rc, r), (fc, f) = self.both("PATCH", path, body, content_type=apply)
        self.assertSame((rc, shape(r)), (fc, shape(f)), "apply that creates")
        self.assertEqual(rc, 201)
        versions = [r["metadata"]["resourceVersion"], f["metadata"]["resourceVersion"]]
        (rc, r), (fc, f) = self.both("PATCH", path, body, content_type=apply)
        self.assertSame((rc, r["metadata"]["resourceVersion"] == versions[0]),
                        (fc, f["metadata"]["resourceVersion"] == versions[1]), "apply that changes nothing")
        self.assertSame(r["metadata"]["managedFields"][0]["manager"], f["metadata"]["managedFields"][0]["manager"],
                        "managedFields")
        other = "/api/v1/namespaces/{ns}/configmaps/applied?fieldManager=someone-else"
        (rc, r), (fc, f) = self.both("PATCH", other, configmap("applied", {"a": "other"}), content_type=apply)
        self.assertSame((rc, status_view(r)), (fc, status_view(f)), "apply conflict")

    def test_watch_events_carry_kind_and_api_version(self):
        firsts = []
        for s in self.servers:
            _, listing = s.call("GET", f"/api/v1/namespaces/{NS}/configmaps")
            rv = listing["metadata"]["resourceVersion"]
            s.call("POST", f"/api/v1/namespaces/{NS}/configmaps", configmap("watched"))
            firsts.append(s.watch_first(f"/api/v1/namespaces/{NS}/configmaps?watch=1&resourceVersion={rv}"))
        (rc, r), (fc, f) = firsts
        self.assertSame((rc, r["type"], r["object"]["kind"], r["object"]["apiVersion"]),
                        (fc, f["type"], f["object"]["kind"], f["object"]["apiVersion"]), "watch event")

    def test_custom_resource_list_items_keep_their_kind(self):
        crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
               "metadata": {"name": "gadgets.conformance.ferry.test"},
               "spec": {"group": "conformance.ferry.test", "scope": "Namespaced",
                        "names": {"kind": "Gadget", "plural": "gadgets"},
                        "versions": [{"name": "v1", "served": True, "storage": True, "schema": {
                            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}
        gadget = {"apiVersion": "conformance.ferry.test/v1", "kind": "Gadget", "metadata": {"name": "g1"}}
        path = "/apis/conformance.ferry.test/v1/namespaces/{ns}/gadgets"
        self.both("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd)
        self.addCleanup(lambda: self.both("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/"
                                                    "gadgets.conformance.ferry.test"))
        for s in self.servers:
            wait_until(lambda: s.call("POST", path.replace("{ns}", NS), gadget)[0] in (201, 409),
                       f"Gadget served on {s.name}", timeout=30, interval=0.2)
        (rc, r), (fc, f) = self.both("GET", path)
        self.assertSame((r["kind"], r["items"][0]["kind"], r["items"][0]["apiVersion"]),
                        (f["kind"], f["items"][0]["kind"], f["items"][0]["apiVersion"]), "custom resource list")

    # --- pods and namespaces --------------------------------------------------------------------
    def test_a_pod_whose_image_is_missing_reports_the_kubelets_reason(self):
        image = f"{NODE.registry}/conformance/missing:1"
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "pull", "namespace": NS},
               "spec": {"containers": [{"name": "main", "image": image}], "terminationGracePeriodSeconds": 0}}
        self.both("POST", "/api/v1/namespaces/{ns}/pods", pod)
        waiting = {}
        for s in self.servers:
            def pull_failed():
                _, p = s.call("GET", f"/api/v1/namespaces/{NS}/pods/pull")
                st = (p.get("status") or {}).get("containerStatuses") or []
                w = st[0]["state"].get("waiting", {}) if st else {}
                if w.get("reason") in ("ErrImagePull", "ImagePullBackOff"):
                    waiting[s.name] = (w, p)
                    return True
                return False
            wait_until(pull_failed, f"pull failure on {s.name}", timeout=60, interval=0.2)
        (rw, rp), (fw, fp) = waiting["real"], waiting["emulator"]
        # podIP: the emulator runs no pod network; hostIPs: servers from 1.28 on add it.
        unshared = {"podIP", "podIPs", "podIPs[].ip", "hostIPs", "hostIPs[].ip"}
        self.assertSame(shape(rp["status"]) - unshared, shape(fp["status"]) - unshared, "pod status fields")
        self.assertIn(image, rw["message"])
        self.assertIn(image, fw["message"])
        # Logs: a container that never started has none (400), and text/plain alone is not an Accept
        # the server answers (406): kubectl asks with "application/json, */*".
        (rc, r), (fc, f) = self.both("GET", "/api/v1/namespaces/{ns}/pods/pull/log", accept="text/plain")
        self.assertSame((rc, status_view(r)), (fc, status_view(f)), "log with Accept: text/plain")
        (rc, r), (fc, f) = self.both("GET", "/api/v1/namespaces/{ns}/pods/pull/log", accept="application/json, */*")
        self.assertSame((rc, status_view(r)["reason"]), (fc, status_view(f)["reason"]), "log of a container not started")
        # The kubelet's event for the failed pull, which ferry quotes.
        for s in self.servers:
            _, events = s.call("GET", f"/api/v1/namespaces/{NS}/events")
            failed = [e["message"] for e in events["items"] if e["reason"] == "Failed"
                      and e["involvedObject"]["name"] == "pull"]
            self.assertTrue(any(m.startswith(f'Failed to pull image "{image}": rpc error: code = NotFound')
                                for m in failed), (s.name, failed))

    def test_deleting_a_namespace_leaves_it_terminating_with_the_real_conditions(self):
        ns = "ferry-conformance-term"
        for s in self.servers:
            s.call("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
            s.call("POST", f"/api/v1/namespaces/{ns}/configmaps",
                   dict(configmap("held"), metadata={"name": "held", "namespace": ns, "finalizers": ["ferry.test/hold"]}))
        (rc, r), (fc, f) = self.both("DELETE", f"/api/v1/namespaces/{ns}")
        self.assertSame((rc, r["kind"], r["status"]["phase"]), (fc, f["kind"], f["status"]["phase"]), "namespace DELETE")
        conditions = {}
        for s in self.servers:
            def settled():
                _, n = s.call("GET", f"/api/v1/namespaces/{ns}")
                c = {x["type"]: x for x in (n.get("status") or {}).get("conditions") or []}
                if c.get("NamespaceFinalizersRemaining", {}).get("status") == "True":
                    conditions[s.name] = c
                    return True
                return False
            wait_until(settled, f"namespace conditions on {s.name}", timeout=60, interval=0.2)
        real, fake = conditions["real"], conditions["emulator"]
        self.assertSame({t: (c["status"], c["reason"]) for t, c in real.items()},
                        {t: (c["status"], c["reason"]) for t, c in fake.items()}, "conditions")
        self.assertSame(real["NamespaceFinalizersRemaining"]["message"], fake["NamespaceFinalizersRemaining"]["message"],
                        "finalizers message")
        (rc, r), (fc, f) = self.both("POST", f"/api/v1/namespaces/{ns}/configmaps",
                                     dict(configmap("late"), metadata={"name": "late", "namespace": ns}))
        self.assertSame((rc, status_view(r)), (fc, status_view(f)), "create in a terminating namespace")
        for s in self.servers:
            s.call("PATCH", f"/api/v1/namespaces/{ns}/configmaps/held", {"metadata": {"finalizers": None}},
                   content_type="application/merge-patch+json")


if __name__ == "__main__":
    unittest.main()
