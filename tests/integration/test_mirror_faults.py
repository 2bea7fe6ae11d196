"""`ferry mirror` over a flaky, far-away link: a seeded fault-injecting proxy in front of the source
(and the target) resets connections mid-blob, answers 5xx and 429 with Retry-After, truncates bodies
and stalls. Every run must still end with every target digest equal to its source, or, when a
registry keeps failing, with a clear error naming the image and the last error, in bounded time."""

import json
import unittest

from ferrytest import release
from ferrytest.fault_proxy import BLOBS_AND_MANIFESTS, FaultProxy
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase

EVERY_FAULT = {"reset": 0.12, "status": 0.08, "throttle": 0.05, "truncate": 0.08, "stall": 0.03}


class TestMirrorThroughFaults(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.upstream = self.use(Registry())
        self.target = self.use(Registry())
        self.release = release.knative_like_release(self.upstream, layer_size=64 * 1024)
        self.images_file = self.ferry.path("images.txt")
        with open(self.images_file, "w") as f:
            f.write("\n".join(image.source for image in self.release) + "\n")

    def mirror(self, source_host, target_host, *args):
        flags = []
        for registry, prefix in release.PREFIX.items():
            flags += ["--source-mirror", f"{registry}={source_host}/{prefix}"]
        return self.ferry.run("mirror", "--images", self.images_file, "--to", f"{target_host}/mirror",
                              "--naming", "flatten", "--lock", self.ferry.path("images.lock"),
                              "--output", "json", *flags, *args, timeout=240)

    def assert_every_digest_equal(self):
        with open(self.ferry.path("images.lock")) as f:
            lock = {e["source"]: e for e in json.load(f)["images"]}
        for image in self.release:
            entry = lock[image.source]
            self.assertEqual(entry["digest"], image.artifact.digest)
            repo = entry["target"].split("/", 1)[1].split(":")[0]
            self.assertEqual(self.target.manifest_digest(repo, image.tag), image.artifact.digest)

    def test_faults_at_the_source_are_survived(self):
        for seed in (1, 2, 3):
            with self.subTest(seed=seed), Registry() as target:
                self.target = target
                with FaultProxy(self.upstream.host, seed=seed, faults=EVERY_FAULT, max_faults=12,
                                path_regex=BLOBS_AND_MANIFESTS, stall_seconds=1.0) as proxy:
                    r = self.mirror(proxy.host, target.host)
                self.assertEqual(r.code, 0, str(r))
                self.assertGreater(proxy.faults_injected, 0)
                self.assert_every_digest_equal()

    def test_faults_at_the_target_are_survived(self):
        with FaultProxy(self.target.host, seed=11, faults={"reset": 0.1, "status": 0.1, "throttle": 0.05},
                        max_faults=10) as proxy:
            r = self.mirror(self.upstream.host, proxy.host)
        self.assertEqual(r.code, 0, str(r))
        self.assertGreater(proxy.faults_injected, 0)
        self.assert_every_digest_equal()

    def test_throttling_is_waited_out_as_the_registry_asks(self):
        with FaultProxy(self.upstream.host, seed=5, faults={"throttle": 0.5}, max_faults=4,
                        path_regex=BLOBS_AND_MANIFESTS) as proxy:
            r = self.mirror(proxy.host, self.target.host)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(proxy.faults["throttle"], 4)
        self.assert_every_digest_equal()

    def test_a_registry_that_keeps_failing_gives_a_clear_error_in_bounded_time(self):
        with open(self.images_file, "w") as f:
            f.write("\n".join(image.source for image in self.release[:3]) + "\n")
        with FaultProxy(self.upstream.host, always_fail=503, path_regex=BLOBS_AND_MANIFESTS) as proxy:
            r = self.mirror(proxy.host, self.target.host)  # its timeout fails the test if retries never end
        self.assertNotEqual(r.code, 0)
        summary = json.loads(r.out.splitlines()[-1])
        self.assertEqual(len(summary["failed"]), 3)
        for failure, image in zip(sorted(summary["failed"], key=lambda f: f["source"]),
                                  sorted(self.release[:3], key=lambda i: i.source)):
            self.assertEqual(failure["source"], image.source)
            self.assertIn("503", failure["error"])
        self.assertIn("3 of 3 images failed", r.err)
        # One registry failing alike: one line with the count and two names, not a line per image.
        self.assertRegex(r.err, rf"\n  3 images at {proxy.host} failed \(\S+, \S+ and 1 more\): registry {proxy.host}\b")
        self.assertEqual(r.err.count("\n  gcr.io/"), 0, r.err)
        self.assertEqual(self.target.requests_matching("PUT", "/manifests/"), 0)

    def test_a_blob_that_keeps_failing_is_read_six_times_not_six_times_six(self):
        # One retry policy at one level: the blob read is the step's, and nothing inside it retries.
        image = next(i for i in self.release if not hasattr(i.artifact, "children"))
        with open(self.images_file, "w") as f:
            f.write(image.source + "\n")
        with FaultProxy(self.upstream.host, always_fail=503, path_regex=r"/blobs/sha256:") as proxy:
            r = self.mirror(proxy.host, self.target.host)
        self.assertNotEqual(r.code, 0)
        for blob in image.artifact.blobs():
            self.assertEqual(proxy.requests_for(f"/blobs/{blob.digest}$", "GET"), 6, blob.digest)


if __name__ == "__main__":
    unittest.main()
