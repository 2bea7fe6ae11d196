"""Integration tests for `ferry bundle load | inspect | verify`: bundles written in Python following
mirror/bundle_format.h (tests/lib/ferrytest/bundle.py) and OCI archives written by skopeo, loaded
into a real registry; containerd pulls the result; damaged archives are refused, tagging nothing."""

import json
import os
import tarfile
import unittest

from ferrytest import bundle, images
from ferrytest.containerd import Containerd
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run

QUEUE = "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0"


def small_release():
    base = images.make_layer("bundle-base", 4096)
    return [
        (QUEUE, images.make_index("queue")),
        ("gcr.io/knative-releases/knative.dev/serving/cmd/controller:v1.23.0", images.make_image("controller", base=base)),
        ("gcr.io/knative-releases/knative.dev/serving/cmd/webhook:v1.23.0", images.make_image("webhook", base=base)),
        ("docker.io/istio/pilot:1.1.3", images.make_image("pilot", docker=True)),
    ]


def blob_count(release):
    seen = set()
    for _, artifact in release:
        seen.update(b.digest for b in artifact.blobs())
    return len(seen)


class BundleTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.target = self.use(Registry())
        self.release = small_release()
        self.files = [("serving-core.yaml", b"apiVersion: v1\nkind: Namespace\n")]
        self.lock = self.ferry.path("images.lock")

    def write(self, name, entries=None, compress=None, **kwargs):
        path = self.ferry.path(name)
        entries = entries or bundle.bundle_entries(self.release, files=self.files, profile="knative-test", **kwargs)
        return bundle.write_tar(path, entries, compress)

    def load(self, path, *args):
        return self.ferry.run("bundle", "load", path, "--to", f"{self.target.host}/mirror", "--naming", "flatten",
                              "--lock", self.lock, *args)

    def uploads(self):
        """Blob uploads started at the target (mounts excluded)."""
        return sum(1 for m, u, s in self.target.requests()
                   if m == "POST" and "/blobs/uploads/" in u and "mount=" not in u)

    def manifest_puts(self):
        return self.target.requests_matching("PUT", r"/manifests/")

    def assert_loaded(self):
        with open(self.lock) as f:
            lock = json.load(f)
        by_source = {e["source"]: e for e in lock["images"]}
        self.assertEqual(len(by_source), len(self.release))
        for source, artifact in self.release:
            entry = by_source[source]
            self.assertEqual(entry["digest"], artifact.digest, source)
            repo, tag = entry["target"].split("@")[0].split("/", 1)[1].rsplit(":", 1)
            self.assertEqual(self.target.manifest_digest(repo, tag), artifact.digest, source)
            for child in getattr(artifact, "children", []):
                self.assertEqual(self.target.manifest_digest(repo, child.digest), child.digest)
        return by_source


class TestBundleLoad(BundleTestCase):
    def test_load_is_digest_exact_writes_the_lock_and_a_rerun_uploads_nothing(self):
        r = self.load(self.write("knative.tar"))
        self.assertEqual(r.code, 0, str(r))
        by_source = self.assert_loaded()
        self.assertEqual(by_source[QUEUE]["platforms"], ["linux/amd64", "linux/arm64/v8"])
        self.assertIn("1 pass over", r.out)  # ferry's entry order: one pass
        self.assertEqual(self.uploads(), blob_count(self.release))  # the shared base layer once
        self.assertGreater(self.target.requests_matching("POST", r"mount="), 0)

        uploads, puts = self.uploads(), self.manifest_puts()
        again = self.load(self.ferry.path("knative.tar"), "--output", "json")
        self.assertEqual(again.code, 0, str(again))
        summary = again.json()
        self.assertEqual(summary["blobs"]["uploaded"], 0)
        self.assertEqual({i["status"] for i in summary["images"]}, {"present"})
        self.assertEqual((self.uploads(), self.manifest_puts()), (uploads, puts))

    def test_a_zstd_bundle_split_into_parts_loads_from_its_first_part(self):
        path = self.write("knative.tar.zst", compress="zst")
        parts = bundle.split(path, 8192)
        self.assertGreater(len(parts), 2)
        r = self.load(parts[0])
        self.assertEqual(r.code, 0, str(r))
        self.assert_loaded()

    def test_an_interrupted_load_is_finished_by_running_it_again(self):
        path = self.write("knative.tar")
        last_layer = bundle.bundle_entries(self.release)[-1].name
        cut = bundle.truncate(path, bundle.layer_offset(path, "sha256:" + last_layer[-64:]) + 100,
                              out=self.ferry.path("cut.tar"))
        r = self.load(cut)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn(f'truncated archive: entry "{last_layer}"', r.err)
        self.assertIn("header at byte", r.err)
        self.assertEqual(self.manifest_puts(), 0)  # nothing tagged
        first = self.uploads()
        self.assertGreater(first, 0)
        r = self.load(path)
        self.assertEqual(r.code, 0, str(r))
        self.assert_loaded()
        self.assertLess(self.uploads() - first, blob_count(self.release))  # what landed stayed

    def test_containerd_pulls_what_bundle_load_pushed(self):
        r = self.load(self.write("knative.tar"))
        self.assertEqual(r.code, 0, str(r))
        target = self.assert_loaded()[QUEUE]["target"].split("@")[0]
        containerd = self.use(Containerd())
        code, out = containerd.pull(target, plain_http=True, platform="linux/amd64")
        self.assertEqual(code, 0, out)


class TestLoadRequests(BundleTestCase):
    def test_each_blob_is_checked_once_per_repository_and_uploaded_in_two_requests(self):
        r = self.load(self.write("knative.tar"), "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assert_loaded()
        requests = self.target.requests()
        blobs = blob_count(self.release)
        # Monolithic uploads: POST opens the upload, one PUT carries the bytes and the digest.
        self.assertEqual(self.uploads(), blobs)
        self.assertEqual(sum(1 for m, u, _ in requests if m == "PUT" and "/blobs/uploads/" in u), blobs)
        self.assertEqual(sum(1 for m, _, _ in requests if m == "PATCH"), 0)
        # One HEAD per blob and repository that needs it, none repeated (every image its own repository).
        heads = [u for m, u, _ in requests if m == "HEAD" and "/blobs/" in u]
        pairs = sum(len({b.digest for b in artifact.blobs()}) for _, artifact in self.release)
        self.assertEqual(len(heads), pairs)
        self.assertEqual(len(set(heads)), len(heads))
        summary = r.json()
        self.assertEqual(summary["blobs"]["uploaded"] + summary["blobs"]["mounted"], pairs)


class TestForeignArchives(BundleTestCase):
    def test_skopeo_oci_archive_and_layout_directory_load(self):
        source = self.use(Registry())
        big = images.make_image("big", layers=1, layer_size=5 << 20)  # over 4 MiB: streamed in a second pass
        images.push(source, "src/big", "v1", big)
        archive = self.ferry.path("skopeo.tar")
        layout = self.ferry.path("layout")
        for dest in (f"oci-archive:{archive}:gcr.io/example/big:v1", f"oci:{layout}:gcr.io/example/big:v1"):
            run(["skopeo", "copy", "--all", "--preserve-digests", "-q", "--src-tls-verify=false",
                 f"docker://{source.host}/src/big:v1", dest])
        with tarfile.open(archive) as tar:
            names = [m.name for m in tar]
        self.assertLess(max(i for i, n in enumerate(names) if n.startswith("blobs/sha256/")),
                        names.index("index.json"))  # blobs before index.json
        self.release = [("gcr.io/example/big:v1", big)]

        r = self.load(archive)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("2 passes", r.out)
        self.assert_loaded()
        r = self.load(layout, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(r.json()["blobs"]["uploaded"], 0)

        r = self.ferry.run("bundle", "inspect", archive, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assertFalse(r.json()["ferryBundle"])
        self.assertEqual(r.json()["images"][0]["digest"], big.digest)
        self.assertEqual(self.ferry.run("bundle", "verify", layout).code, 0)


class TestInspectAndVerify(BundleTestCase):
    def test_inspect_lists_profile_images_platforms_sizes_and_files(self):
        r = self.ferry.run("bundle", "inspect", self.write("knative.tar"), "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        doc = r.json()
        self.assertEqual(doc["profile"], "knative-test")
        self.assertTrue(doc["ferryBundle"])
        by_source = {i["source"]: i for i in doc["images"]}
        self.assertEqual(set(by_source), {s for s, _ in self.release})
        self.assertEqual(by_source[QUEUE]["platforms"], ["linux/amd64", "linux/arm64/v8"])
        self.assertTrue(all(i["size"] > 0 for i in doc["images"]))
        self.assertEqual([f["path"] for f in doc["files"]], ["ferry/manifests/serving-core.yaml"])
        text = self.ferry.run("bundle", "inspect", self.ferry.path("knative.tar"))
        self.assertIn("profile: knative-test", text.out)

    def test_verify_rehashes_everything_and_names_each_mismatch(self):
        r = self.ferry.run("bundle", "verify", self.write("knative.tar.zst", compress="zst"))
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("intact", r.out)
        entries = bundle.bundle_entries(self.release, files=self.files, profile="knative-test")
        layer = self.release[1][1].layers[-1]
        bundle.corrupt_blob(entries, layer.digest)
        for e in entries:
            if e.name == "ferry/manifests/serving-core.yaml":
                e.data = b"tampered\n"
        r = self.ferry.run("bundle", "verify", self.write("bad.tar", entries), "--output", "json")
        self.assertEqual(r.code, 1, str(r))
        paths = {p["path"] for p in r.json()["problems"]}
        self.assertEqual(paths, {f"blobs/sha256/{layer.digest[7:]}", "ferry/manifests/serving-core.yaml"})


class TestBundleLoadMemory(BundleTestCase):
    def test_a_160_mib_layer_is_loaded_in_constant_memory(self):
        source = self.use(Registry())
        size = 160 << 20
        image = images.push_large_image(source, "big/app", "v1", size, seed="bundle-load-memory")
        listing = self.ferry.path("images.txt")
        with open(listing, "w") as f:
            f.write(f"{source.host}/big/app:v1\n")
        path = self.ferry.path("big.tar")
        r = self.ferry.run("bundle", "save", "--images", listing, "-o", path)
        self.assertEqual(r.code, 0, str(r))
        r = self.ferry.run("bundle", "load", path, "--to", f"{self.target.host}/mirror", "--naming", "flatten",
                           "--lock", self.lock, "--output", "json", measure=True)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(r.json()["bytes"]["uploaded"], size + len(image.config.data))
        self.assertIsNotNone(r.max_rss_kb, "could not read the peak RSS")
        self.assertLess(r.max_rss_kb, 64 * 1000, f"ferry peaked at {r.max_rss_kb} kB loading a {size >> 20} MiB layer")
        with open(self.lock) as f:
            entry = json.load(f)["images"][0]
        self.assertEqual(entry["digest"], image.digest)
        repo, tag = entry["target"].split("@")[0].split("/", 1)[1].rsplit(":", 1)
        self.assertEqual(self.target.manifest_digest(repo, tag), image.digest)


class TestRefusedArchives(BundleTestCase):
    def test_damaged_or_unsafe_archives_are_refused_and_nothing_is_tagged(self):
        def with_entry(entry):
            entries = bundle.bundle_entries(self.release)
            entries.insert(3, entry)
            return self.write("bad.tar", entries)

        def corrupt():
            entries = bundle.bundle_entries(self.release)
            return self.write("bad.tar", bundle.corrupt_blob(entries, self.release[1][1].layers[-1].digest))

        def missing_part():
            parts = bundle.split(self.write("parts.tar"), 4096)
            os.remove(parts[1])
            return parts[0]

        bad_json = json.dumps({"formatVersion": 1, "images": [{"source": QUEUE}]})
        cases = {
            "truncated": (lambda: bundle.truncate(self.write("t.tar"), 6000), "truncated"),
            "corrupt blob": (corrupt, "hash to"),
            "absolute path": (lambda: with_entry(bundle.Entry("/etc/evil", b"x")), "absolute path"),
            "dot-dot": (lambda: with_entry(bundle.Entry("blobs/../../evil", b"x")), "'..'"),
            "symlink": (lambda: with_entry(bundle.Entry("blobs/l", type=tarfile.SYMTYPE, linkname="/etc")),
                        "symbolic link"),
            "hard link": (lambda: with_entry(bundle.Entry("blobs/h", type=tarfile.LNKTYPE, linkname="oci-layout")),
                          "hard link"),
            "device": (lambda: with_entry(bundle.Entry("blobs/d", type=tarfile.CHRTYPE)), "device file"),
            "invalid bundle.json": (lambda: self.write("bad.tar", bundle.bundle_entries(self.release, bundle_json=bad_json)),
                                    "ferry/bundle.json"),
            "future format": (lambda: self.write("bad.tar", bundle.bundle_entries(self.release, format_version=99)),
                              "newer ferry"),
            "missing part": (missing_part, "parts.tar.001 is missing"),
        }
        for name, (make, message) in cases.items():
            with self.subTest(name):
                r = self.load(make())
                self.assertEqual(r.code, 1, str(r))
                self.assertIn(message, r.err)
                self.assertEqual(self.manifest_puts(), 0, name)
        corrupt_layer = self.release[1][1].layers[-1].digest[7:]
        self.assertFalse(any(m == "PUT" and s in (201, 204) and corrupt_layer in u
                             for m, u, s in self.target.requests()), "the corrupt blob was committed")


if __name__ == "__main__":
    unittest.main()
