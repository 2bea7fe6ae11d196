"""The emulator's Knative Pod Autoscaler, end to end through its gateway: the pods a revision gets
for the concurrency its clients keep in flight.

Contract under test (Knative's KPA rule, as the self-test's autoscale check relies on it): N
requests in flight against a revision with target T give ceil(N/T) replicas within the stable
window, never more; this holds whether the requests are held open or are short ones that each
client sends back to back (a request counts from when it reaches the data plane until its answer
has left, as the activator and queue-proxy count it, so the moments between a client's requests
are all that is not counted)."""

import http.client
import sys
import threading
import unittest

from ferrytest.kube.kpa import Autoscaler
from ferrytest.kube.server import Emulator
from ferrytest.testcase import ServerTestCase
from ferrytest.util import start_process, stop_process, wait_until

from test_samples import sample_app_path

SERVING = "serving.knative.dev"
HOST = "autoscale-go.default.example.com"

# N clients, each sending GET path with the Host header back to back until killed.
CLIENTS = r"""
import http.client, sys, threading
port, host, path, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
def client():
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while True:
        conn.request("GET", path, headers={"Host": host})
        conn.getresponse().read()
for _ in range(n):
    threading.Thread(target=client, daemon=True).start()
threading.Event().wait()
"""


def knative_crd():
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"services.{SERVING}"},
            "spec": {"group": SERVING, "scope": "Namespaced",
                     "names": {"plural": "services", "singular": "service", "kind": "Service"},
                     "versions": [{"name": "v1", "served": True, "storage": True}]}}


class KpaTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.kube = self.use(Emulator(self.tmp.sub("kube"), controllers=True, pki=self.pki(), dataplane=True,
                                      dataplane_apps={"autoscale": sample_app_path("autoscale")},
                                      kpa_stable_window=1.0, kpa_tick=0.1, scale_to_zero_grace=30))
        self.kube.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", knative_crd())
        wait_until(lambda: self.kube.request("GET", f"/apis/{SERVING}/v1")[0] == 200, "Knative Service CRD")
        # Every replica count the autoscaler sets, in order.
        self.replicas = []
        self.kube.store.subscribe(lambda event, obj: self.replicas.append(obj["spec"]["replicas"])
                                  if obj.get("kind") == "Deployment" and obj["metadata"]["name"].startswith(
                                      "autoscale-go-") and event == "MODIFIED" else None)

    def deploy(self, target):
        """The autoscale sample with `target`; returns its Deployment's name once it is Ready."""
        service = {"apiVersion": f"{SERVING}/v1", "kind": "Service",
                   "metadata": {"name": "autoscale-go", "namespace": "default"},
                   "spec": {"template": {"metadata": {"annotations": {"autoscaling.knative.dev/target": str(target)}},
                                         "spec": {"containers": [{"image": "registry.local/autoscale:v1"}]}}}}
        code, body = self.kube.request("POST", f"/apis/{SERVING}/v1/namespaces/default/services", service)
        self.assertEqual(code, 201, body)

        def ready():
            ksvc = self.kube.store.get(SERVING, "Service", "default", "autoscale-go") or {}
            status = ksvc.get("status") or {}
            if any(c["type"] == "Ready" and c["status"] == "True" for c in status.get("conditions") or []):
                return status["latestReadyRevisionName"] + "-deployment"
            return None
        return wait_until(ready, "autoscale-go Ready", timeout=30)

    def wanted_replicas(self, deployment):
        return self.kube.store.get("apps", "Deployment", "default", deployment)["spec"]["replicas"]


class TestKpaScalesToConcurrency(KpaTestCase):
    def test_requests_held_in_flight_give_ceil_n_over_target(self):
        deployment = self.deploy(target=10)
        port = int(self.kube.gateway.rpartition(":")[2])
        answers = []

        def held_request():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            try:
                conn.request("GET", "/?sleep=6000", headers={"Host": HOST})
                answers.append(conn.getresponse().status)
            except OSError as e:
                answers.append(str(e))
            finally:
                conn.close()

        threads = [threading.Thread(target=held_request, daemon=True) for _ in range(25)]
        for t in threads:
            t.start()
        wait_until(lambda: self.wanted_replicas(deployment) == 3, "ceil(25/10) = 3 replicas", timeout=20)
        for t in threads:
            t.join(timeout=60)
        self.assertEqual(answers, [200] * 25)
        self.assertEqual(max(self.replicas), 3, self.replicas)

    def test_clients_sending_short_requests_back_to_back_count_fully(self):
        # 20 clients, each request about 100 ms: the data plane must see about 20 in flight, so
        # target 5 gives 4 replicas. A front that delays each answer on its way out (Nagle's
        # algorithm waiting for the client's delayed ACK, 40 ms) shows about 14: 3 replicas.
        deployment = self.deploy(target=5)
        port = self.kube.gateway.rpartition(":")[2]
        clients = start_process([sys.executable, "-c", CLIENTS, port, HOST, "/?sleep=100", "20"],
                                self.tmp.sub("clients.log"))
        self.addCleanup(stop_process, clients)

        def alive():
            if clients.poll() is not None:
                with open(self.tmp.sub("clients.log")) as f:
                    raise AssertionError(f"the clients exited: {f.read()[-2000:]}")
        try:
            wait_until(lambda: self.wanted_replicas(deployment) == 4, "ceil(20/5) = 4 replicas", timeout=30,
                       alive=alive)
        except TimeoutError as e:
            self.fail(f"{e}; the autoscaler set replicas {self.replicas}")
        stop_process(clients)
        self.assertEqual(max(self.replicas), 4, self.replicas)


class TestKpaRule(unittest.TestCase):
    def test_a_burst_of_samples_does_not_outweigh_a_longer_quiet_stretch(self):
        # The data plane samples at every tick and at every arrival; 10 ms with 20 requests in a
        # 2 s window that was otherwise idle averages 0.1, not the mean of the samples (about 13).
        kpa = Autoscaler(0.0)
        for i in range(20):
            kpa.record(i * 0.1, 0, 2.0)
        for i in range(50):
            kpa.record(1.99 + i * 0.0002, 20, 2.0)
        self.assertAlmostEqual(kpa.average(), 0.1, delta=0.02)
        self.assertEqual(kpa.desired(2.0, 20, target=10, grace=30), 1)

    def test_requests_held_for_the_whole_window_count_fully(self):
        kpa = Autoscaler(0.0)
        for i in range(41):
            kpa.record(i * 0.1, 0 if i < 10 else 25, 2.0)  # idle for 1 s, then 25 in flight
        self.assertAlmostEqual(kpa.average(), 25.0)
        self.assertEqual(kpa.desired(4.0, 25, target=10, grace=30), 3)


if __name__ == "__main__":
    unittest.main()
