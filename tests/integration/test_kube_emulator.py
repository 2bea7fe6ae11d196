"""Keeps the Kubernetes API-server emulator honest: the machine's real kubectl (v1.32) drives it
the way an operator would (server-side and client-side apply of the Knative corpus, get, wait,
delete, conflicts, auth errors, CRD timing, watches, injected faults) and must see what a real
cluster would show. A few checks the kubectl CLI cannot make go over plain HTTPS."""

import json
import os
import signal
import subprocess
import sys
import unittest

from ferrytest.kube import Emulator
from ferrytest.testcase import ServerTestCase
from ferrytest.pki import make_pki
from ferrytest.util import TempDir, corpus_dir, start_process, stop_process, wait_until

SERVING_CRDS = "knative-serving-v1.23.0-serving-crds.yaml"
SERVING_CORE = "knative-serving-v1.23.0-serving-core.yaml"
KOURIER = "net-kourier-v1.23.yaml"
IMAGE_CRD = "images.caching.internal.knative.dev"


def corpus(name):
    return os.path.join(corpus_dir(), name)


def configmap(name, namespace="default", data=None, labels=None):
    meta = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": data or {}}


_shared = {}


def setUpModule():
    _shared["tmp"] = TempDir("ferrytest-kube-pki-")
    _shared["pki"] = make_pki(_shared["tmp"].path)  # one CA for all tests: making keys is slow


def tearDownModule():
    _shared.pop("tmp").cleanup()


class KubeTestCase(ServerTestCase):
    options = {}

    @classmethod
    def pki(cls):
        return _shared["pki"]

    def setUp(self):
        super().setUp()
        self.kube = self.use(Emulator(self.tmp.sub("kube"), pki=self.pki(), **self.options))

    def kubectl(self, *args, context="admin", check=True, input=None, timeout=60):
        """Runs the real kubectl against the emulator; (returncode, stdout, stderr)."""
        argv = ["kubectl", "--kubeconfig", self.kube.kubeconfig, "--context", context,
                "--cache-dir", self.tmp.sub("kubectl-cache"), *args]
        r = subprocess.run(argv, capture_output=True, text=True, input=input, timeout=timeout)
        if check and r.returncode != 0:
            self.fail(f"kubectl {' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r.returncode, r.stdout, r.stderr

    def apply_json(self, obj, *flags, check=True):
        return self.kubectl("apply", "--validate=false", *flags, "-f", "-", input=json.dumps(obj), check=check)

    def get_json(self, *args, **kw):
        return json.loads(self.kubectl("get", *args, "-o", "json", **kw)[1])


class TestServerSideApplyOfTheCorpus(KubeTestCase):
    def test_serving_crds_core_and_kourier_apply_and_read_back(self):
        self.kubectl("apply", "--server-side", "--validate=false", "-f", corpus(SERVING_CRDS))
        _, out, _ = self.kubectl("wait", "--for=condition=Established", "crd", "--all", "--timeout=30s")
        self.assertIn(f"customresourcedefinition.apiextensions.k8s.io/{IMAGE_CRD} condition met", out)
        self.kubectl("apply", "--server-side", "--validate=false", "-f", corpus(SERVING_CORE))
        self.kubectl("apply", "--server-side", "--validate=false", "-f", corpus(KOURIER))

        webhook = self.get_json("deployment", "webhook", "-n", "knative-serving")
        self.assertEqual(webhook["metadata"]["generation"], 1)
        self.assertTrue(webhook["metadata"]["uid"])
        self.assertEqual(webhook["spec"]["replicas"], 1)  # defaulted like the API server does
        stored = self.kube.store.get("apps", "Deployment", "knative-serving", "webhook")
        self.assertIn("kubectl", [m["manager"] for m in stored["metadata"]["managedFields"]])
        self.assertTrue(webhook["spec"]["template"]["spec"]["containers"][0]["image"].startswith("gcr.io/"))

        _, out, _ = self.kubectl("get", "deployments", "-n", "knative-serving", "-o", "name")
        self.assertEqual(sorted(out.split()), ["deployment.apps/activator", "deployment.apps/autoscaler",
                                               "deployment.apps/controller",
                                               "deployment.apps/net-kourier-controller",
                                               "deployment.apps/webhook"])
        _, out, _ = self.kubectl("get", "deployments", "-n", "kourier-system", "-o", "name")
        self.assertEqual(out.split(), ["deployment.apps/3scale-kourier-gateway"])
        image = self.get_json("images.caching.internal.knative.dev", "queue-proxy", "-n", "knative-serving")
        self.assertIn("serving/cmd/queue@sha256:", image["spec"]["image"])
        svc = self.get_json("service", "webhook", "-n", "knative-serving")
        self.assertRegex(svc["spec"]["clusterIP"], r"^10\.96\.")

        # A second apply of the same files changes nothing a controller would notice.
        gateway = self.get_json("deployment", "3scale-kourier-gateway", "-n", "kourier-system")
        self.kubectl("apply", "--server-side", "--validate=false", "-f", corpus(KOURIER))
        again = self.get_json("deployment", "3scale-kourier-gateway", "-n", "kourier-system")
        before = gateway["metadata"]["resourceVersion"]
        self.assertEqual(again["metadata"]["generation"], 1)
        self.assertEqual(again["metadata"]["resourceVersion"], before)

    def test_old_api_versions_of_the_06_corpus_are_not_served(self):
        rc, _, err = self.kubectl("apply", "--server-side", "--validate=false", "-f",
                                  corpus("knative-serving-v0.6.0-serving.yaml"), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('no matches for kind "CustomResourceDefinition" in version "apiextensions.k8s.io/v1beta1"',
                      err)


class TestApplyAndConflicts(KubeTestCase):
    def test_client_side_apply_then_edited_reapply(self):
        deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
                      "metadata": {"name": "web", "namespace": "default"},
                      "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                               "template": {"metadata": {"labels": {"app": "web"}},
                                            "spec": {"containers": [{"name": "web", "image": "nginx:1.25",
                                                                     "env": [{"name": "A", "value": "1"}]}]}}}}
        cm = configmap("demo", data={"a": "1", "b": "2"})
        _, out, _ = self.apply_json({"apiVersion": "v1", "kind": "List", "items": [cm, deployment]})
        self.assertIn("configmap/demo created", out)
        created = self.get_json("configmap", "demo")
        self.assertIn("kubectl.kubernetes.io/last-applied-configuration", created["metadata"]["annotations"])

        cm["data"] = {"a": "1", "c": "3"}  # b dropped from the file, c added
        deployment["spec"]["replicas"] = 3
        deployment["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] = "2"
        _, out, _ = self.apply_json({"apiVersion": "v1", "kind": "List", "items": [cm, deployment]})
        self.assertIn("configmap/demo configured", out)
        self.assertEqual(self.get_json("configmap", "demo")["data"], {"a": "1", "c": "3"})
        web = self.get_json("deployment", "web")
        self.assertEqual(web["spec"]["replicas"], 3)
        self.assertEqual(web["spec"]["template"]["spec"]["containers"][0]["env"], [{"name": "A", "value": "2"}])
        self.assertEqual(web["metadata"]["generation"], 2)
        patches = [r for r in self.kube.requests() if r["method"] == "PATCH"]
        self.assertIn("application/strategic-merge-patch+json", {r["content_type"] for r in patches})

    def test_second_manager_conflicts_until_it_forces(self):
        self.apply_json(configmap("owned", data={"a": "1", "b": "2"}), "--server-side")
        rc, _, err = self.apply_json(configmap("owned", data={"a": "mine"}), "--server-side",
                                     "--field-manager=installer", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('Apply failed with 1 conflict: conflict with "kubectl"', err)
        self.assertIn(".data.a", err)
        self.assertEqual(self.get_json("configmap", "owned")["data"]["a"], "1")

        self.apply_json(configmap("owned", data={"a": "mine"}), "--server-side", "--field-manager=installer",
                        "--force-conflicts")
        self.assertEqual(self.get_json("configmap", "owned")["data"], {"a": "mine", "b": "2"})
        # The field moved: now kubectl is the one that conflicts on it.
        rc, _, err = self.apply_json(configmap("owned", data={"a": "1", "b": "2"}), "--server-side", check=False)
        self.assertIn('conflict with "installer"', err)

    def test_fields_a_manager_stops_sending_are_removed_and_dry_run_changes_nothing(self):
        self.apply_json(configmap("shrink", data={"a": "1", "b": "2"}), "--server-side")
        self.apply_json(configmap("shrink", data={"a": "1"}), "--server-side")
        self.assertEqual(self.get_json("configmap", "shrink")["data"], {"a": "1"})

        before = self.get_json("configmap", "shrink")
        self.apply_json(configmap("shrink", data={"a": "dry"}), "--server-side", "--dry-run=server")
        self.apply_json(configmap("dry-only", data={"a": "1"}), "--server-side", "--dry-run=server")
        self.assertEqual(self.get_json("configmap", "shrink"), before)
        rc, _, err = self.kubectl("get", "configmap", "dry-only", check=False)
        self.assertIn('configmaps "dry-only" not found', err)
        self.assertTrue(any("dryRun=All" in r["path"] for r in self.kube.requests()))

    def test_replace_with_a_stale_resource_version_is_the_real_conflict(self):
        self.apply_json(configmap("cas", data={"a": "1"}))
        stale = self.get_json("configmap", "cas")
        self.apply_json(configmap("cas", data={"a": "2"}))
        stale["data"]["a"] = "3"
        rc, _, err = self.kubectl("replace", "--validate=false", "-f", "-", input=json.dumps(stale), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('Operation cannot be fulfilled on configmaps "cas": the object has been modified; '
                      'please apply your changes to the latest version and try again', err)

    def test_generate_name_and_server_dry_run_create(self):
        job = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"generateName": "storage-version-migration-", "namespace": "default"},
               "spec": {"template": {"spec": {"restartPolicy": "OnFailure",
                                              "containers": [{"name": "m", "image": "x.example/m:1"}]}}}}
        _, out, _ = self.kubectl("create", "--validate=false", "-f", "-", input=json.dumps(job))
        self.assertRegex(out.strip(), r"^job.batch/storage-version-migration-[a-z0-9]{5} created$")
        self.kubectl("create", "--validate=false", "--dry-run=server", "-f", "-", input=json.dumps(configmap("never")))
        self.assertNotIn("never", self.kubectl("get", "configmaps", "-o", "name")[1])


class TestNamespaces(KubeTestCase):
    options = {"namespace_finalize_delay": 1.0}

    def test_deleted_namespace_is_terminating_then_gone_with_its_content(self):
        self.apply_json({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}})
        self.apply_json(configmap("inside", "doomed"))
        self.kubectl("delete", "namespace", "doomed", "--wait=false")
        _, phase, _ = self.kubectl("get", "namespace", "doomed", "-o", "jsonpath={.status.phase}")
        self.assertEqual(phase, "Terminating")
        rc, _, err = self.apply_json(configmap("late", "doomed"), check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('configmaps "late" is forbidden: unable to create new content in namespace doomed '
                      'because it is being terminated', err)
        self.kubectl("wait", "--for=delete", "namespace/doomed", "--timeout=20s")
        self.assertIsNone(self.kube.store.get("", "ConfigMap", "doomed", "inside"))
        _, _, err = self.kubectl("get", "configmap", "inside", "-n", "doomed", check=False)
        self.assertIn('namespaces "doomed" not found', err)  # kubectl's own check after the 404

    def test_objects_need_their_namespace(self):
        rc, _, err = self.apply_json(configmap("orphan", "nowhere"), "--server-side", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('namespaces "nowhere" not found', err)


class TestAuth(KubeTestCase):
    def test_identities_of_the_kubeconfig(self):
        for context in ("admin", "cert-admin", "basic"):
            self.kubectl("get", "namespaces", context=context)
        users = {r["user"] for r in self.kube.requests()}
        self.assertTrue({"admin", "ferry-admin", "basic-admin"} <= users, users)
        self.kubectl("get", "configmaps", context="viewer")
        rc, _, err = self.apply_json(configmap("nope"), check=False)  # admin may
        self.assertEqual(rc, 0, err)

    def test_viewer_gets_the_real_forbidden_line(self):
        rc, _, err = self.kubectl("delete", "namespace", "default", context="viewer", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('Error from server (Forbidden): namespaces "default" is forbidden: User "viewer" cannot '
                      'delete resource "namespaces" in API group "" at the cluster scope', err)

    def test_unknown_and_revoked_tokens_are_unauthorized(self):
        # With nothing cached kubectl fails in discovery, as against a real cluster.
        rc, _, err = self.kubectl("--token=not-a-token", "get", "configmaps", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn("error: You must be logged in to the server (the server has asked for the client "
                      "to provide credentials)", err)
        self.kubectl("get", "configmaps")  # fills the discovery cache
        rc, _, err = self.kubectl("--token=not-a-token", "get", "configmaps", check=False)
        self.assertIn("error: You must be logged in to the server (Unauthorized)", err)
        self.kube.add_token("short-lived", "exec-user", ["system:masters"])
        self.kubectl("--token=short-lived", "get", "configmaps")
        self.kube.revoke_token("short-lived")
        rc, _, err = self.kubectl("--token=short-lived", "get", "configmaps", check=False)
        self.assertIn("(Unauthorized)", err)

    def test_self_reviews_answer_for_the_caller(self):
        status, body = self.kube.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
                                         {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
                                         token=self.kube.viewer_token)
        self.assertEqual((status, body["status"]["userInfo"]["username"]), (201, "viewer"))
        review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                  "spec": {"resourceAttributes": {"verb": "create", "resource": "configmaps"}}}
        for token, allowed in ((self.kube.admin_token, True), (self.kube.viewer_token, False)):
            status, body = self.kube.request("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                             review, token=token)
            self.assertEqual((status, body["status"]["allowed"]), (201, allowed))


class TestCustomResourceTiming(KubeTestCase):
    options = {"crd_established_delay": 1.5}

    def test_custom_resource_waits_for_its_crd_to_be_established(self):
        crds = self.kubectl("apply", "--server-side", "--validate=false", "-f", corpus(SERVING_CRDS))
        self.assertEqual(crds[0], 0)
        image = {"apiVersion": "caching.internal.knative.dev/v1alpha1", "kind": "Image",
                 "metadata": {"name": "qp", "namespace": "default"}, "spec": {"image": "registry.example/q:1"}}
        rc, _, err = self.apply_json(image, "--server-side", check=False)
        self.assertNotEqual(rc, 0)
        self.assertIn('resource mapping not found for name: "qp"', err)
        self.assertIn('no matches for kind "Image" in version "caching.internal.knative.dev/v1alpha1"', err)
        status, _ = self.kube.request("GET", "/apis/caching.internal.knative.dev/v1alpha1/namespaces/default/images")
        self.assertEqual(status, 404)

        self.kubectl("wait", "--for=condition=Established", f"crd/{IMAGE_CRD}", "--timeout=20s")
        self.apply_json(image, "--server-side")
        self.assertEqual(self.get_json("images", "qp")["spec"]["image"], "registry.example/q:1")
        self.kubectl("delete", "crd", IMAGE_CRD)
        wait_until(lambda: self.kube.store.get("caching.internal.knative.dev", "Image", "default", "qp") is None,
                   "the Image to go with its CRD")


class TestWatch(KubeTestCase):
    options = {"bookmark_interval": 0.2}

    def watch_lines(self, path):
        _, out, _ = self.kubectl("get", "--raw", path)
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def test_events_from_a_resource_version_with_selectors_and_bookmarks(self):
        start = self.kube.store.resource_version
        self.apply_json(configmap("seen", data={"a": "1"}, labels={"tier": "web"}))
        self.apply_json(configmap("unseen", labels={"tier": "db"}))
        self.apply_json(configmap("seen", data={"a": "2"}, labels={"tier": "web"}))
        self.kubectl("delete", "configmap", "seen")
        events = self.watch_lines(f"/api/v1/namespaces/default/configmaps?watch=1&resourceVersion={start}"
                                  "&labelSelector=tier%3Dweb&allowWatchBookmarks=true&timeoutSeconds=1")
        changes = [(e["type"], e["object"]["metadata"]["name"]) for e in events if e["type"] != "BOOKMARK"]
        self.assertEqual(changes, [("ADDED", "seen"), ("MODIFIED", "seen"), ("DELETED", "seen")])
        self.assertIn("BOOKMARK", [e["type"] for e in events])

    def test_too_old_resource_version_is_410_expired(self):
        self.apply_json(configmap("old"))
        self.kube.store.compact()
        events = self.watch_lines("/api/v1/configmaps?watch=1&resourceVersion=2&timeoutSeconds=5")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0]["type"], "ERROR")
        self.assertEqual((events[0]["object"]["code"], events[0]["object"]["reason"]), (410, "Expired"))
        self.assertRegex(events[0]["object"]["message"], r"^too old resource version: 2 \(\d+\)$")


class TestFaultsAndLists(KubeTestCase):
    def test_429_with_retry_after_is_retried_by_kubectl(self):
        self.apply_json(configmap("busy"))
        self.kube.clear_requests()
        self.kube.inject_fault(method="GET", path="/configmaps/busy", count=2, code=429, retry_after=1)
        self.kubectl("get", "configmap", "busy")
        codes = [r["code"] for r in self.kube.requests() if r["path"].startswith("/api/v1/namespaces/default/configmaps/busy")]
        self.assertEqual(codes, [429, 429, 200])

    def test_500_and_dropped_connections_reach_kubectl(self):
        self.kube.inject_fault(method="GET", path="/configmaps", count=1, code=500)
        rc, _, err = self.kubectl("get", "configmaps", check=False)
        self.assertIn("Error from server (InternalError)", err)
        self.kube.inject_fault(method="POST", path="/configmaps", count=1, drop=True)
        rc, _, err = self.kubectl("create", "--validate=false", "-f", "-", input=json.dumps(configmap("half")),
                                 check=False)
        self.assertNotEqual(rc, 0)
        # The write was committed before the connection dropped, as a real server crash could do.
        self.assertIsNotNone(self.kube.store.get("", "ConfigMap", "default", "half"))

    def test_label_selectors_and_chunked_lists(self):
        for i, tier in enumerate(["web", "web", "db", "cache", "db"]):
            labels = {"tier": tier} if tier != "cache" else {"tier": tier, "legacy": "yes"}
            self.apply_json(configmap(f"cm{i}", labels=labels))
        _, out, _ = self.kubectl("get", "configmaps", "-l", "tier in (web,cache),!legacy", "-o", "name")
        self.assertEqual(out.split(), ["configmap/cm0", "configmap/cm1"])
        _, out, _ = self.kubectl("get", "configmaps", "-l", "tier!=web,legacy", "-o", "name")
        self.assertEqual(out.split(), ["configmap/cm3"])
        _, out, _ = self.kubectl("get", "configmaps", "--field-selector", "metadata.name=cm4", "-o", "name")
        self.assertEqual(out.split(), ["configmap/cm4"])
        self.kube.clear_requests()
        _, out, _ = self.kubectl("get", "configmaps", "--chunk-size=2", "-o", "name")
        self.assertEqual(out.split(), [f"configmap/cm{i}" for i in range(5)])
        self.assertEqual(sum("continue=" in r["path"] for r in self.kube.requests()), 2)


class TestDiscoveryAndServeCommand(KubeTestCase):
    def test_aggregated_and_legacy_discovery(self):
        v2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
        status, body = self.kube.request("GET", "/apis", headers={"Accept": v2})
        self.assertEqual(body["kind"], "APIGroupDiscoveryList")
        apps = [g for g in body["items"] if g["metadata"]["name"] == "apps"][0]
        deployments = [r for r in apps["versions"][0]["resources"] if r["resource"] == "deployments"][0]
        self.assertEqual((deployments["scope"], deployments["responseKind"]["kind"]), ("Namespaced", "Deployment"))
        status, body = self.kube.request("GET", "/apis")
        self.assertEqual(body["kind"], "APIGroupList")
        status, body = self.kube.request("GET", "/api/v1")
        self.assertIn("namespaces", [r["name"] for r in body["resources"]])
        _, out, _ = self.kubectl("api-resources", "--api-group=apps", "-o", "name")
        self.assertIn("deployments.apps", out.split())

    def test_serve_command_writes_state_and_stops_on_sigterm(self):
        directory = self.tmp.sub("served")
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        proc = start_process([sys.executable, "-m", "ferrytest.kube", "serve", "--dir", directory],
                             self.tmp.sub("serve.log"), env=env)
        try:
            state_file = os.path.join(directory, "state.json")
            wait_until(lambda: os.path.exists(state_file), "state.json of the served emulator",
                       alive=lambda: proc.poll() is None or self.fail(open(self.tmp.sub("serve.log")).read()))
            with open(state_file) as f:
                state = json.load(f)
            self.assertEqual(set(state) >= {"server", "ca_file", "admin_token", "kubeconfig"}, True)
            r = subprocess.run(["kubectl", "--kubeconfig", state["kubeconfig"], "--cache-dir",
                                self.tmp.sub("cache2"), "get", "namespace", "default", "-o", "name"],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.stdout.strip(), "namespace/default", r.stderr)
            os.killpg(proc.pid, signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)
        finally:
            stop_process(proc)


if __name__ == "__main__":
    unittest.main()
