"""`ferry copy SRC DST` with skopeo's transport names (docker://, oci:, oci-archive:, docker-archive:),
tested against skopeo reading what ferry writes and ferry reading what skopeo writes, on the same
layouts and archives. Every pair of a source (registry, OCI layout, oci-archive, docker-archive,
ferry bundle) and a sink (registry, OCI layout, oci-archive) is run here; ferry bundles as a sink
are `bundle save` (test_bundle_save.py), the built-in samples as a source `samples push`
(test_samples.py), and the pairs that run in process also in tests/mirror/copy_engine_test.cc.

skopeo 1.9 reads only OCI media types from an OCI layout, so the images skopeo reads are OCI ones."""

import io
import json
import os
import tarfile
import unittest

from ferrytest import images, skopeo
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import run


class TransportTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.src, self.dst = self.use(Registry()), self.use(Registry())
        self.image = images.make_index("transports")  # OCI, two platforms sharing a base layer
        images.push(self.src, "src/app", "v1", self.image)

    def copy(self, source, destination, *args):
        r = self.ferry.run("copy", "--output", "json", *args, source, destination)
        self.assertEqual(r.code, 0, str(r))
        return json.loads(r.out)

    def skopeo(self, *args):
        r = run(["skopeo", "--insecure-policy", *args], check=False)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def path(self, name):
        return self.tmp.sub(name)

    def assert_pushed(self, repo, tag, artifact=None):
        artifact = artifact or self.image
        self.assertEqual(self.dst.manifest_digest(repo, tag), artifact.digest)
        for blob in artifact.blobs():
            self.assertTrue(self.dst.has_blob(repo, blob.digest))

    def skopeo_to_registry(self, source, repo):
        """skopeo copies SOURCE into the target registry, keeping digests; returns the digest there."""
        self.skopeo("copy", "--all", "--preserve-digests", "-q", "--dest-tls-verify=false", source,
                    f"docker://{self.dst.host}/{repo}:v1")
        return self.dst.manifest_digest(repo, "v1")


class TestOciLayouts(TransportTestCase):
    def test_skopeo_reads_the_layout_ferry_wrote_and_the_digest_stays(self):
        layout = self.path("layout")
        doc = self.copy(f"docker://{self.src.host}/src/app:v1", f"oci:{layout}:app-v1")
        self.assertEqual(doc["digest"], self.image.digest)
        self.assertTrue(os.path.exists(os.path.join(layout, "oci-layout")))
        self.assertEqual(self.skopeo_to_registry(f"oci:{layout}:app-v1", "from/ferry-layout"), self.image.digest)

    def test_ferry_reads_the_layout_skopeo_wrote(self):
        layout = self.path("skopeo-layout")
        self.skopeo("copy", "--all", "--preserve-digests", "-q", "--src-tls-verify=false",
                    f"docker://{self.src.host}/src/app:v1", f"oci:{layout}:t")
        doc = self.copy(f"oci:{layout}:t", f"docker://{self.dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], self.image.digest)
        self.assert_pushed("dst/app", "v1")

    def test_a_layout_keeps_the_other_names_it_had(self):
        layout = self.path("shared")
        other = images.make_image("other")
        images.push(self.src, "src/other", "v2", other)
        self.copy(f"{self.src.host}/src/app:v1", f"oci:{layout}:app")
        self.copy(f"{self.src.host}/src/other:v2", f"oci:{layout}:other")
        self.copy(f"oci:{layout}:app", f"oci:{layout}:app")  # copying onto itself changes nothing
        with open(os.path.join(layout, "index.json")) as f:
            names = [m["annotations"]["org.opencontainers.image.ref.name"] for m in json.load(f)["manifests"]]
        self.assertEqual(sorted(names), ["app", "other"])
        self.assertEqual(self.skopeo_to_registry(f"oci:{layout}:other", "from/other"), other.digest)


class TestOciArchives(TransportTestCase):
    def test_skopeo_reads_the_archive_ferry_wrote(self):
        archive = self.path("app.tar")
        self.copy(f"{self.src.host}/src/app:v1", f"oci-archive:{archive}:app-v1")
        self.assertEqual(self.skopeo_to_registry(f"oci-archive:{archive}:app-v1", "from/ferry-archive"),
                         self.image.digest)

    def test_ferry_reads_the_archive_skopeo_wrote(self):
        archive = self.path("skopeo.tar")
        self.skopeo("copy", "--all", "--preserve-digests", "-q", "--src-tls-verify=false",
                    f"docker://{self.src.host}/src/app:v1", f"oci-archive:{archive}:t")
        doc = self.copy(f"oci-archive:{archive}:t", f"{self.dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], self.image.digest)
        self.assert_pushed("dst/app", "v1")

    def test_layout_and_archive_convert_both_ways(self):
        layout, archive, again = self.path("l"), self.path("a.tar"), self.path("l2")
        self.copy(f"{self.src.host}/src/app:v1", f"oci:{layout}:x")
        self.assertEqual(self.copy(f"oci:{layout}:x", f"oci-archive:{archive}:y")["digest"], self.image.digest)
        self.assertEqual(self.copy(f"oci-archive:{archive}:y", f"oci:{again}:z")["digest"], self.image.digest)
        self.assertEqual(self.copy(f"oci-archive:{archive}:y", f"oci-archive:{self.path('b.tar')}:w")["digest"],
                         self.image.digest)
        self.assertEqual(self.skopeo_to_registry(f"oci:{again}:z", "from/round-trip"), self.image.digest)


class TestDockerArchives(TransportTestCase):
    def docker_save(self, name="app:1"):
        """A docker-archive as skopeo writes it (the `docker save` format), of the amd64 image."""
        archive = self.path("saved.tar")
        child = self.image.children[0]
        self.skopeo("copy", "-q", "--src-tls-verify=false", f"docker://{self.src.host}/src/app@{child.digest}",
                    f"docker-archive:{archive}:{name}")
        return archive, child

    def test_a_docker_save_archive_reaches_a_registry_with_its_config_and_diff_ids(self):
        archive, child = self.docker_save()
        with tarfile.open(archive) as tar:
            self.assertIn("manifest.json", tar.getnames())
        doc = self.copy(f"docker-archive:{archive}", f"{self.dst.host}/dst/saved:1")
        self.assertEqual(doc["mediaType"], images.DOCKER["manifest"])
        raw, _ = self.dst.manifest("dst/saved", "1")
        manifest = json.loads(raw)
        # The config is the image's own; the layers are its uncompressed tars, named by diff_id.
        self.assertEqual(manifest["config"]["digest"], child.config.digest)
        self.assertEqual([layer["digest"] for layer in manifest["layers"]], [b.diff_id for b in child.layers])
        r = self.skopeo("inspect", "--tls-verify=false", f"docker://{self.dst.host}/dst/saved:1")
        self.assertEqual(json.loads(r.stdout)["Digest"], doc["digest"])

    def test_the_same_archive_gives_the_same_digest_in_a_layout_and_by_name(self):
        archive, _ = self.docker_save("team/app:1")
        first = self.copy(f"docker-archive:{archive}:team/app:1", f"oci:{self.path('l')}:app")
        second = self.copy(f"docker-archive:{archive}:@0", f"oci-archive:{self.path('a.tar')}:app")
        self.assertEqual(first["digest"], second["digest"])
        r = self.ferry.run("copy", f"docker-archive:{archive}:nope:2", f"oci:{self.path('m')}:x")
        self.assertNotEqual(r.code, 0)
        self.assertIn("team/app:1", r.err)  # says what the archive has

    def test_an_archive_of_many_names_names_the_first_three_when_one_is_wrong(self):
        archive, _ = self.docker_save("team/app:1")
        # As `docker save` of a whole release writes it: one image under many names.
        many = self.path("many.tar")
        tags = [f"team/app{i}:1" for i in range(12)]
        with tarfile.open(archive) as src, tarfile.open(many, "w") as dst:
            for member in src.getmembers():
                data = src.extractfile(member).read() if member.isfile() else None
                if member.name == "manifest.json":
                    manifest = json.loads(data)
                    manifest[0]["RepoTags"] = tags
                    data = json.dumps(manifest).encode()
                    member.size = len(data)
                dst.addfile(member, io.BytesIO(data) if data is not None else None)
        r = self.ferry.run("copy", f"docker-archive:{many}:nope:2", f"oci:{self.path('m')}:x")
        self.assertNotEqual(r.code, 0)
        self.assertIn("no image named nope:2 (it has team/app0:1, team/app1:1, team/app2:1 and 9 more)", r.err)
        verbose = self.ferry.run("copy", f"docker-archive:{many}:nope:2", f"oci:{self.path('m')}:x", "-v")
        self.assertIn("team/app2:1, team/app3:1, " + ", ".join(tags[4:]) + ")", verbose.err)

    def test_docker_archive_is_not_a_destination(self):
        r = self.ferry.run("copy", f"{self.src.host}/src/app:v1", f"docker-archive:{self.path('x.tar')}")
        self.assertNotEqual(r.code, 0)
        self.assertIn("oci-archive:", r.err)
        self.assertFalse(os.path.exists(self.path("x.tar")))


class TestBundlesAsSources(TransportTestCase):
    def test_a_ferry_bundle_is_an_oci_archive_to_copy_from(self):
        image_list = self.ferry.path("images.txt")
        with open(image_list, "w") as f:
            f.write(f"{self.src.host}/src/app:v1\n")
        bundle = self.path("b.tar.zst")
        r = self.ferry.run("bundle", "save", "--images", image_list, "-o", bundle)
        self.assertEqual(r.code, 0, str(r))
        name = f"{self.src.host}/src/app:v1"
        self.assertEqual(self.copy(f"oci-archive:{bundle}:{name}", f"{self.dst.host}/dst/app:v1")["digest"],
                         self.image.digest)
        self.assert_pushed("dst/app", "v1")
        self.assertEqual(self.copy(f"oci-archive:{bundle}:{name}", f"oci:{self.path('l')}:app")["digest"],
                         self.image.digest)
        self.assertEqual(self.copy(f"oci-archive:{bundle}:{name}", f"oci-archive:{self.path('o.tar')}:app")["digest"],
                         self.image.digest)


class TestTransportErrors(TransportTestCase):
    def test_unknown_transports_and_missing_names_are_refused(self):
        for source in ("dir:/tmp/x", "containers-storage:app"):
            r = self.ferry.run("copy", source, f"{self.dst.host}/dst/x:1")
            self.assertNotEqual(r.code, 0)
            self.assertIn("docker://, oci:, oci-archive: and docker-archive:", r.err)
        layout = self.path("two")
        self.copy(f"{self.src.host}/src/app:v1", f"oci:{layout}:a")
        self.copy(f"{self.src.host}/src/app:v1", f"oci:{layout}:b")
        r = self.ferry.run("copy", f"oci:{layout}", f"{self.dst.host}/dst/x:1")
        self.assertNotEqual(r.code, 0)
        self.assertIn("name the image", r.err)
        self.assertEqual(self.dst.tags("dst/x"), [])


if __name__ == "__main__":
    unittest.main()
