"""The Kubernetes emulator's simulated controllers and admission webhooks, as an installer sees
them: workloads get the status readiness checks read (after the configured delay), Pods whose
image is not in the cluster's registry stay in ImagePullBackOff with the kubelet's messages,
Services get addresses and endpoints, Knative Services get revisions, routes and a URL, and
writes that a webhook matches fail with the real error until the webhook's Deployment is up."""

import json
import threading
import unittest

from ferrytest import images
from ferrytest.kube import admission, controllers
from ferrytest.kube.admission_request import AdmissionRequest
from ferrytest.kube.errors import ApiError
from ferrytest.kube.server import Emulator
from ferrytest.kube.store import Store
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run, wait_until

NS = "demo"


def namespace(name, labels=None):
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels or {}}}


def deployment(name, image, replicas=1, app=None, kind="Deployment", group="apps"):
    app = app or name
    return {"apiVersion": f"{group}/v1", "kind": kind, "metadata": {"name": name, "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": app}},
                     "template": {"metadata": {"labels": {"app": app}},
                                  "spec": {"containers": [{"name": "main", "image": image}]}}}}


def condition(obj, kind):
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == kind), {})


class ControllerCase(ServerTestCase):
    """An emulator with controllers (and a registry when `registry` is True). Without `serve`, the
    emulator is not started: its store, timers and controllers work without the HTTPS server."""

    registry = False
    serve = False

    def setUp(self):
        super().setUp()
        options = {}
        if self.registry:
            self.reg = self.use(Registry())
            options["image_registry"] = self.reg.host
        if self.serve:
            self.em = self.use(Emulator(controllers=True, **options))
        else:
            self.em = Emulator(**options)
            self.addCleanup(self.em.stop)
            controllers.install(self.em)
        self.em.options.image_pull_backoff = 0.5  # retry pulls quickly in tests
        self.store = self.em.store
        self.store.put(namespace(NS))

    def wait_for(self, group, kind, name, predicate, what, timeout=20):
        def check():
            obj = self.store.get(group, kind, NS, name)
            return obj if obj is not None and predicate(obj) else None
        return wait_until(check, what, timeout=timeout)

    def wait_available(self, name, timeout=20):
        return self.wait_for("apps", "Deployment", name, lambda d: condition(d, "Available").get("status") == "True"
                             and d["status"].get("observedGeneration") == d["metadata"]["generation"],
                             f"deployment {name} available", timeout)

    def pods(self, **labels):
        return self.store.list("", "Pod", NS, label_selector=labels)


class TestWorkloads(ControllerCase):
    def test_deployment_owns_a_replica_set_and_labelled_pods_and_becomes_available(self):
        self.store.put(deployment("web", "nginx:1.25", replicas=2))
        d = self.wait_available("web")
        self.assertEqual({k: d["status"].get(k) for k in ("replicas", "readyReplicas", "availableReplicas",
                                                          "updatedReplicas")},
                         {"replicas": 2, "readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 2})
        self.assertEqual(condition(d, "Progressing")["reason"], "NewReplicaSetAvailable")
        [rs] = self.store.list("apps", "ReplicaSet", NS)
        self.assertEqual(rs["metadata"]["ownerReferences"][0]["uid"], d["metadata"]["uid"])
        pod_hash = rs["metadata"]["labels"]["pod-template-hash"]
        self.assertEqual(rs["metadata"]["name"], f"web-{pod_hash}")
        pods = self.pods(app="web")
        self.assertEqual(len(pods), 2)
        for pod in pods:
            self.assertRegex(pod["metadata"]["name"], rf"^web-{pod_hash}-[a-z0-9]{{5}}$")
            self.assertEqual(pod["metadata"]["labels"]["pod-template-hash"], pod_hash)
            self.assertEqual(pod["metadata"]["ownerReferences"][0]["name"], rs["metadata"]["name"])
            self.assertEqual(pod["status"]["phase"], "Running")
            self.assertEqual(condition(pod, "Ready")["status"], "True")

    def test_a_changed_template_rolls_out_a_new_replica_set(self):
        self.store.put(deployment("web", "nginx:1"))
        first = self.wait_available("web")
        changed = self.store.get("apps", "Deployment", NS, "web")
        changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:2"
        self.store.put(changed)
        d = self.wait_for("apps", "Deployment", "web", lambda d: d["status"].get("observedGeneration") == 2 and
                          condition(d, "Progressing").get("reason") == "NewReplicaSetAvailable" and
                          d["status"].get("replicas") == 1, "rollout of generation 2")
        self.assertGreater(d["metadata"]["generation"], first["metadata"]["generation"])
        sets = {rs["metadata"]["name"]: rs["spec"]["replicas"] for rs in self.store.list("apps", "ReplicaSet", NS)}
        self.assertEqual(sorted(sets.values()), [0, 1])
        self.assertEqual([p["spec"]["containers"][0]["image"] for p in self.pods(app="web")], ["nginx:2"])

    def test_configured_delay_holds_one_workload_back(self):
        self.em.set_options(workload_delays={"slow": 600})
        self.store.put(deployment("slow", "nginx"))
        self.store.put(deployment("fast", "nginx"))
        self.wait_available("fast")
        slow = self.store.get("apps", "Deployment", NS, "slow")
        self.assertEqual(condition(slow, "Available")["status"], "False")
        self.assertEqual(condition(slow, "Available")["reason"], "MinimumReplicasUnavailable")
        self.assertEqual(self.pods(app="slow")[0]["status"]["phase"], "Pending")

    def test_daemonset_statefulset_and_job_report_what_readiness_checks_read(self):
        self.store.put(deployment("agent", "busybox", kind="DaemonSet"))
        self.store.put(deployment("db", "postgres", replicas=2, kind="StatefulSet"))
        job = deployment("migrate", "busybox", kind="Job", group="batch")
        del job["spec"]["replicas"], job["spec"]["selector"]
        self.store.put(job)
        ds = self.wait_for("apps", "DaemonSet", "agent", lambda o: o.get("status", {}).get("numberReady") == 1, "ds")
        self.assertEqual((ds["status"]["desiredNumberScheduled"], ds["status"]["updatedNumberScheduled"],
                          ds["status"]["numberAvailable"]), (1, 1, 1))
        sts = self.wait_for("apps", "StatefulSet", "db", lambda o: o.get("status", {}).get("readyReplicas") == 2, "sts")
        self.assertEqual(sts["status"]["currentRevision"], sts["status"]["updateRevision"])
        self.assertEqual(sorted(p["metadata"]["name"] for p in self.pods(app="db")), ["db-0", "db-1"])
        done = self.wait_for("batch", "Job", "migrate", lambda o: condition(o, "Complete").get("status") == "True",
                             "job complete")
        self.assertEqual(done["status"]["succeeded"], 1)
        [pod] = self.pods(**{"job-name": "migrate"})
        self.assertEqual(pod["status"]["phase"], "Succeeded")

    def test_services_get_addresses_and_endpoints_of_ready_pods(self):
        self.store.put(deployment("web", "nginx", replicas=2))
        self.store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": NS},
                        "spec": {"type": "LoadBalancer", "selector": {"app": "web"},
                                 "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
        svc = self.wait_for("", "Service", "web", lambda s: s.get("status", {}).get("loadBalancer", {}).get("ingress"),
                            "load balancer address")
        self.assertEqual(svc["status"]["loadBalancer"]["ingress"][0]["ip"], "127.0.0.1")
        self.assertRegex(svc["spec"]["clusterIP"], r"^10\.96\.\d+\.\d+$")
        self.assertTrue(all(30000 <= p["nodePort"] <= 32767 for p in svc["spec"]["ports"]))

        def ready_slice():
            slices = self.store.list("discovery.k8s.io", "EndpointSlice", NS,
                                     label_selector={"kubernetes.io/service-name": "web"})
            ready = [e for s in slices for e in s["endpoints"] if e["conditions"]["ready"]]
            return slices if len(ready) == 2 else None
        [endpoint_slice] = wait_until(ready_slice, "two ready endpoints")
        self.assertEqual(endpoint_slice["ports"], [{"name": "http", "port": 8080, "protocol": "TCP"}])
        endpoints = self.store.get("", "Endpoints", NS, "web")
        self.assertEqual(len(endpoints["subsets"][0]["addresses"]), 2)


class TestStopping(unittest.TestCase):
    def test_no_controller_thread_outlives_the_emulator(self):
        baseline = threading.active_count()
        em = Emulator(workload_delays={"slow": 600})
        controllers.install(em)
        em.store.put(namespace(NS))
        em.store.put(deployment("slow", "nginx"))
        wait_until(lambda: em.store.list("", "Pod", NS), "a pod waiting 600 s to start")
        em.stop()
        wait_until(lambda: threading.active_count() <= baseline, "controller threads to end", timeout=10)


class TestImagePulls(ControllerCase):
    registry = True

    def test_present_image_runs_and_missing_image_backs_off_with_kubelet_messages(self):
        images.push(self.reg, "apps/web", "v1", images.make_image("web"))
        present, missing = f"{self.reg.host}/apps/web:v1", f"{self.reg.host}/apps/web:v2"
        self.store.put(deployment("good", present))
        self.store.put(deployment("bad", missing))
        self.wait_available("good")
        pod = wait_until(lambda: next((p for p in self.pods(app="bad") if _waiting(p).get("reason") ==
                                       "ImagePullBackOff"), None), "ImagePullBackOff")
        self.assertEqual(_waiting(pod)["message"], f'Back-off pulling image "{missing}"')
        self.assertEqual(pod["status"]["phase"], "Pending")
        full = f"{self.reg.host}/apps/web:v2"
        events = wait_until(lambda: [e for e in self.store.list("", "Event", NS)
                                     if e["involvedObject"]["name"] == pod["metadata"]["name"]
                                     and e["type"] == "Warning"], "warning events")
        messages = {e["message"] for e in events}
        self.assertIn(f'Failed to pull image "{missing}": rpc error: code = NotFound desc = failed to pull and '
                      f'unpack image "{full}": failed to resolve reference "{full}": {full}: not found', messages)
        self.assertIn("Error: ErrImagePull", messages)
        self.assertEqual({e["reason"] for e in events}, {"Failed"})
        bad = self.store.get("apps", "Deployment", NS, "bad")
        self.assertEqual((condition(bad, "Available")["status"], condition(bad, "Available")["reason"]),
                         ("False", "MinimumReplicasUnavailable"))
        self.assertEqual(condition(bad, "Progressing")["status"], "True")

        # once the image is mirrored, the next pull succeeds and the rollout finishes
        images.push(self.reg, "apps/web", "v2", images.make_image("web2"))
        self.wait_available("bad")

    def test_images_from_any_other_registry_cannot_be_pulled(self):
        image = "gcr.io/knative-releases/knative.dev/serving/cmd/controller:v1"
        self.store.put(deployment("upstream", image))
        failed = wait_until(lambda: [e["message"] for e in self.store.list("", "Event", NS)
                                     if e["reason"] == "Failed" and "rpc error" in e["message"]], "pull failure event")
        self.assertEqual(failed, [f'Failed to pull image "{image}": rpc error: code = Unknown desc = failed to pull '
                                  f'and unpack image "{image}": failed to resolve reference "{image}": failed to do '
                                  f'request: Head "https://gcr.io/v2/knative-releases/knative.dev/serving/cmd/'
                                  f'controller/manifests/v1": dial tcp: lookup gcr.io: no such host'])

    def test_digest_references_are_checked_by_digest(self):
        image = images.make_image("pinned")
        images.push(self.reg, "apps/pinned", "v1", image)
        self.store.put(deployment("pinned", f"{self.reg.host}/apps/pinned@{image.digest}"))
        self.wait_available("pinned")


def _waiting(pod):
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        if "waiting" in cs.get("state", {}):
            return cs["state"]["waiting"]
    return {}


def knative_service(name, image, api_version="serving.knative.dev/v1"):
    return {"apiVersion": api_version, "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"template": {"spec": {"containers": [{"image": image}]}}}}


class TestKnative(ControllerCase):
    registry = True

    def ready(self, kind, name):
        return self.wait_for("serving.knative.dev", kind, name,
                             lambda o: condition(o, "Ready").get("status") == "True", f"{kind} {name} Ready")

    def test_service_gets_configuration_revision_route_and_url(self):
        images.push(self.reg, "samples/hello", "v1", images.make_image("hello"))
        self.store.put(knative_service("hello", f"{self.reg.host}/samples/hello:v1"))
        svc = self.ready("Service", "hello")
        self.assertEqual(svc["status"]["url"], f"http://hello.{NS}.example.com")
        self.assertEqual(svc["status"]["latestReadyRevisionName"], "hello-00001")
        self.assertEqual(svc["status"]["traffic"], [{"revisionName": "hello-00001", "percent": 100,
                                                     "latestRevision": True}])
        self.assertEqual({c["type"] for c in svc["status"]["conditions"]}, {"ConfigurationsReady", "Ready", "RoutesReady"})
        for kind in ("Configuration", "Route", "Revision"):
            self.assertIsNotNone(self.store.get("serving.knative.dev", kind, NS,
                                                "hello-00001" if kind == "Revision" else "hello"))
        [pod] = self.pods(**{"serving.knative.dev/revision": "hello-00001"})
        self.assertEqual(pod["metadata"]["labels"]["serving.knative.dev/service"], "hello")
        self.assertIsNotNone(self.store.get("apps", "Deployment", NS, "hello-00001-deployment"))

        changed = self.store.get("serving.knative.dev", "Service", NS, "hello")
        changed["spec"]["template"]["spec"]["containers"][0]["env"] = [{"name": "TARGET", "value": "ferry"}]
        self.store.put(changed)
        svc = self.wait_for("serving.knative.dev", "Service", "hello",
                            lambda o: o["status"].get("latestReadyRevisionName") == "hello-00002", "revision 2")
        self.assertEqual(svc["status"]["traffic"][0]["revisionName"], "hello-00002")

    def test_unpullable_image_makes_the_revision_fail_with_the_pull_error(self):
        image = f"{self.reg.host}/samples/missing:v1"
        self.store.put(knative_service("broken", image))
        rev = self.wait_for("serving.knative.dev", "Revision", "broken-00001",
                            lambda o: condition(o, "Ready").get("status") == "False", "revision failed")
        ready = condition(rev, "Ready")
        self.assertIn(ready["reason"], ("ErrImagePull", "ImagePullBackOff"))
        self.assertIn(f'"{image}"', ready["message"])
        svc = self.wait_for("serving.knative.dev", "Service", "broken",
                            lambda o: condition(o, "Ready").get("status") == "False", "service not ready")
        self.assertEqual(condition(svc, "ConfigurationsReady")["reason"], "RevisionFailed")

    def test_queue_proxy_image_comes_from_config_deployment(self):
        """An install whose config-deployment still names gcr.io cannot run any revision."""
        images.push(self.reg, "samples/hello", "v1", images.make_image("hello"))
        self.store.put(namespace("knative-serving"))
        self.store.put({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": "config-deployment", "namespace": "knative-serving"},
                        "data": {"queue-sidecar-image": "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1"}})
        self.store.put(knative_service("hello", f"{self.reg.host}/samples/hello:v1"))
        rev = self.wait_for("serving.knative.dev", "Revision", "hello-00001",
                            lambda o: condition(o, "Ready").get("status") == "False", "revision failed")
        self.assertIn("gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1", condition(rev, "Ready")["message"])

    def test_v1alpha1_run_latest_service_reports_domain(self):
        self.em.set_options(image_registry=None)  # every image counts as present
        self.store.put({"apiVersion": "serving.knative.dev/v1alpha1", "kind": "Service",
                        "metadata": {"name": "old", "namespace": NS},
                        "spec": {"runLatest": {"configuration": {"revisionTemplate": {"spec": {
                            "container": {"image": "gcr.io/knative-samples/helloworld-go"}}}}}}})
        svc = self.ready("Service", "old")
        self.assertEqual(svc["status"]["domain"], f"old.{NS}.example.com")
        self.assertEqual(svc["status"]["url"], f"http://old.{NS}.example.com")

    def test_caching_images_and_certificates_become_ready(self):
        self.store.put({"apiVersion": "caching.internal.knative.dev/v1alpha1", "kind": "Image",
                        "metadata": {"name": "queue-proxy", "namespace": NS}, "spec": {"image": "x"}})
        self.store.put({"apiVersion": "networking.internal.knative.dev/v1alpha1", "kind": "Certificate",
                        "metadata": {"name": "cert", "namespace": NS}, "spec": {"dnsNames": ["a"]}})
        for group, kind, name in (("caching.internal.knative.dev", "Image", "queue-proxy"),
                                  ("networking.internal.knative.dev", "Certificate", "cert")):
            self.wait_for(group, kind, name, lambda o: condition(o, "Ready").get("status") == "True", kind)


# --- admission ---------------------------------------------------------------------------------------
def webhook_config(kind="ValidatingWebhookConfiguration", rules=True, failure_policy="Fail", **selectors):
    hook = {"name": "config.webhook.demo.dev", "failurePolicy": failure_policy, "timeoutSeconds": 10,
            "sideEffects": "None", "admissionReviewVersions": ["v1"],
            "clientConfig": {"service": {"name": "webhook", "namespace": NS, "path": "/config-validation"}}}
    if rules:
        hook["rules"] = [{"operations": ["CREATE", "UPDATE"], "apiGroups": [""], "apiVersions": ["v1"],
                          "resources": ["configmaps"], "scope": "*"}]
    hook.update(selectors)
    return {"apiVersion": "admissionregistration.k8s.io/v1", "kind": kind,
            "metadata": {"name": "demo-" + kind.lower()}, "webhooks": [hook]}


def configmap_request(labels=None, operation="CREATE", namespace=NS, resource="configmaps", subresource=""):
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": namespace,
                                                                 "labels": labels or {}}}
    return AdmissionRequest(operation=operation, group="", version="v1", kind="ConfigMap", resource=resource,
                            subresource=subresource, namespace=namespace, name="c", object=obj,
                            old_object=None, dry_run=False)


class TestAdmissionMatching(unittest.TestCase):
    """Against a bare store: the webhook's Deployment never becomes available here."""

    def setUp(self):
        self.store = Store()
        self.addCleanup(self.store.close)
        self.store.put(namespace(NS, labels={"team": "a"}))
        self.store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "webhook", "namespace": NS},
                        "spec": {"selector": {"app": "webhook"}, "clusterIP": "10.96.7.8",
                                 "ports": [{"port": 443, "targetPort": 8443}]}})

    def refused(self, request):
        try:
            admission.check(self.store, request)
        except ApiError as e:
            return e
        return None

    def test_no_endpoints_then_connection_refused_then_available(self):
        self.store.put(webhook_config())
        err = self.refused(configmap_request())
        self.assertEqual((err.code, err.reason), (500, "InternalError"))
        self.assertEqual(err.message, 'Internal error occurred: failed calling webhook "config.webhook.demo.dev": '
                                      'failed to call webhook: Post "https://webhook.demo.svc:443/config-validation'
                                      '?timeout=10s": no endpoints available for service "webhook"')
        self.store.put(deployment("webhook", "webhook:v1"))
        self.assertTrue(self.refused(configmap_request()).message.endswith(
            ': dial tcp 10.96.7.8:443: connect: connection refused'))
        d = self.store.get("apps", "Deployment", NS, "webhook")
        self.store.put_status("apps", "Deployment", NS, "webhook", {
            "observedGeneration": d["metadata"]["generation"],
            "conditions": [{"type": "Available", "status": "True"}]})
        self.assertIsNone(self.refused(configmap_request()))

    def test_rules_decide_which_writes_are_sent(self):
        self.store.put(webhook_config(kind="MutatingWebhookConfiguration"))
        self.assertIsNotNone(self.refused(configmap_request(operation="UPDATE")))
        self.assertIsNone(self.refused(configmap_request(operation="DELETE")))
        self.assertIsNone(self.refused(configmap_request(resource="secrets")))
        self.assertIsNone(self.refused(configmap_request(subresource="status")))

    def test_wildcards_and_subresources(self):
        config = webhook_config()
        config["webhooks"][0]["rules"][0].update(apiGroups=["*"], apiVersions=["*"], resources=["*"],
                                                 operations=["*"])
        self.store.put(config)
        self.assertIsNotNone(self.refused(configmap_request(resource="secrets", operation="DELETE")))
        self.assertIsNone(self.refused(configmap_request(resource="pods", subresource="status")))
        config["webhooks"][0]["rules"][0]["resources"] = ["pods/status"]
        self.store.put(config)
        self.assertIsNotNone(self.refused(configmap_request(resource="pods", subresource="status")))

    def test_selectors_and_failure_policy(self):
        self.store.put(webhook_config(objectSelector={"matchExpressions": [
            {"key": "app.kubernetes.io/component", "operator": "In", "values": ["demo"]}]},
            namespaceSelector={"matchLabels": {"team": "a"}}))
        self.assertIsNone(self.refused(configmap_request(labels={"app.kubernetes.io/component": "other"})))
        self.assertIsNotNone(self.refused(configmap_request(labels={"app.kubernetes.io/component": "demo"})))
        self.store.put(namespace("elsewhere", labels={"team": "b"}))
        self.assertIsNone(self.refused(configmap_request(labels={"app.kubernetes.io/component": "demo"},
                                                         namespace="elsewhere")))
        self.store.put(webhook_config(failure_policy="Ignore"))
        self.assertIsNone(self.refused(configmap_request(labels={"app.kubernetes.io/component": "demo"})))

    def test_webhook_without_rules_matches_nothing(self):
        """Knative's config webhook ships with an objectSelector only; its rules come from the pod."""
        self.store.put(webhook_config(rules=False, objectSelector={"matchExpressions": [
            {"key": "app.kubernetes.io/part-of", "operator": "In", "values": ["knative-serving"]}]}))
        self.assertIsNone(self.refused(configmap_request(labels={"app.kubernetes.io/part-of": "knative-serving"})))


class TestAdmissionWithKubectl(ControllerCase):
    registry = True
    serve = True

    def create_configmap(self):
        path = self.tmp.sub("configmap.json")
        with open(path, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"},
                       "metadata": {"name": "settings", "namespace": NS}}, f)
        return run(["kubectl", "--kubeconfig", self.em.kubeconfig, "--context", "admin", "create", "--validate=false", "-f", path],
                   check=False)

    def test_kubectl_write_fails_until_the_webhook_deployment_is_available(self):
        image = f"{self.reg.host}/demo/webhook:v1"
        self.store.put(deployment("webhook", image))
        self.store.put({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "webhook", "namespace": NS},
                        "spec": {"selector": {"app": "webhook"}, "ports": [{"port": 443, "targetPort": 8443}]}})
        self.store.put(webhook_config())
        result = self.create_configmap()
        self.assertNotEqual(result.returncode, 0)
        self.assertIn('Internal error occurred: failed calling webhook "config.webhook.demo.dev": failed to call '
                      'webhook: Post "https://webhook.demo.svc:443/config-validation?timeout=10s": dial tcp 10.96.',
                      result.stderr)
        self.assertIn(":443: connect: connection refused", result.stderr)
        self.assertIsNone(self.store.get("", "ConfigMap", NS, "settings"))

        images.push(self.reg, "demo/webhook", "v1", images.make_image("webhook"))
        wait_until(lambda: self.create_configmap().returncode == 0, "write accepted by the webhook")
        self.assertEqual(self.store.get("", "ConfigMap", NS, "settings")["data"], {"a": "b"})


if __name__ == "__main__":
    unittest.main()
