"""Integration tests for the emulator's simulated Knative serving data plane (kube/dataplane.py).

Contract under test: a Knative Service's pods are the sample apps run as processes; the gateway
routes by the Host header `<ksvc>.<ns>.<domain>` to them (unknown host: 404); the pod count follows
the KPA rule (ceil(concurrency / target), averaged over the stable window) and goes to zero after
the idle grace; a request at zero is held until a pod is ready (cold start); an image with no app
leaves the pod in ImagePullBackOff; stopping the emulator stops every app process. The gateway
also answers on 127.0.0.1 (the Node's InternalIP) at the gateway Service's HTTP nodePort; with
load_balancer=False a LoadBalancer Service gets nodePorts in 30000-32767 but no ingress."""

import http.client
import socket
import threading
import unittest

from ferrytest.kube.server import Emulator
from ferrytest.testcase import ServerTestCase
from ferrytest.util import wait_until

from test_samples import sample_apps

NS = "demo"
SERVING = "serving.knative.dev"


def knative_service(name, image, target=10, env=None):
    container = {"image": image, "env": [{"name": k, "value": v} for k, v in (env or {}).items()]}
    return {"apiVersion": f"{SERVING}/v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
            "spec": {"template": {"metadata": {"annotations": {"autoscaling.knative.dev/target": str(target)}},
                                  "spec": {"containers": [container]}}}}


def ready(obj):
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (obj.get("status") or {}).get("conditions") or [])


class DataPlaneCase(ServerTestCase):
    load_balancer = True  # the emulator's option: False = a cluster without a load-balancer controller

    def setUp(self):
        super().setUp()
        self.em = self.use(Emulator(controllers=True, pki=self.pki(), dataplane=True, dataplane_apps=sample_apps(),
                                    kpa_stable_window=1.0, kpa_tick=0.1, scale_to_zero_grace=1.5,
                                    load_balancer=self.load_balancer))
        self.em.options.image_pull_backoff = 0.5
        self.store = self.em.store
        self.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})

    def deploy(self, name, image, **kw):
        """Stores the Service (as the controller tests do: no CRDs needed) and waits until it is Ready;
        returns its URL host."""
        self.store.put(knative_service(name, image, **kw))
        svc = wait_until(lambda: (lambda s: s if s and ready(s) else None)(self.store.get(SERVING, "Service", NS, name)),
                         f"Knative Service {name} Ready")
        return svc["status"]["url"].split("://", 1)[1]

    def pods(self, revision):
        """The revision's pods that are not being deleted."""
        return [p for p in self.store.list("", "Pod", NS, label_selector={f"{SERVING}/revision": revision})
                if not p["metadata"].get("deletionTimestamp")]

    def put_kourier(self):
        self.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kourier-system"}})
        self.store.put({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "kourier", "namespace": "kourier-system"},
                        "spec": {"type": "LoadBalancer", "ports": [{"name": "http2", "port": 80},
                                                                   {"name": "https", "port": 443}]}})

    def node_port_listening(self, namespace, name):
        """The Service once its HTTP port has a nodePort that accepts connections on 127.0.0.1."""
        svc = self.store.get("", "Service", namespace, name)
        node_port = ((svc or {}).get("spec", {}).get("ports") or [{}])[0].get("nodePort")
        if not node_port:
            return None
        try:
            socket.create_connection(("127.0.0.1", node_port), timeout=2).close()
        except OSError:
            return None
        return svc

    def get(self, host, path="/", timeout=30, address=None):
        gw_host, gw_port = (address or self.em.gateway).split(":")
        conn = http.client.HTTPConnection(gw_host, int(gw_port), timeout=timeout)
        try:
            conn.request("GET", path, headers={"Host": host})
            r = conn.getresponse()
            return r.status, r.read().decode()
        finally:
            conn.close()


class TestRouting(DataPlaneCase):
    def test_host_routes_to_the_app_then_scales_to_zero_and_cold_starts(self):
        host = self.deploy("hello", "registry.local/samples/helloworld:v1", env={"TARGET": "Ferry"})
        self.assertEqual(host, f"hello.{NS}.example.com")
        self.assertEqual(self.get(host), (200, "Hello Ferry!\n"))
        wait_until(lambda: not self.pods("hello-00001"), "helloworld pods gone after the idle grace")

        status, body = self.get(host)  # held by the gateway until a new pod answers
        self.assertEqual((status, body), (200, "Hello Ferry!\n"))
        [pod] = self.pods("hello-00001")
        self.assertEqual(pod["status"]["phase"], "Running")
        self.assertTrue(ready(pod))

    def test_unknown_host_gets_404(self):
        self.deploy("hello", "registry.local/samples/helloworld:v1")
        self.assertEqual(self.get(f"nothere.{NS}.example.com")[0], 404)

    def test_gateway_service_is_annotated_with_the_real_port(self):
        self.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "kourier-system"}})
        self.store.put({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "kourier", "namespace": "kourier-system"},
                        "spec": {"type": "LoadBalancer", "ports": [{"name": "http2", "port": 80}]}})

        def annotated():
            svc = self.store.get("", "Service", "kourier-system", "kourier")
            ingress = ((svc.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [{}]
            port = (svc["metadata"].get("annotations") or {}).get("ferry.test/gateway-port")
            return (ingress[0].get("ip"), port) if port and ingress[0].get("ip") else None
        self.assertEqual(wait_until(annotated, "kourier Service annotated"),
                         ("127.0.0.1", self.em.gateway.split(":")[1]))

    def test_image_without_an_app_backs_off(self):
        self.store.put(knative_service("other", "registry.local/samples/unknown:v1"))

        def waiting_reason():
            for p in self.pods("other-00001"):
                for cs in (p.get("status") or {}).get("containerStatuses") or []:
                    reason = (cs.get("state") or {}).get("waiting", {}).get("reason")
                    if reason == "ImagePullBackOff":
                        return cs["state"]["waiting"]
            return None
        waiting = wait_until(waiting_reason, "pod of an image without an app in ImagePullBackOff")
        self.assertIn("registry.local/samples/unknown:v1", waiting["message"])


class TestWithoutLoadBalancer(DataPlaneCase):
    load_balancer = False

    def test_load_balancer_service_gets_node_ports_and_no_address_and_its_node_port_answers(self):
        host = self.deploy("hello", "registry.local/samples/helloworld:v1", env={"TARGET": "NodePort"})
        self.put_kourier()
        svc = wait_until(lambda: self.node_port_listening("kourier-system", "kourier"), "kourier's node port answering")
        self.assertTrue(all(30000 <= p["nodePort"] <= 32767 for p in svc["spec"]["ports"]), svc["spec"])
        self.assertEqual((svc.get("status") or {}).get("loadBalancer"), {})
        [node] = self.store.list("", "Node")
        self.assertIn({"type": "InternalIP", "address": "127.0.0.1"}, node["status"]["addresses"])
        node_port = svc["spec"]["ports"][0]["nodePort"]
        self.assertEqual(self.get(host, address=f"127.0.0.1:{node_port}"), (200, "Hello NodePort!\n"))
        self.assertEqual(self.get(f"nothere.{NS}.example.com", address=f"127.0.0.1:{node_port}")[0], 404)

    def test_a_taken_node_port_is_replaced_by_a_free_one(self):
        busy = self.take_a_node_port()
        self.store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}})
        self.store.put({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "istio-ingressgateway", "namespace": "istio-system"},
                        "spec": {"type": "NodePort", "ports": [{"name": "http2", "port": 80, "nodePort": busy}]}})
        svc = wait_until(lambda: (lambda s: s if s and s["spec"]["ports"][0]["nodePort"] != busy else None)(
            self.node_port_listening("istio-system", "istio-ingressgateway")), "a free node port for istio")
        self.assertTrue(30000 <= svc["spec"]["ports"][0]["nodePort"] <= 32767)


    def take_a_node_port(self):
        """A port in the NodePort range that this test holds open (so the emulator cannot bind it)."""
        for port in range(32767, 30000, -1):
            taken = socket.socket()
            try:
                taken.bind(("127.0.0.1", port))
            except OSError:
                taken.close()
                continue
            taken.listen()
            self.addCleanup(taken.close)
            return port
        self.fail("no free port in 30000-32767")


class TestAutoscaling(DataPlaneCase):
    def test_concurrency_scales_pods_up_and_back_down(self):
        host = self.deploy("auto", "registry.local/samples/autoscale:v1", target=10)
        stop = threading.Event()
        errors = []

        def load():
            while not stop.is_set():
                try:
                    status, body = self.get(host, "/?sleep=300")
                    if status != 200:
                        errors.append((status, body))
                except OSError as e:
                    errors.append(str(e))
        threads = [threading.Thread(target=load, daemon=True) for _ in range(30)]
        for t in threads:
            t.start()
        try:
            peak = wait_until(lambda: (lambda n: n if n >= 2 else None)(
                sum(1 for p in self.pods("auto-00001") if ready(p))), "autoscale pods to reach 2 or more (3 wanted)")
        finally:
            stop.set()
            for t in threads:
                t.join(30)
        self.assertGreaterEqual(peak, 2)
        self.assertLessEqual(peak, 3)
        self.assertEqual(errors, [])
        wait_until(lambda: len(self.pods("auto-00001")) <= 1, "autoscale pods to go back down")


class TestStopping(DataPlaneCase):
    def test_stop_ends_every_app_process(self):
        host = self.deploy("hello", "registry.local/samples/helloworld:v1")
        self.assertEqual(self.get(host)[0], 200)
        procs = [app.proc for app in self.em.dataplane._apps.values()]
        self.assertTrue(procs)
        self.em.stop()
        self.assertTrue(all(p.poll() is not None for p in procs))


if __name__ == "__main__":
    unittest.main()
