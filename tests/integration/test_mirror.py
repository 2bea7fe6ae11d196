"""Integration tests for `ferry mirror`: a ten-image release (gcr.io, docker.io, quay.io names,
single- and multi-arch, a shared base layer) read through --source-mirror from a local upstream
registry and mirrored into a second real registry."""

import json
import os
import re
import signal
import subprocess
import threading
import unittest

from ferrytest import images, release
from ferrytest.fault_proxy import BLOBS, HoldingProxy, HttpProxy
from ferrytest.ferry import Ferry, ferry_bin
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import free_port, wait_until


class MirrorTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.upstream = self.use(Registry())
        self.target = self.use(Registry())
        self.release = release.knative_like_release(self.upstream)
        self.images_file = self.ferry.path("images.txt")
        self.lock = self.ferry.path("images.lock")
        with open(self.images_file, "w") as f:
            f.write("# a Knative-like release\n\n")
            f.write("\n".join(image.source for image in self.release) + "\n")

    def mirror(self, *args, naming="flatten"):
        return self.ferry.run("mirror", "--images", self.images_file, "--to", f"{self.target.host}/mirror",
                              "--naming", naming, "--lock", self.lock,
                              *release.source_mirror_flags(self.upstream), *args)

    def read_lock(self):
        with open(self.lock) as f:
            return json.load(f)

    def assert_all_mirrored(self, lock):
        by_source = {entry["source"]: entry for entry in lock["images"]}
        self.assertEqual(len(by_source), len(self.release))
        for image in self.release:
            source = image.source if "/" in image.source.split(":")[0] else image.source
            entry = by_source[source]
            self.assertEqual(entry["digest"], image.artifact.digest, source)
            target = entry["target"]
            repo = target.split("/", 1)[1].split(":")[0]
            self.assertTrue(target.endswith("@" + image.artifact.digest))
            self.assertEqual(self.target.manifest_digest(repo, image.tag), image.artifact.digest, target)
            for child in getattr(image.artifact, "children", []):
                self.assertEqual(self.target.manifest_digest(repo, child.digest), child.digest)
        return by_source


class TestMirrorRelease(MirrorTestCase):
    def test_every_image_lands_digest_exact_with_a_lock_file(self):
        r = self.mirror()
        self.assertEqual(r.code, 0, str(r))
        lock = self.read_lock()
        by_source = self.assert_all_mirrored(lock)
        self.assertEqual([e["source"] for e in lock["images"]], sorted(by_source))  # stable order
        queue = by_source["gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0"]
        self.assertEqual(queue["platforms"], ["linux/amd64", "linux/arm64/v8"])
        self.assertEqual(queue["mediaType"], images.OCI["index"])
        # flatten gives one level under the namespace, and the two proxyv2 images stay apart
        targets = [e["target"].split("@")[0] for e in lock["images"]]
        self.assertTrue(all(t.count("/") == 2 for t in targets), targets)
        self.assertEqual(len(set(targets)), len(targets))
        self.assertIn("10 images: 10 copied", r.out)

    def test_a_shared_blob_is_read_from_the_source_once_and_mounted_elsewhere(self):
        r = self.mirror("--output", "json")
        self.assertEqual(r.code, 0, str(r))
        summary = json.loads(r.out.splitlines()[-1])
        self.assertEqual(summary["event"], "summary")
        unique = release.unique_blob_bytes(self.release)
        self.assertEqual(summary["bytes"]["copied"], unique)
        self.assertGreater(summary["blobs"]["mounted"], 0)
        base = self.release[0].artifact.layers[0]  # the base layer six images share
        self.assertEqual(self.upstream.requests_matching("GET", f"/blobs/{base.digest}$", status=200), 1)
        self.assertLessEqual(self.upstream.bytes_served("GET", "/blobs/"), unique)

    def test_a_second_run_transfers_nothing(self):
        self.assertEqual(self.mirror().code, 0)
        served = self.upstream.bytes_served("GET", "/blobs/")
        r = self.mirror("--output", "json")
        self.assertEqual(r.code, 0, str(r))
        summary = json.loads(r.out.splitlines()[-1])
        self.assertEqual(summary["present"], len(self.release))
        self.assertEqual(summary["bytes"]["copied"], 0)
        self.assertEqual(self.upstream.bytes_served("GET", "/blobs/"), served)

    def test_dry_run_prints_the_plan_and_writes_nothing(self):
        r = self.mirror("--dry-run")
        self.assertEqual(r.code, 0, str(r))
        self.assertIn(f"{release.unique_blob_bytes(self.release) / 1000:.1f} KB to transfer", r.out)
        self.assertIn("nothing written", r.out)
        self.assertFalse(os.path.exists(self.lock))
        self.assertEqual(self.target.requests_matching("PUT", "/manifests/"), 0)
        self.assertEqual(self.target.requests_matching("POST", "/blobs/uploads/"), 0)

    def test_platform_filter_rewrites_the_index_and_the_lock_says_so(self):
        r = self.mirror("--platform", "linux/arm64")
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("--platform", r.err)
        entry = {e["source"]: e for e in self.read_lock()["images"]}[
            "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0"]
        queue = self.release[4].artifact
        self.assertNotEqual(entry["digest"], queue.digest)
        self.assertEqual(entry["platforms"], ["linux/arm64/v8"])
        repo = entry["target"].split("/", 1)[1].split(":")[0]
        raw, _ = self.target.manifest(repo, "v1.23.0")
        self.assertEqual(images.sha256_digest(raw), entry["digest"])
        self.assertEqual([m["platform"]["architecture"] for m in json.loads(raw)["manifests"]], ["arm64"])
        amd64 = queue.children[0]
        self.assertIsNone(self.target.manifest_digest(repo, amd64.digest))


class TestMirrorFailures(MirrorTestCase):
    def test_one_missing_image_fails_alone_and_is_listed(self):
        with open(self.images_file, "a") as f:
            f.write("gcr.io/knative-releases/knative.dev/serving/cmd/missing:v1.23.0\n")
        r = self.mirror()
        self.assertNotEqual(r.code, 0)
        self.assertIn("1 of 11 images failed", r.err)
        self.assertRegex(r.err, r"serving/cmd/missing:v1\.23\.0: .*not found")
        self.assert_all_mirrored(self.read_lock())  # the ten others, and the lock lists them

    def test_an_unreachable_source_registry_is_one_counted_line_and_what_to_use_instead(self):
        closed = f"127.0.0.1:{free_port()}"
        flags = []
        for registry, prefix in release.PREFIX.items():
            host = closed if registry == "gcr.io" else self.upstream.host
            flags += ["--source-mirror", f"{registry}={host}/{prefix}"]
        gcr = sorted(image.source for image in self.release if image.source.startswith("gcr.io/"))
        self.assertGreater(len(gcr), 2)

        def run(*extra):
            return self.ferry.run("mirror", "--images", self.images_file, "--to", f"{self.target.host}/mirror",
                                  "--naming", "flatten", "--lock", self.lock, *flags, *extra)

        r = run()
        self.assertNotEqual(r.code, 0)
        summary = r.err[r.err.index(f"ferry: error: {len(gcr)} of {len(self.release)} images failed:"):].splitlines()
        grouped = re.fullmatch(rf"  {len(gcr)} images at {re.escape(closed)} failed \((\S+), (\S+) and "
                               rf"{len(gcr) - 2} more\): registry {re.escape(closed)}\b.*", summary[1])
        self.assertIsNotNone(grouped, r.err)
        self.assertLessEqual({grouped.group(1), grouped.group(2)}, set(gcr))
        self.assertEqual(summary[2], f"  instead: --source-mirror gcr.io=HOST[/PREFIX] (a reachable copy of gcr.io), "
                                     f"or ferry bundle save where gcr.io can be reached and ferry bundle load FILE "
                                     f"--to {self.target.host}/mirror here")
        self.assertEqual(summary[3], "  -v lists every image; --output json has each image's error")
        self.assertEqual(len(summary), 4, r.err)

        # -v names every image in the one line.
        verbose = run("-v")
        line = next(line for line in verbose.err.splitlines() if line.startswith(f"  {len(gcr)} images at {closed}"))
        self.assertNotIn(" more)", line)
        for source in gcr:
            self.assertIn(source, line)

    def test_colliding_targets_are_reported_before_anything_is_sent(self):
        r = self.mirror("--template", "{basename}", naming="template")
        self.assertNotEqual(r.code, 0)
        self.assertIn("serving/cmd/controller", r.err)
        self.assertIn("net-istio/cmd/controller", r.err)
        self.assertEqual(self.upstream.requests_matching("GET", "/manifests/"), 0)
        self.assertEqual(self.target.requests_matching("POST", "/blobs/uploads/"), 0)

    def test_a_bad_line_in_the_image_list_names_file_and_line(self):
        with open(self.images_file, "a") as f:
            f.write("gcr.io/Knative/Bad:tag\n")
        r = self.mirror()
        self.assertNotEqual(r.code, 0)
        self.assertIn(f"{self.images_file}:13:", r.err)
        self.assertEqual(self.upstream.requests_matching("GET", "/manifests/"), 0)

    def test_killed_run_resumes_and_reads_only_what_is_missing(self):
        # Held at a proxy: the blobs only the last image has, so ferry is killed mid-copy (with
        # other blobs copied), never before or after; the rerun reads the upstream directly.
        others = {b.digest for image in self.release[:-1] for b in image.artifact.blobs()}
        held = {b.digest for b in self.release[-1].artifact.blobs()} - others
        self.assertTrue(held)
        copied = threading.Event()
        with HoldingProxy(self.upstream.host, held=held) as proxy:
            argv = [ferry_bin(), "mirror", "--images", self.images_file, "--to", f"{self.target.host}/mirror",
                    "--naming", "flatten", "--lock", self.lock, "--output", "json",
                    *release.source_mirror_flags(proxy)]
            p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=self.ferry.env())
            try:
                def read_events():
                    for line in p.stdout:
                        if json.loads(line).get("action") == "copied":
                            copied.set()
                reader = threading.Thread(target=read_events, daemon=True)
                reader.start()
                wait_until(lambda: p.poll() is not None or (copied.is_set() and proxy.reached.is_set()),
                           "a copied blob and a held blob request", timeout=120, interval=0.01)
                p.send_signal(signal.SIGKILL)
            finally:
                p.wait(timeout=60)
                reader.join(timeout=60)
                p.stdout.close()
            first = proxy.bytes_for(BLOBS, "GET")
        self.assertEqual(p.returncode, -signal.SIGKILL)
        unique = release.unique_blob_bytes(self.release)
        self.assertGreater(first, 0)
        self.assertLess(first, unique)  # it was really cut short

        # Counted at a second proxy: the upstream's log may still record the held requests late.
        with HttpProxy(self.upstream.host) as proxy:
            r = self.ferry.run("mirror", "--images", self.images_file, "--to", f"{self.target.host}/mirror",
                               "--naming", "flatten", "--lock", self.lock, "--output", "json",
                               *release.source_mirror_flags(proxy))
            reads = proxy.exchanges(BLOBS, "GET")
        self.assertEqual(r.code, 0, str(r))
        summary = json.loads(r.out.splitlines()[-1])
        self.assertGreater(summary["blobs"]["skipped"] + summary["blobs"]["mounted"], 0)
        self.assertLess(summary["bytes"]["copied"], unique)
        # Only what it copies is read, each blob once.
        self.assertEqual(sum(e.response_bytes for e in reads), summary["bytes"]["copied"])
        self.assertEqual(len({e.target.rsplit("/", 1)[-1] for e in reads}), len(reads))
        self.assert_all_mirrored(self.read_lock())


if __name__ == "__main__":
    unittest.main()
