"""Integration tests for the sample apps (samples/apps/) and `ferry samples push`.

Contract under test: helloworld answers `Hello <TARGET>!` ("World" by default) on $PORT; autoscale
does `sleep`, `prime` and `bloat` per request with upstream autoscale-go's answer lines, skips a
part that is 0 or missing and answers 400 to a non-integer; both serve keep-alive connections and
stop cleanly on SIGTERM, finishing the request in flight. `ferry samples push --to REGISTRY/NS`
puts each app in REGISTRY/NS/<app>:TAG as an OCI image (one layer, entrypoint, PORT=8080, no base
image) with the same digest every time, and containerd runs those images and they answer."""

import http.client
import json
import os
import re
import socket
import subprocess
import unittest
import uuid

from ferrytest import skopeo
from ferrytest.containerd import Containerd
from ferrytest.ferry import Ferry, ferry_bin
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import free_port, start_process, stop_process, wait_until

SLEPT = re.compile(r"^Slept for (\d+\.\d\d) milliseconds\.\n$")
REFERENCE = re.compile(r"^(?P<name>\S+)\s+(?P<ref>\S+:(?P<tag>[\w.-]+))@(?P<digest>sha256:[0-9a-f]{64})$")


def sample_app_path(name):
    """The built sample executable: $FERRY_SAMPLE_APPS/NAME, else beside ferry in the build tree."""
    folder = os.environ.get("FERRY_SAMPLE_APPS") or os.path.join(
        os.path.dirname(os.path.dirname(os.path.abspath(ferry_bin()))), "samples", "apps")
    path = os.path.join(folder, name)
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"sample app {path} is not built; set FERRY_SAMPLE_APPS to its folder")
    return path


def sample_apps():
    """The emulator's dataplane_apps for both samples: image name -> executable."""
    return {name: sample_app_path(name) for name in ("helloworld", "autoscale")}


def get(port, target, host="127.0.0.1", conn=None):
    """GET target; returns (status, body text, headers). Uses `conn` (kept open) if given."""
    c = conn or http.client.HTTPConnection(host, port, timeout=30)
    try:
        c.request("GET", target)
        r = c.getresponse()
        return r.status, r.read().decode(), dict((k.lower(), v) for k, v in r.getheaders())
    finally:
        if conn is None:
            c.close()


def answers(port):
    try:
        return get(port, "/")[0] == 200
    except OSError:
        return False


def thread_count(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"^Threads:\s+(\d+)", f.read(), re.M).group(1))


class SampleApp:
    """Context manager: runs a sample executable on a free port until exit (SIGTERM)."""

    def __init__(self, name, log_dir, **env):
        self.name, self.log_path, self.env = name, os.path.join(log_dir, f"{name}.log"), env
        self.proc = None

    def __enter__(self):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("TARGET", "PORT")}
        env.update(self.env, PORT=str(self.port))
        self.proc = start_process([sample_app_path(self.name)], self.log_path, env=env)
        wait_until(lambda: answers(self.port), f"{self.name} on port {self.port}", alive=self._check_alive)
        return self

    def _check_alive(self):
        if self.proc.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log()}")

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def __exit__(self, *exc):
        stop_process(self.proc)


class HelloworldTest(ServerTestCase):
    def test_says_hello_world_without_target(self):
        with SampleApp("helloworld", self.tmp.path) as app:
            status, body, headers = get(app.port, "/")
            self.assertEqual(status, 200)
            self.assertEqual(body, "Hello World!\n")
            self.assertTrue(headers["content-type"].startswith("text/plain"), headers)

    def test_says_hello_to_target_on_port_from_environment(self):
        with SampleApp("helloworld", self.tmp.path, TARGET="Ferry") as app:
            self.assertEqual(get(app.port, "/any/path?x=1")[:2], (200, "Hello Ferry!\n"))

    def test_refuses_a_port_that_is_not_a_number(self):
        r = subprocess.run([sample_app_path("helloworld")], env={"PORT": "http"}, capture_output=True,
                           text=True, timeout=30)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("PORT=http", r.stderr)

    def test_serves_many_requests_on_one_keep_alive_connection(self):
        with SampleApp("helloworld", self.tmp.path) as app:
            conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
            try:
                get(app.port, "/", conn=conn)
                first_socket = conn.sock
                for _ in range(20):
                    self.assertEqual(get(app.port, "/", conn=conn)[:2], (200, "Hello World!\n"))
                self.assertIs(conn.sock, first_socket, "the server closed a keep-alive connection")
            finally:
                conn.close()

    def test_answers_pipelined_requests_in_order_and_closes_on_request(self):
        with SampleApp("helloworld", self.tmp.path) as app:
            with socket.create_connection(("127.0.0.1", app.port), timeout=30) as s:
                s.sendall(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
                          b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                data = b""
                while chunk := s.recv(65536):  # the server closes after the second answer
                    data += chunk
            self.assertEqual(data.count(b"HTTP/1.1 200 OK\r\n"), 2, data)
            self.assertEqual(data.count(b"Hello World!\n"), 2, data)
            self.assertIn(b"Connection: close", data)

    def test_stops_on_sigterm_even_with_an_idle_keep_alive_connection(self):
        app = SampleApp("helloworld", self.tmp.path)
        with app:
            conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
            self.addCleanup(conn.close)
            get(app.port, "/", conn=conn)
            app.proc.terminate()
            self.assertEqual(app.proc.wait(timeout=20), 0, app.log())
        self.assertIn("stopped", app.log())


class AutoscaleTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.app = self.use(SampleApp("autoscale", self.tmp.path))

    def query(self, q):
        return get(self.app.port, "/?" + q)[:2]

    def test_sleep_answers_how_long_it_slept(self):
        status, body = self.query("sleep=20")
        self.assertEqual(status, 200)
        m = SLEPT.match(body)
        self.assertIsNotNone(m, body)
        self.assertGreaterEqual(float(m.group(1)), 20.0)

    def test_prime_answers_the_largest_prime_below_n(self):
        for n, answer in [(10000, "The largest prime less than 10000 is 9973.\n"),
                          (3, "The largest prime less than 3 is 2.\n"),
                          (14, "The largest prime less than 14 is 13.\n"),
                          (13, "The largest prime less than 13 is 11.\n"),
                          (1000000, "The largest prime less than 1000000 is 999983.\n"),
                          (2, "There are no primes smaller than 2.\n"),
                          (-5, "There are no primes smaller than -5.\n")]:
            self.assertEqual(self.query(f"prime={n}"), (200, answer))

    def test_bloat_answers_how_much_it_allocated(self):
        self.assertEqual(self.query("bloat=5"), (200, "Allocated 5 Mb of memory.\n"))

    def test_all_three_at_once_answer_one_line_each(self):
        status, body = self.query("sleep=100&prime=10000&bloat=5")
        self.assertEqual(status, 200)
        lines = body.splitlines(keepends=True)
        self.assertEqual(len(lines), 3, body)
        self.assertRegex(lines[0], SLEPT)
        self.assertEqual(lines[1:], ["The largest prime less than 10000 is 9973.\n", "Allocated 5 Mb of memory.\n"])

    def test_two_of_three(self):
        self.assertEqual(self.query("bloat=1&prime=20"),
                         (200, "The largest prime less than 20 is 19.\nAllocated 1 Mb of memory.\n"))

    def test_zero_or_missing_parameters_are_skipped(self):
        for q in ["", "sleep=0&prime=0&bloat=0", "sleep=&prime=", "other=7"]:
            self.assertEqual(self.query(q), (200, ""), q)
        self.assertEqual(self.query("sleep=0&prime=5&bloat=0"), (200, "The largest prime less than 5 is 3.\n"))

    def test_a_parameter_that_is_not_an_integer_is_a_bad_request(self):
        for q, value in [("sleep=abc", "abc"), ("prime=1.5", "1.5"), ("bloat=5MB", "5MB"),
                         ("sleep=10&prime=x", "x"), ("prime=%2B%2B", "++")]:
            status, body = self.query(q)
            self.assertEqual(status, 400, q)
            self.assertIn(f'"{value}"', body, q)
            self.assertNotIn("Slept", body, q)

    def test_a_signed_integer_is_an_integer(self):
        self.assertEqual(self.query("prime=%2B7"), (200, "The largest prime less than 7 is 5.\n"))

    def test_sigterm_lets_the_request_in_flight_finish(self):
        # Only the main thread left: the connections of the readiness probe are gone.
        wait_until(lambda: thread_count(self.app.proc.pid) == 1, "autoscale to have no connection")
        with socket.create_connection(("127.0.0.1", self.app.port), timeout=30) as s:
            s.sendall(b"GET /?sleep=300 HTTP/1.1\r\nHost: x\r\n\r\n")
            # The sleep runs on its own thread: main + connection + sleep means the request is in
            # the handler, so the signal below cannot arrive before the server has read it.
            wait_until(lambda: thread_count(self.app.proc.pid) >= 3, "the sleep request to be in flight")
            self.app.proc.terminate()
            data = b""
            while chunk := s.recv(65536):
                data += chunk
        self.assertIn(b"HTTP/1.1 200 OK\r\n", data)
        self.assertIn(b"Connection: close\r\n", data)
        self.assertRegex(data.split(b"\r\n\r\n", 1)[1].decode(), SLEPT)
        self.assertEqual(self.app.proc.wait(timeout=20), 0, self.app.log())


class SamplesPushTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.registry = self.use(Registry())

    def push(self, *args):
        r = self.ferry.run("samples", "push", "--to", f"{self.registry.host}/knative-samples", *args)
        self.assertEqual(r.code, 0, str(r))
        return r

    def push_json(self, *args):
        doc = json.loads(self.push("--output", "json", *args).out)
        return {image["name"]: image for image in doc["images"]}

    def test_pushes_both_apps_and_prints_their_references(self):
        r = self.push("--tag", "v1")
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 2, r.out)
        found = {}
        for line in lines:
            m = REFERENCE.match(line)
            self.assertIsNotNone(m, line)
            self.assertEqual(m["ref"], f"{self.registry.host}/knative-samples/{m['name']}:v1")
            found[m["name"]] = m["digest"]
        self.assertEqual(set(found), {"helloworld", "autoscale"})
        for name, digest in found.items():
            self.assertEqual(self.registry.manifest_digest(f"knative-samples/{name}", "v1"), digest)

    def test_images_are_one_layer_oci_images_that_run_the_app_on_port_8080(self):
        pushed = self.push_json()
        for name in ("helloworld", "autoscale"):
            image = pushed[name]
            self.assertEqual(image["reference"], f"{self.registry.host}/knative-samples/{name}:latest")
            self.assertEqual(image["pinned"], f"{self.registry.host}/knative-samples/{name}@{image['digest']}")
            manifest = json.loads(skopeo.inspect_raw(self.registry, f"knative-samples/{name}", "latest"))
            self.assertEqual(manifest["mediaType"], "application/vnd.oci.image.manifest.v1+json")
            self.assertEqual(len(manifest["layers"]), 1)
            self.assertEqual(manifest["layers"][0]["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip")
            config = json.loads(subprocess.run(
                ["skopeo", "inspect", "--config", *skopeo.registry_flags(self.registry, ""),
                 f"docker://{self.registry.host}/knative-samples/{name}:latest"],
                capture_output=True, text=True, check=True, timeout=120).stdout)
            self.assertEqual(config["os"], "linux")
            self.assertEqual(config["architecture"], {"x86_64": "amd64", "aarch64": "arm64"}[os.uname().machine])
            self.assertEqual(config["config"]["Entrypoint"], [f"/app/{name}"])
            self.assertIn("PORT=8080", config["config"]["Env"])
            self.assertNotIn("TARGET", " ".join(config["config"]["Env"]))
            self.assertIn("8080/tcp", config["config"]["ExposedPorts"])
            self.assertEqual(len(config["rootfs"]["diff_ids"]), 1)

    def test_pushing_again_gives_the_same_digests_and_uploads_nothing(self):
        first = self.push_json()
        uploads = self.registry.requests_matching("PUT", r"/blobs/uploads/")
        again = self.push_json()
        self.assertEqual({n: i["digest"] for n, i in first.items()}, {n: i["digest"] for n, i in again.items()})
        self.assertEqual(self.registry.requests_matching("PUT", r"/blobs/uploads/"), uploads)
        # Another ferry user (fresh cache and config) builds the very same images.
        with Ferry() as other:
            r = other.run("samples", "push", "--to", f"{self.registry.host}/elsewhere", "--output", "json")
            self.assertEqual(r.code, 0, str(r))
            self.assertEqual({i["name"]: i["digest"] for i in r.json()["images"]},
                             {n: i["digest"] for n, i in first.items()})

    def test_refuses_a_destination_with_a_tag(self):
        r = self.ferry.run("samples", "push", "--to", f"{self.registry.host}/ns:v1")
        self.assertNotEqual(r.code, 0)
        self.assertIn("--to", r.err)
        self.assertIn("REGISTRY/NAMESPACE", r.err)

    def test_an_unreachable_registry_fails_naming_it(self):
        host = f"127.0.0.1:{free_port()}"
        r = self.ferry.run("samples", "push", "--to", f"{host}/ns")
        self.assertNotEqual(r.code, 0)
        self.assertIn(host, r.err)
        self.assertTrue(r.err.startswith("ferry: error:"), r.err)


class SampleImagesRunTest(ServerTestCase):
    """Runs the pushed images with containerd (`ctr run`, host network) and asks them over HTTP."""

    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.registry = self.use(Registry())
        self.containerd = self.use(Containerd())

    def run_container(self, ref, **env):
        """Pulls `ref`, starts it detached on a free port; returns the port. Stopped at cleanup."""
        code, out = self.containerd.pull(ref, plain_http=True)
        self.assertEqual(code, 0, out)
        port = free_port()
        name = f"ferrytest-{uuid.uuid4().hex[:12]}"
        args = ["run", "-d", "--net-host", "--snapshotter", self.containerd.snapshotter, "--env", f"PORT={port}"]
        for key, value in env.items():
            args += ["--env", f"{key}={value}"]
        r = self.containerd.ctr(*args, ref, name)
        self.addCleanup(self.remove_container, name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        wait_until(lambda: answers(port), f"container {name} ({ref}) on port {port}", timeout=60)
        return port

    def remove_container(self, name):
        """SIGTERM, wait until the task has stopped (the app exits on it), then delete."""
        ctr = self.containerd.ctr
        ctr("task", "kill", "--signal", "SIGTERM", name)
        try:
            wait_until(lambda: self.task_status(name) in ("STOPPED", None), f"container {name} to stop on SIGTERM",
                       timeout=30)
        finally:
            ctr("task", "kill", "--signal", "SIGKILL", name)
            ctr("task", "delete", "--force", name)
            ctr("container", "delete", name)

    def task_status(self, name):
        """The STATUS column of `ctr task ls` for task `name`; None when there is no such task."""
        for line in self.containerd.ctr("task", "ls").stdout.splitlines()[1:]:
            fields = line.split()
            if fields and fields[0] == name:
                return fields[-1]
        return None

    def test_the_pushed_images_run_and_answer(self):
        pushed = {i["name"]: i for i in json.loads(self.ferry.run(
            "samples", "push", "--to", f"{self.registry.host}/knative-samples", "--output", "json").out)["images"]}
        hello = self.run_container(pushed["helloworld"]["pinned"], TARGET="containerd")
        self.assertEqual(get(hello, "/")[:2], (200, "Hello containerd!\n"))
        autoscale = self.run_container(pushed["autoscale"]["reference"])
        status, body = get(autoscale, "/?sleep=10&prime=10000&bloat=1")[:2]
        self.assertEqual(status, 200)
        self.assertEqual(body.splitlines(keepends=True)[1:],
                         ["The largest prime less than 10000 is 9973.\n", "Allocated 1 Mb of memory.\n"])
        self.assertEqual(get(autoscale, "/?sleep=ten")[0], 400)


if __name__ == "__main__":
    unittest.main()
