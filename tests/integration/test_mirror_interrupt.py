"""Ctrl-C (SIGINT) and kill (SIGTERM) during the copy engine's long commands.

Contract under test: `ferry mirror` and `ferry bundle save` stopped by a signal while a blob is on
its way end by that signal (non-zero exit) with a message that says what was left and that the
same command finishes the job; nothing is half-written (no archive, no temporary file beside it,
no tag at the target naming an image whose blobs are not all there, no lock file); and the same
command run again finishes with everything in place.

The signal is sent once a held blob request has reached the source registry (a proxy answers
nothing until the test ends), so ferry is caught mid-copy, not before or after."""

import json
import os
import re
import signal
import subprocess
import unittest

from ferrytest import release
from ferrytest.fault_proxy import HoldingProxy
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import wait_until

TEMPORARY = re.compile(r"^\..+\.ferry-\d+-\d+-[0-9a-f]+$")  # common/atomic_file.h


class InterruptCopyTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.upstream = self.use(Registry())
        self.release = release.knative_like_release(self.upstream, layer_size=64 * 1024)
        self.images_file = self.ferry.path("images.txt")
        with open(self.images_file, "w") as f:
            f.write("\n".join(image.source for image in self.release) + "\n")

    def interrupt(self, argv, proxy, sig, ready=lambda: True):
        """Runs ferry with `argv`, sends `sig` once `proxy` holds a blob request and `ready()`;
        returns (exit code, stderr)."""
        proc = subprocess.Popen([self.ferry.bin, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=self.ferry.env())
        try:
            def caught():
                if proc.poll() is not None:
                    raise AssertionError(f"ferry ended (exit {proc.returncode}) before a blob request was held")
                return proxy.reached.is_set() and ready()
            wait_until(caught, "a blob request from ferry to reach the source", timeout=120, interval=0.01)
            proc.send_signal(sig)
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        return proc.returncode, err.decode(errors="replace")

    def assert_stopped_with_a_message(self, code, err, sig):
        self.assertEqual(code, -sig, f"ferry did not end by the signal: {err}")
        self.assertIn(f"ferry: stopped by {signal.Signals(sig).name}", err)
        self.assertIn("run the same command again", err)

    # --- bundle save ---------------------------------------------------------------------------

    def interrupt_bundle_save(self, sig, name):
        out = self.tmp.sub(f"out-{sig}", mkdir=True)
        archive = os.path.join(out, name)
        with HoldingProxy(self.upstream.host) as proxy:
            argv = ["bundle", "save", "--images", self.images_file, "-o", archive,
                    *release.source_mirror_flags(proxy)]
            writing = lambda: any(TEMPORARY.match(n) for n in os.listdir(out))  # noqa: E731
            code, err = self.interrupt(argv, proxy, sig, ready=writing)
        self.assert_stopped_with_a_message(code, err, sig)
        self.assertIn("no bundle was written", err)
        self.assertEqual(os.listdir(out), [], "the archive or its temporary file was left behind")

        r = self.ferry.run("bundle", "save", "--images", self.images_file, "-o", archive,
                           *release.source_mirror_flags(self.upstream))
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(os.listdir(out), [name])
        self.assertEqual(self.ferry.run("bundle", "verify", archive).code, 0)

    def test_ctrl_c_during_bundle_save_leaves_nothing_and_a_rerun_finishes(self):
        self.interrupt_bundle_save(signal.SIGINT, "knative.tar")

    def test_kill_during_a_compressed_bundle_save_leaves_nothing_and_a_rerun_finishes(self):
        self.interrupt_bundle_save(signal.SIGTERM, "knative.tar.zst")

    # --- mirror --------------------------------------------------------------------------------

    def interrupt_mirror(self, sig):
        target = self.use(Registry())
        lock = self.ferry.path(f"images-{sig}.lock")
        # Held: the blobs only the last image has, so the others can finish meanwhile.
        last = self.release[-1]
        others = {b.digest for image in self.release[:-1] for b in image.artifact.blobs()}
        held = {b.digest for b in last.artifact.blobs()} - others
        self.assertTrue(held)

        def argv(source_host):
            return ["mirror", "--images", self.images_file, "--to", f"{target.host}/mirror", "--naming", "flatten",
                    "--lock", lock, "--output", "json", *release.source_mirror_flags(_Host(source_host))]

        def some_image_tagged():
            catalog = target.client().request("GET", "/v2/_catalog?n=1000").json().get("repositories") or []
            return any(target.tags(repo) for repo in catalog)

        with HoldingProxy(self.upstream.host, held=held) as proxy:
            code, err = self.interrupt(argv(proxy.host), proxy, sig, ready=some_image_tagged)
        self.assert_stopped_with_a_message(code, err, sig)
        self.assertIn("no tag names a partial image", err)
        self.assertFalse(os.path.exists(lock), "the lock file was written")
        self.assertEqual([n for n in os.listdir(os.path.dirname(lock)) if TEMPORARY.match(n)], [])
        tagged = self.tags_of_whole_images(target)
        self.assertTrue(tagged, "the images finished before the signal were not kept")

        r = self.ferry.run(*argv(self.upstream.host), timeout=240)
        self.assertEqual(r.code, 0, str(r))
        with open(lock) as f:
            entries = {e["source"]: e for e in json.load(f)["images"]}
        for image in self.release:
            repo, tag = entries[image.source]["target"].split("@")[0].split("/", 1)[1].rsplit(":", 1)
            self.assertEqual(entries[image.source]["digest"], image.artifact.digest)
            self.assertEqual(target.manifest_digest(repo, tag), image.artifact.digest)
            if image is last:
                self.assertNotIn((repo, tag), tagged, "the image whose blob was held was tagged")

    def tags_of_whole_images(self, target):
        """Every (repository, tag) at `target`, after checking that each names a whole image: its
        manifest, its children and every blob are there."""
        client = target.client()
        catalog = client.request("GET", "/v2/_catalog?n=1000")
        self.assertEqual(catalog.status, 200)
        tagged = set()
        for repo in catalog.json().get("repositories") or []:
            for tag in client.tags(repo) or []:
                self.assert_whole(client, repo, tag)
                tagged.add((repo, tag))
        return tagged

    def assert_whole(self, client, repo, ref):
        r = client.get_manifest(repo, ref)
        self.assertEqual(r.status, 200, f"{repo}@{ref}: a manifest that is named is missing")
        doc = json.loads(r.body)
        for child in doc.get("manifests", []):
            self.assert_whole(client, repo, child["digest"])
        for blob in [doc["config"], *doc["layers"]] if "config" in doc else []:
            self.assertTrue(client.has_blob(repo, blob["digest"]), f"{repo}:{ref} names {blob['digest']}, not there")

    def test_ctrl_c_during_mirror_tags_no_partial_image_and_a_rerun_finishes(self):
        self.interrupt_mirror(signal.SIGINT)

    def test_kill_during_mirror_tags_no_partial_image_and_a_rerun_finishes(self):
        self.interrupt_mirror(signal.SIGTERM)


class _Host:
    """What release.source_mirror_flags needs of a registry: its host."""

    def __init__(self, host):
        self.host = host


if __name__ == "__main__":
    unittest.main()
