"""Proves the test harness's FaultProxy in front of a real docker-registry: without faults it passes
pushes and pulls through byte for byte (keep-alive, concurrency, chunked and 100-continue uploads,
upload Locations rewritten to the proxy); each fault kind reaches the client as promised; the
bounds (max_faults, eligibility, always_fail) hold; the byte counters count exactly."""

import hashlib
import http.client
import json
import os
import shutil
import subprocess
import threading
import types
import unittest
import urllib.parse

from ferrytest import images, skopeo
from ferrytest.client import RegistryClient
from ferrytest.fault_proxy import BLOBS, BLOBS_AND_MANIFESTS, FaultProxy
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import wait_until


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class ProxyTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.registry = self.use(Registry())
        self.image = images.make_image("fp", layers=2, layer_size=200_000)
        images.push(self.registry, "src/app", "v1", self.image)
        self.layer = self.image.layers[0]

    def proxy(self, **kw):
        return self.use(FaultProxy(self.registry.host, **kw))

    @staticmethod
    def get(host, path, method="GET", headers=None, conn=None):
        """(status, headers dict (lower-case names), body) of one request on a fresh or given
        connection; connection and protocol errors propagate."""
        c = conn or http.client.HTTPConnection(host, timeout=30)
        try:
            c.request(method, path, headers=headers or {"Accept": images.OCI["manifest"]})
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
        finally:
            if conn is None:
                c.close()

    def blob_path(self, blob=None, repo="src/app"):
        return f"/v2/{repo}/blobs/{(blob or self.layer).digest}"


class TestPassThrough(ProxyTestCase):
    def test_push_and_pull_through_the_proxy_keep_every_digest(self):
        proxy = self.proxy()
        index = images.make_index("fp-idx", docker=True)
        self.assertEqual(images.push(RegistryClient(proxy.host), "dst/list", "v1", index), index.digest)
        self.assertEqual(self.registry.manifest_digest("dst/list", "v1"), index.digest)

        status, headers, raw = self.get(proxy.host, "/v2/dst/list/manifests/v1",
                                        headers={"Accept": images.DOCKER["index"]})
        self.assertEqual((status, sha256(raw)), (200, index.digest))
        self.assertEqual(headers["docker-content-digest"], index.digest)
        for blob in index.blobs():
            status, _, data = self.get(proxy.host, self.blob_path(blob, "dst/list"))
            self.assertEqual((status, sha256(data)), (200, blob.digest))
        self.assertEqual(sum(proxy.faults.values()), 0)
        self.assertEqual(proxy.requests, len(proxy.exchanges()))

    def test_keep_alive_connection_serves_head_get_and_404_in_turn(self):
        proxy = self.proxy()
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)
        for _ in range(2):
            status, headers, body = self.get(proxy.host, self.blob_path(), "HEAD", conn=conn)
            self.assertEqual((status, body), (200, b""))
            self.assertEqual(int(headers["content-length"]), self.layer.size)
            status, _, body = self.get(proxy.host, self.blob_path(), conn=conn)
            self.assertEqual((status, sha256(body)), (200, self.layer.digest))
            status, _, _ = self.get(proxy.host, "/v2/src/app/manifests/nope", conn=conn)
            self.assertEqual(status, 404)
        self.assertEqual(proxy.connections, 1)
        self.assertEqual(proxy.requests, 6)

    def test_many_concurrent_connections(self):
        proxy = self.proxy()
        results, errors = [], []

        def pull():
            try:
                for blob in self.image.blobs():
                    status, _, data = self.get(proxy.host, self.blob_path(blob))
                    results.append(status == 200 and sha256(data) == blob.digest)
            except Exception as e:  # reported below
                errors.append(e)

        threads = [threading.Thread(target=pull) for _ in range(24)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(results, [True] * 24 * len(self.image.blobs()))
        self.assertEqual(proxy.connections, 24 * len(self.image.blobs()))

    def test_chunked_and_expect_continue_uploads_reach_the_registry(self):
        proxy = self.proxy()
        data = os.urandom(1_500_000)
        digest = sha256(data)
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)

        # Chunked PATCH, then a PUT that sends its (empty) body along with `Expect: 100-continue`.
        location = self.start_upload(conn, "dst/chunked")
        conn.request("PATCH", location, body=iter([data[:700_000], data[700_000:]]),
                     headers={"Content-Type": "application/octet-stream"}, encode_chunked=True)
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 202)
        location = r.getheader("Location")
        conn.request("PUT", with_digest(location, digest), body=b"",
                     headers={"Expect": "100-continue", "Content-Length": "0"})
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 201)
        self.assertTrue(self.registry.has_blob("dst/chunked", digest))
        self.assertEqual(proxy.request_bytes_for("/blobs/uploads/", "PATCH"), len(data))

    @unittest.skipUnless(shutil.which("curl"), "needs curl (libcurl waits for 100 Continue)")
    def test_curl_upload_waits_for_100_continue_through_the_proxy(self):
        proxy = self.proxy()
        data = os.urandom(2_000_000)
        path = self.tmp.sub("blob")
        with open(path, "wb") as f:
            f.write(data)
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)
        location = self.start_upload(conn, "dst/curl")
        r = subprocess.run(["curl", "-sS", "-v", "-X", "PUT", "--data-binary", "@" + path,
                            "-H", "Expect: 100-continue", "-H", "Content-Type: application/octet-stream",
                            "-o", "/dev/null", "-w", "%{http_code}", with_digest(location, sha256(data))],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(r.stdout, "201", r.stderr)
        self.assertIn("< HTTP/1.1 100 Continue", r.stderr)
        self.assertTrue(self.registry.has_blob("dst/curl", sha256(data)))

    def start_upload(self, conn, repo):
        conn.request("POST", f"/v2/{repo}/blobs/uploads/", body=b"")
        r = conn.getresponse()
        r.read()
        self.assertEqual(r.status, 202)
        return r.getheader("Location")

    def test_upload_location_points_at_the_proxy(self):
        proxy = self.proxy()
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)
        location = urllib.parse.urlsplit(self.start_upload(conn, "dst/loc"))
        self.assertEqual((location.scheme, location.netloc), ("http", proxy.host))
        self.assertTrue(location.path.startswith("/v2/dst/loc/blobs/uploads/"))

    def test_skopeo_push_follows_rewritten_locations_through_the_proxy(self):
        proxy = self.proxy()
        image = images.make_image("fp-skopeo", layers=2)
        as_registry = types.SimpleNamespace(host=proxy.host, tls=False, user=None)
        skopeo.push(image, as_registry, "dst/skopeo", "v1", self.tmp.sub("layout"))
        self.assertEqual(self.registry.manifest_digest("dst/skopeo", "v1"), image.digest)
        # Every upload went through the proxy, none straight to the registry's own address.
        uploaded = proxy.request_bytes_for(r"/v2/dst/skopeo/blobs/uploads/.")
        self.assertEqual(uploaded, sum(b.size for b in image.blobs()))


class TestFaults(ProxyTestCase):
    def test_reset_is_a_connection_error(self):
        proxy = self.proxy(seed=1, faults={"reset": 1.0})
        with self.assertRaises(ConnectionResetError):
            self.get(proxy.host, self.blob_path())
        self.assertEqual(proxy.faults["reset"], 1)
        self.assertLess(proxy.bytes_for(BLOBS), self.layer.size)

    def test_reset_of_a_head_request_comes_before_any_answer(self):
        proxy = self.proxy(seed=1, faults={"reset": 1.0})
        with self.assertRaises(ConnectionResetError):
            self.get(proxy.host, self.blob_path(), "HEAD")

    def test_truncate_sends_the_full_length_then_part_of_the_body(self):
        proxy = self.proxy(seed=2, faults={"truncate": 1.0})
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)
        conn.request("GET", self.blob_path())
        r = conn.getresponse()
        self.assertEqual((r.status, int(r.getheader("Content-Length"))), (200, self.layer.size))
        with self.assertRaises(http.client.IncompleteRead) as cm:
            r.read()
        partial = cm.exception.partial
        self.assertLess(len(partial), self.layer.size)
        self.assertEqual(partial, self.layer.data[:len(partial)])
        self.assertEqual(proxy.bytes_for(BLOBS), len(partial))  # counts what the client got
        self.assertEqual(proxy.faults["truncate"], 1)

    def test_status_and_throttle_answer_without_asking_the_registry(self):
        proxy = self.proxy(seed=3, faults={"status": 0.5, "throttle": 0.5}, path_regex=BLOBS)
        seen = []
        for _ in range(12):
            status, headers, body = self.get(proxy.host, self.blob_path())
            seen.append(status)
            self.assertIn(status, (429, 500, 502, 503))
            self.assertIn(b'"errors"', body)
            if status == 429:
                self.assertEqual(headers["retry-after"], "1")
        faults = proxy.faults
        self.assertEqual(faults["throttle"], seen.count(429))
        self.assertEqual(faults["status"], 12 - seen.count(429))
        self.assertGreater(faults["throttle"], 0)
        self.assertGreater(faults["status"], 0)
        self.assertEqual(self.registry.requests_matching("GET", "/blobs/sha256:"), 0)
        self.assertEqual(proxy.bytes_for(BLOBS), 0)
        # Ineligible requests pass through.
        status, _, _ = self.get(proxy.host, "/v2/src/app/manifests/v1")
        self.assertEqual(status, 200)

    def test_same_seed_same_faults(self):
        def statuses(seed):
            with FaultProxy(self.registry.host, seed=seed,
                            faults={"status": 0.3, "throttle": 0.3}) as proxy:
                return [self.get(proxy.host, self.blob_path())[0] for _ in range(10)]

        first = statuses(11)
        self.assertEqual(statuses(11), first)
        self.assertGreater(len(set(first)), 1)

    def test_stall_pauses_then_delivers_the_whole_body(self):
        proxy = self.proxy(seed=4, faults={"stall": 1.0}, stall_seconds=0.2)
        status, _, body = self.get(proxy.host, self.blob_path())
        self.assertEqual((status, sha256(body)), (200, self.layer.digest))
        self.assertEqual(proxy.faults["stall"], 1)

    def test_max_faults_bounds_the_faults_and_eligibility_is_respected(self):
        proxy = self.proxy(seed=5, faults={"reset": 1.0}, max_faults=3, methods=("GET",),
                           path_regex=BLOBS)
        # Not eligible: HEAD and manifests.
        self.assertEqual(self.get(proxy.host, self.blob_path(), "HEAD")[0], 200)
        self.assertEqual(self.get(proxy.host, "/v2/src/app/manifests/v1")[0], 200)
        failures = 0
        for _ in range(6):
            try:
                status, _, body = self.get(proxy.host, self.blob_path())
                self.assertEqual((status, sha256(body)), (200, self.layer.digest))
            except ConnectionResetError:
                failures += 1
        self.assertEqual(failures, 3)
        self.assertEqual(proxy.faults_injected, 3)
        self.assertEqual(proxy.faults["reset"], 3)

    def test_always_fail_keeps_failing_until_healed(self):
        proxy = self.proxy(always_fail=503, max_faults=1, path_regex=BLOBS_AND_MANIFESTS)
        for _ in range(5):
            self.assertEqual(self.get(proxy.host, self.blob_path())[0], 503)
        self.assertEqual(self.get(proxy.host, "/v2/")[0], 200)  # not eligible
        self.assertEqual(proxy.faults["always_fail"], 5)
        proxy.configure(always_fail=None)
        status, _, body = self.get(proxy.host, self.blob_path())
        self.assertEqual((status, sha256(body)), (200, self.layer.digest))

    def test_always_fail_429_says_when_to_retry(self):
        proxy = self.proxy(always_fail=429)
        status, headers, _ = self.get(proxy.host, self.blob_path())
        self.assertEqual((status, headers["retry-after"]), (429, "1"))


class TestCounters(ProxyTestCase):
    def test_a_blob_pull_counts_exactly_its_size(self):
        proxy = self.proxy()
        self.get(proxy.host, self.blob_path(), "HEAD")
        self.assertEqual(proxy.bytes_for(BLOBS), 0)  # HEAD has no body
        self.get(proxy.host, self.blob_path())
        self.assertEqual(proxy.bytes_for(BLOBS), self.layer.size)
        self.assertEqual(proxy.bytes_for(self.layer.digest, method="GET"), self.layer.size)
        status, _, raw = self.get(proxy.host, "/v2/src/app/manifests/v1")
        self.assertEqual(proxy.bytes_for(r"/manifests/"), len(raw))
        self.assertEqual(proxy.requests_for(BLOBS), 2)

    def test_counters_grow_while_a_body_is_in_flight_and_reset(self):
        proxy = self.proxy()
        big = images.push_large_image(self.registry, "src/big", "v1", 8_000_000)
        digest = json.loads(big.raw)["layers"][0]["digest"]
        conn = http.client.HTTPConnection(proxy.host, timeout=30)
        self.addCleanup(conn.close)
        conn.request("GET", f"/v2/src/big/blobs/{digest}")
        r = conn.getresponse()
        first = r.read(1_000_000)
        wait_until(lambda: proxy.bytes_for(BLOBS) >= len(first), "bytes counted while in flight")
        rest = r.read()
        self.assertEqual(sha256(first + rest), digest)
        self.assertEqual(proxy.bytes_for(BLOBS), 8_000_000)
        proxy.reset_counters()
        self.assertEqual((proxy.bytes_for(BLOBS), proxy.requests), (0, 0))


def with_digest(location, digest):
    sep = "&" if "?" in location else "?"
    return location + sep + urllib.parse.urlencode({"digest": digest})


if __name__ == "__main__":
    unittest.main()
