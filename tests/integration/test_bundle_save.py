"""Integration tests for `ferry bundle save`: a ten-image Knative-like release read through
--source-mirror from a real registry into one archive, which skopeo reads back (oci-archive:) and
pushes digest-exact; byte-identical re-runs; each blob once; metadata before layers; .zst and split
parts; a lying source leaves nothing behind; a 256 MiB layer in constant memory."""

import hashlib
import io
import json
import os
import tarfile
import unittest

from ferrytest import images, release
from ferrytest.fake_registry import FakeRegistry
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run

MIB = 1 << 20
RSS_LIMIT_KB = 64 * 1000  # 64 MB


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(MIB), b""):
            h.update(chunk)
    return h.hexdigest()


def tar_members(path):
    """[(name, bytes)] of every entry, in archive order; .zst is decompressed with the zstd tool."""
    if path.endswith(".zst"):
        data = run(["zstd", "-dc", path], text=False).stdout
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r|")
    else:
        tar = tarfile.open(path, mode="r|")
    out = []
    with tar:
        for m in tar:
            out.append((m, tar.extractfile(m).read()))
    return out


class BundleTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.upstream = self.use(Registry())
        self.release = release.knative_like_release(self.upstream)
        self.images_file = self.ferry.path("images.txt")
        with open(self.images_file, "w") as f:
            f.write("\n".join(image.source for image in self.release) + "\n")
        self.out_dir = self.tmp.sub("out", mkdir=True)

    def save(self, name, *args, measure=False):
        path = os.path.join(self.out_dir, name)
        r = self.ferry.run("bundle", "save", "-o", path, *args, *release.source_mirror_flags(self.upstream),
                           measure=measure)
        return path, r

    def save_images(self, name, *args):
        path, r = self.save(name, "--images", self.images_file, *args)
        self.assertEqual(r.code, 0, str(r))
        return path, r


class TestBundleContents(BundleTestCase):
    def test_an_oci_layout_with_bundle_json_every_image_and_each_blob_once(self):
        path, r = self.save_images("knative.tar", "--output", "json")
        report = r.json()
        self.assertEqual(report["sha256"], sha256_file(path))
        members = tar_members(path)
        names = [m.name for m, _ in members]
        self.assertEqual(len(names), len(set(names)), "an entry appears twice")
        content = {m.name: data for m, data in members}
        self.assertEqual(json.loads(content["oci-layout"]), {"imageLayoutVersion": "1.0.0"})
        index = json.loads(content["index.json"])
        by_ref = {d["annotations"]["org.opencontainers.image.ref.name"]: d for d in index["manifests"]}
        self.assertEqual(sorted(by_ref), sorted(i.source for i in self.release))
        bundle = json.loads(content["ferry/bundle.json"])
        self.assertEqual(bundle["formatVersion"], 1)
        self.assertEqual([i["source"] for i in bundle["images"]], sorted(i.source for i in self.release))
        expected_blobs = {}
        for image in self.release:
            d = by_ref[image.source]
            self.assertEqual(d["digest"], image.artifact.digest)
            self.assertEqual(d["size"], len(image.artifact.raw))
            self.assertEqual(d["mediaType"], image.artifact.media_type)
            self.assertEqual(d["annotations"]["io.containerd.image.name"], image.source)
            expected_blobs[image.artifact.digest] = image.artifact.raw
            for child in getattr(image.artifact, "children", []):
                expected_blobs[child.digest] = child.raw
            for b in image.artifact.blobs():
                expected_blobs[b.digest] = b.data
        queue = next(i for i in bundle["images"] if "serving/cmd/queue" in i["source"])
        self.assertEqual(queue["platforms"], ["linux/amd64", "linux/arm64/v8"])
        # every blob once, byte for byte; the shared base layer too
        blob_names = [n for n in names if n.startswith("blobs/sha256/")]
        self.assertEqual(sorted(blob_names), sorted("blobs/sha256/" + d[7:] for d in expected_blobs))
        for digest, data in expected_blobs.items():
            self.assertEqual(content["blobs/sha256/" + digest[7:]], data, digest)
        base = self.release[0].artifact.layers[0]
        self.assertEqual(names.count("blobs/sha256/" + base.digest[7:]), 1)
        self.assertEqual(report["blobs"], len(expected_blobs))
        for m, _ in members:
            self.assertEqual((m.mtime, m.uid, m.gid, m.uname, m.gname, m.mode), (0, 0, 0, "", "", 0o644), m.name)

    def test_metadata_entries_come_before_the_layers(self):
        path, _ = self.save_images("knative.tar")
        names = [m.name for m, _ in tar_members(path)]
        configs = set()
        for image in self.release:
            for single in getattr(image.artifact, "children", [image.artifact]):
                configs.add(single.config.digest[7:])
        layers = {b.digest[7:] for image in self.release for b in image.artifact.blobs()} - configs
        self.assertEqual(names[:3], ["oci-layout", "index.json", "ferry/bundle.json"])
        blob_hex = [n[len("blobs/sha256/"):] for n in names[3:]]
        kinds = ["layer" if h in layers else "meta" for h in blob_hex]
        first_layer = kinds.index("layer")
        self.assertEqual(set(kinds[first_layer:]), {"layer"}, "a manifest or config comes after a layer")
        self.assertEqual(blob_hex[:first_layer], sorted(blob_hex[:first_layer]))
        self.assertEqual(blob_hex[first_layer:], sorted(blob_hex[first_layer:]))

    def test_release_files_are_carried_with_their_sha256(self):
        manifest = self.ferry.path("release.yaml")
        with open(manifest, "w") as f:
            for i, image in enumerate(self.release[:3]):
                f.write(f"---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d{i}\nspec:\n  template:\n"
                        f"    spec:\n      containers:\n      - name: c\n        image: {image.source}\n")
        path, r = self.save("release.tar", "-f", manifest, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        content = {m.name: data for m, data in tar_members(path)}
        with open(manifest, "rb") as f:
            original = f.read()
        self.assertEqual(content["ferry/manifests/release.yaml"], original)
        bundle = json.loads(content["ferry/bundle.json"])
        self.assertEqual(bundle["files"], [{"name": "release.yaml", "path": "ferry/manifests/release.yaml",
                                            "sha256": hashlib.sha256(original).hexdigest(),
                                            "size": len(original)}])
        self.assertEqual(len(bundle["images"]), 3)
        names = list(content)
        self.assertLess(names.index("ferry/manifests/release.yaml"),
                        min(i for i, n in enumerate(names) if n.startswith("blobs/")))

    def test_a_profile_records_its_name_definition_and_files_in_install_order(self):
        files = self.tmp.sub("files", mkdir=True)
        bodies = {"b-crds.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                  "a-core.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
                                 f"  - name: c\n    image: {self.release[0].source}\n"}
        for name, body in bodies.items():
            with open(os.path.join(files, name), "w") as f:
                f.write(body)
        crds_sum = hashlib.sha256(bodies["b-crds.yaml"].encode()).hexdigest()
        profile = self.ferry.path("test-profile.yaml")
        with open(profile, "w") as f:
            f.write("name: test-profile\nnetworking:\n  layer: kourier\nserviceApiVersion: serving.knative.dev/v1\n"
                    "files:\n"
                    f"  - name: b-crds.yaml\n    url: https://example.com/b.yaml\n    sha256: {crds_sum}\n"
                    "  - name: a-core.yaml\n    url: https://example.com/a.yaml\n    sha256: \"\"\n")
        path, r = self.save("p.tar", "--profile", profile, "--manifests-dir", files)
        self.assertEqual(r.code, 0, str(r))
        content = {m.name: data for m, data in tar_members(path)}
        bundle = json.loads(content["ferry/bundle.json"])
        self.assertEqual(bundle["profile"], "test-profile")
        self.assertEqual([f["name"] for f in bundle["files"]], ["b-crds.yaml", "a-core.yaml"])  # install order
        core_sum = hashlib.sha256(bodies["a-core.yaml"].encode()).hexdigest()
        self.assertEqual([f["sha256"] for f in bundle["files"]], [crds_sum, core_sum])
        self.assertEqual([f["sha256"] for f in bundle["profileDefinition"]["files"]], [crds_sum, core_sum])
        for name, body in bodies.items():
            self.assertEqual(content["ferry/manifests/" + name], body.encode())
        self.assertEqual([i["source"] for i in bundle["images"]], [self.release[0].source])


class TestBundlePlatforms(BundleTestCase):
    def test_platform_keeps_only_those_platforms_and_records_the_rewritten_index(self):
        path, r = self.save_images("amd64.tar", "--platform", "linux/amd64", "--output", "json")
        content = {m.name: data for m, data in tar_members(path)}
        bundle = json.loads(content["ferry/bundle.json"])
        self.assertEqual(bundle["platformFilter"], ["linux/amd64"])
        by_source = {i["source"]: i for i in bundle["images"]}
        indexes = [i for i in self.release if hasattr(i.artifact, "children")]
        self.assertEqual(len(indexes), 2)
        for image in indexes:
            entry = by_source[image.source]
            # As `ferry mirror --platform`: a new index listing only amd64, so a new digest; the
            # source's is kept beside it.
            self.assertEqual(entry["platforms"], ["linux/amd64"])
            self.assertEqual(entry["sourceDigest"], image.artifact.digest)
            self.assertNotEqual(entry["digest"], image.artifact.digest)
            index = json.loads(content["blobs/sha256/" + entry["digest"][7:]])
            self.assertEqual([m["platform"]["architecture"] for m in index["manifests"]], ["amd64"])
            amd64, arm64 = image.artifact.children
            self.assertIn("blobs/sha256/" + amd64.digest[7:], content)
            self.assertNotIn("blobs/sha256/" + arm64.digest[7:], content)
            for blob in arm64.layers:
                if blob.digest not in {b.digest for b in amd64.layers}:
                    self.assertNotIn("blobs/sha256/" + blob.digest[7:], content)
        for image in self.release:
            if not hasattr(image.artifact, "children"):
                self.assertEqual(by_source[image.source]["digest"], image.artifact.digest)
                self.assertNotIn("sourceDigest", by_source[image.source])

        inspect = self.ferry.run("bundle", "inspect", path)
        self.assertEqual(inspect.code, 0, str(inspect))
        self.assertIn("platforms: only linux/amd64", inspect.out)
        self.assertIn("filtered from " + indexes[0].artifact.digest, inspect.out)
        self.assertEqual(self.ferry.run("bundle", "verify", path).code, 0)

        # Loaded, the lock names the rewritten index, which the target then serves.
        target = self.use(Registry())
        lock = self.ferry.path("images.lock")
        r = self.ferry.run("bundle", "load", path, "--to", f"{target.host}/m", "--naming", "flatten", "--lock", lock)
        self.assertEqual(r.code, 0, str(r))
        with open(lock) as f:
            entries = {e["source"]: e for e in json.load(f)["images"]}
        for image in indexes:
            entry = entries[image.source]
            self.assertEqual(entry["digest"], by_source[image.source]["digest"])
            self.assertEqual(entry["platforms"], ["linux/amd64"])
            repo, tag = entry["target"].split("@")[0].split("/", 1)[1].rsplit(":", 1)
            self.assertEqual(target.manifest_digest(repo, tag), entry["digest"])

    def test_a_platform_no_index_offers_is_an_error_naming_what_it_has(self):
        path, r = self.save("none.tar", "--images", self.images_file, "--platform", "windows/amd64")
        self.assertEqual(r.code, 1, str(r))
        self.assertIn("linux/arm64", r.err)
        self.assertFalse(os.path.exists(path))


class TestBundleSamples(BundleTestCase):
    ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    SAMPLE_IMAGES = {"helloworld": "gcr.io/knative-samples/helloworld-go",
                     "autoscale": "gcr.io/knative-samples/autoscale-go:0.1"}

    def profile(self, api_version, samples="[helloworld, autoscale]"):
        files = self.tmp.sub("files-" + api_version.rsplit("/", 1)[1], mkdir=True)
        body = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
                f"  - name: c\n    image: {self.release[0].source}\n")
        with open(os.path.join(files, "core.yaml"), "w") as f:
            f.write(body)
        profile = os.path.join(files, "..", f"profile-{api_version.rsplit('/', 1)[1]}.yaml")
        with open(profile, "w") as f:
            f.write(f"name: samples-test\nnetworking:\n  layer: kourier\nserviceApiVersion: {api_version}\n"
                    f"samples: {samples}\nfiles:\n  - name: core.yaml\n    url: https://example.com/core.yaml\n"
                    f"    sha256: {hashlib.sha256(body.encode()).hexdigest()}\n")
        return profile, files

    def test_a_profile_carries_its_samples_in_its_service_api_version(self):
        for api_version, folder in (("serving.knative.dev/v1alpha1", "samples/v1alpha1"),
                                    ("serving.knative.dev/v1", "samples")):
            with self.subTest(api_version):
                profile, files = self.profile(api_version)
                name = api_version.rsplit("/", 1)[1] + ".tar"
                path, r = self.save(name, "--profile", profile, "--manifests-dir", files)
                self.assertEqual(r.code, 0, str(r))
                content = {m.name: data for m, data in tar_members(path)}
                bundle = json.loads(content["ferry/bundle.json"])
                samples = [f for f in bundle["files"] if f["path"].startswith("ferry/samples/")]
                self.assertEqual([f["name"] for f in samples], ["helloworld.yaml", "autoscale.yaml"])
                extracted = self.tmp.sub("extracted-" + name, mkdir=True)
                for f in samples:
                    with open(os.path.join(self.ROOT, folder, f["name"]), "rb") as src:
                        original = src.read()
                    self.assertEqual(content[f["path"]], original, f["path"])  # byte-identical
                    self.assertEqual(f["sha256"], hashlib.sha256(original).hexdigest())
                    self.assertIn(f"apiVersion: {api_version}\n".encode(), original)
                    with open(os.path.join(extracted, f["name"]), "wb") as out:
                        out.write(content[f["path"]])
                # Only the Services: their images are not in the bundle.
                self.assertEqual([i["source"] for i in bundle["images"]], [self.release[0].source])
                for sample, image in self.SAMPLE_IMAGES.items():
                    found = self.ferry.run("images", "-f", os.path.join(extracted, sample + ".yaml"),
                                           "--output", "list")
                    self.assertEqual(found.code, 0, str(found))
                    self.assertEqual(found.out.split(), [image])

                inspect = self.ferry.run("bundle", "inspect", path)
                self.assertIn("samples: 2 (the Services only: their images are not in the bundle)", inspect.out)
                self.assertIn("ferry/samples/helloworld.yaml", inspect.out)
                self.assertEqual(self.ferry.run("bundle", "verify", path).code, 0)

    def test_a_sample_ferry_does_not_have_is_named(self):
        profile, files = self.profile("serving.knative.dev/v1", samples="[helloworld, grpc-ping]")
        path, r = self.save("bad.tar", "--profile", profile, "--manifests-dir", files)
        self.assertEqual(r.code, 1, str(r))
        self.assertIn('sample "grpc-ping"', r.err)
        self.assertIn("helloworld", r.err)
        self.assertFalse(os.path.exists(path))


class TestBundleInterop(BundleTestCase):
    def test_skopeo_reads_the_archive_by_the_source_reference_and_pushes_it_digest_exact(self):
        path, _ = self.save_images("knative.tar")
        target = self.use(Registry())
        # skopeo 1.9 reads only OCI media types from an OCI layout; these are the OCI images.
        for image in self.release:
            if not image.artifact.media_type.startswith("application/vnd.oci."):
                continue
            p = run(["skopeo", "copy", "--all", "--preserve-digests", "-q", "--dest-tls-verify=false",
                     f"oci-archive:{path}:{image.source}", f"docker://{target.host}/copied/{image.tag}:x"],
                    check=False)
            self.assertEqual(p.returncode, 0, f"{image.source}: {p.stderr}")
            self.assertEqual(target.manifest_digest(f"copied/{image.tag}", "x"), image.artifact.digest)


class TestBundleDeterminism(BundleTestCase):
    def test_the_same_command_twice_gives_a_byte_identical_archive_and_prints_its_sha256(self):
        for name in ("knative.tar", "knative.tar.zst"):
            path, first = self.save_images(name)
            digest = sha256_file(path)
            self.assertIn(f"{digest}  {path}", first.out)
            os.rename(path, path + ".first")
            _, second = self.save_images(name)
            self.assertIn(f"{digest}  {path}", second.out)
            self.assertEqual(sha256_file(path + ".first"), sha256_file(path))

    def test_zst_decompresses_to_the_same_entries_as_the_plain_tar(self):
        plain, _ = self.save_images("k.tar")
        zst, _ = self.save_images("k.tar.zst", "--zstd-threads", "3")
        with open(zst, "rb") as f:
            self.assertEqual(f.read(4), b"\x28\xb5\x2f\xfd")  # a zstd frame
        decompressed = run(["zstd", "-dc", zst], text=False).stdout
        with open(plain, "rb") as f:
            self.assertEqual(decompressed, f.read())

    def test_split_parts_are_exactly_the_split_size_and_concatenate_to_the_archive(self):
        whole, _ = self.save_images("k.tar.zst")
        split, r = self.save_images("s.tar.zst", "--split-size", "20K", "--output", "json")
        report = r.json()
        parts = sorted(n for n in os.listdir(self.out_dir) if n.startswith("s.tar.zst."))
        self.assertGreater(len(parts), 2)
        self.assertEqual(parts, [f"s.tar.zst.{i:03d}" for i in range(len(parts))])
        self.assertFalse(os.path.exists(split))
        joined = b""
        for i, name in enumerate(parts):
            with open(os.path.join(self.out_dir, name), "rb") as f:
                data = f.read()
            if i + 1 < len(parts):
                self.assertEqual(len(data), 20000)
            self.assertEqual(report["parts"][i]["sha256"], hashlib.sha256(data).hexdigest())
            joined += data
        with open(whole, "rb") as f:
            self.assertEqual(joined, f.read())
        self.assertEqual(report["sha256"], hashlib.sha256(joined).hexdigest())


class TestBundleFailures(ServerTestCase):
    def test_a_source_blob_that_lies_about_its_digest_leaves_no_archive(self):
        ferry = self.use(Ferry())
        fake = self.use(FakeRegistry())
        good, bad_image = images.make_image("good"), images.make_image("corrupt", layers=2)
        fake.add_image("src/good", "v1", good)
        fake.add_image("src/app", "v1", bad_image)
        bad = bad_image.layers[1]
        fake.add_blob(bad.digest, bad.data[:-1] + bytes([bad.data[-1] ^ 0xFF]))  # same size, other bytes
        images_file = ferry.path("images.txt")
        with open(images_file, "w") as f:
            f.write(f"{fake.host}/src/good:v1\n{fake.host}/src/app:v1\n")
        out_dir = self.tmp.sub("out", mkdir=True)
        for name, extra in (("b.tar", []), ("b.tar.zst", ["--split-size", "1K"])):
            r = ferry.run("bundle", "save", "--images", images_file, "-o", os.path.join(out_dir, name), *extra)
            self.assertEqual(r.code, 1, str(r))
            self.assertIn(bad.digest, r.err)
            self.assertIn("src/app", r.err)
            self.assertEqual(os.listdir(out_dir), [], "something was left behind")

    def test_an_image_that_cannot_be_read_is_named_before_anything_is_written(self):
        ferry = self.use(Ferry())
        upstream = self.use(Registry())
        images.push(upstream, "src/app", "v1", images.make_image("present"))
        images_file = ferry.path("images.txt")
        with open(images_file, "w") as f:
            f.write(f"{upstream.host}/src/app:v1\n{upstream.host}/src/missing:v1\n")
        out = self.tmp.sub("b.tar")
        r = ferry.run("bundle", "save", "--images", images_file, "-o", out)
        self.assertEqual(r.code, 1, str(r))
        self.assertIn("src/missing:v1", r.err)
        self.assertEqual(upstream.requests_matching("GET", "/blobs/"), 0)
        self.assertFalse(os.path.exists(out))


class TestBundleMemory(ServerTestCase):
    def test_a_256_mib_layer_is_saved_in_constant_memory(self):
        ferry = self.use(Ferry())
        src = self.use(Registry())
        size = 256 * MIB
        image = images.push_large_image(src, "big/app", "v1", size, seed="bundle-memory")
        layer = json.loads(image.raw)["layers"][0]
        images_file = ferry.path("images.txt")
        with open(images_file, "w") as f:
            f.write(f"{src.host}/big/app:v1\n")
        for name in ("big.tar", "big.tar.zst"):
            out = self.tmp.sub(name)
            r = ferry.run("bundle", "save", "--images", images_file, "-o", out, "--output", "json", measure=True)
            self.assertEqual(r.code, 0, str(r))
            self.assertEqual(r.json()["blobBytes"], size + len(image.raw) + len(image.config.data))
            self.assertIsNotNone(r.max_rss_kb, "could not read the peak RSS")
            self.assertLess(r.max_rss_kb, RSS_LIMIT_KB, f"ferry peaked at {r.max_rss_kb} kB saving {name}")
            if name == "big.tar":
                self.assertGreater(os.path.getsize(out), size)
                listing = run(["tar", "tvf", out]).stdout
                self.assertIn(layer["digest"][7:], listing)
            os.remove(out)


if __name__ == "__main__":
    unittest.main()
