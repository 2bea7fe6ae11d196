"""Integration tests for `ferry copy SRC DST`, against real docker-registry servers (plain, TLS,
htpasswd, token auth), skopeo and containerd, plus a fake registry for broken sources.

Contract under test: on success stdout is `SRC -> DST@sha256:...` (or one JSON object with
--output json); on failure exit code != 0, stderr has a line starting `ferry: error:` that names
what went wrong, and nothing is tagged at the destination."""

import json
import re
import unittest

from ferrytest import images, skopeo
from ferrytest.containerd import Containerd
from ferrytest.fake_registry import SCHEMA1_SIGNED, FakeRegistry, oversized_manifest, schema1_manifest
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.token_server import TokenServer

DIGEST_LINE = re.compile(r"^(?P<src>\S+) -> (?P<dst>\S+)@(?P<digest>sha256:[0-9a-f]{64})$")


class CopyTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def copy(self, *args, ferry=None, env=None):
        return (ferry or self.ferry).run("copy", *args, env=env)

    def copy_json(self, *args, ferry=None, env=None):
        """Runs `ferry copy --output json ARGS`, asserts success, returns the parsed object."""
        r = self.copy("--output", "json", *args, ferry=ferry, env=env)
        self.assertEqual(r.code, 0, str(r))
        doc = json.loads(r.out)
        self.assertRegex(doc["digest"], r"^sha256:[0-9a-f]{64}$")
        return doc

    def assert_copied_text(self, r, dst):
        """Checks text output `SRC -> DST@digest` and returns the digest."""
        self.assertEqual(r.code, 0, str(r))
        lines = [line for line in r.out.splitlines() if line.strip()]
        self.assertTrue(lines, str(r))
        m = DIGEST_LINE.match(lines[-1])
        self.assertIsNotNone(m, f"unexpected output line: {lines[-1]!r}")
        self.assertIn(dst.removeprefix("docker://"), m.group("dst"))
        return m.group("digest")

    def assert_failed(self, r, *needles):
        """Non-zero exit; a `ferry: error:` line on stderr; every needle in stderr."""
        self.assertNotEqual(r.code, 0, str(r))
        self.assertTrue(any(line.startswith("ferry: error:") for line in r.err.splitlines()),
                        f"no `ferry: error:` line on stderr\n{r}")
        for needle in needles:
            if isinstance(needle, re.Pattern):
                self.assertRegex(r.err, needle)
            else:
                self.assertIn(needle, r.err)

    def assert_nothing_pushed(self, registry, repo, *digests):
        self.assertEqual(registry.tags(repo), [], f"{repo} got tags")
        for d in digests:
            self.assertIsNone(registry.manifest_digest(repo, d), f"{repo}@{d} exists")

    def assert_image_at(self, registry, repo, ref, artifact):
        """DST has the exact manifest bytes, every child manifest by digest, and every blob."""
        self.assertEqual(registry.manifest_digest(repo, ref), artifact.digest)
        raw, _ = registry.manifest(repo, artifact.digest)
        self.assertEqual(raw, artifact.raw)
        for child in getattr(artifact, "children", []):
            self.assertEqual(registry.manifest_digest(repo, child.digest), child.digest)
        for blob in artifact.blobs():
            self.assertTrue(registry.has_blob(repo, blob.digest), f"{repo} lacks {blob.digest}")

    def manifest_put_positions(self, registry, repo, ref):
        return [i for i, (m, uri, status) in enumerate(registry.requests())
                if m == "PUT" and uri == f"/v2/{repo}/manifests/{ref}" and status == 201]

    def blob_uploads(self, registry, repo, digest=None):
        """Completed monolithic/chunked uploads (PUT .../blobs/uploads/...?digest=) into `repo`."""
        rx = rf"^/v2/{re.escape(repo)}/blobs/uploads/"
        if digest:
            rx += rf".*digest={re.escape(digest).replace(':', '(:|%3A)')}"
        return registry.requests_matching("PUT", rx, status=201)


class TestCopyImages(CopyTestCase):
    def test_single_arch_oci_image_keeps_its_digest(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("oci-single", layers=2)
        images.push(src, "src/app", "v1", image)
        digestfile = self.ferry.path("digest")
        doc = self.copy_json("--digestfile", digestfile, f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(doc["mediaType"], images.OCI["manifest"])
        self.assertIn(f"{src.host}/src/app", doc["source"])
        self.assertIn(f"{dst.host}/dst/app", doc["destination"])
        with open(digestfile) as f:
            self.assertEqual(f.read().strip(), image.digest)
        self.assertEqual(doc["blobs"], {"copied": 3, "skipped": 0, "mounted": 0})
        self.assertEqual(doc["bytes"]["copied"], sum(b.size for b in image.blobs()))
        self.assert_image_at(dst, "dst/app", "v1", image)

    def test_single_arch_docker_schema2_image_text_output(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("docker-single", docker=True)
        images.push(src, "src/app", "v1", image)
        dst_ref = f"docker://{dst.host}/dst/app:v1"
        digestfile = self.ferry.path("digest")
        r = self.copy("--digestfile", digestfile, f"docker://{src.host}/src/app:v1", dst_ref)
        digest = self.assert_copied_text(r, dst_ref)
        self.assertEqual(digest, image.digest)
        with open(digestfile) as f:
            self.assertEqual(f.read().strip(), image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)
        _, content_type = dst.manifest("dst/app", "v1")
        self.assertEqual(content_type, images.DOCKER["manifest"])

    def check_multi_arch(self, docker):
        src, dst = self.use(Registry()), self.use(Registry())
        index = images.make_index("multi-docker" if docker else "multi-oci", docker=docker)
        images.push(src, "src/multi", "v1", index)
        doc = self.copy_json(f"{src.host}/src/multi:v1", f"{dst.host}/dst/multi:v1")
        self.assertEqual(doc["digest"], index.digest)
        self.assertEqual(doc["mediaType"], index.media_type)
        self.assert_image_at(dst, "dst/multi", "v1", index)
        # Every platform's manifest was stored before the index that refers to it.
        index_puts = (self.manifest_put_positions(dst, "dst/multi", "v1") +
                      self.manifest_put_positions(dst, "dst/multi", index.digest))
        self.assertTrue(index_puts, "index was never PUT")
        for child in index.children:
            child_puts = self.manifest_put_positions(dst, "dst/multi", child.digest)
            self.assertTrue(child_puts, f"{child.platform} manifest was never PUT by digest")
            self.assertLess(max(child_puts), min(index_puts), f"{child.platform} PUT after the index")
        # The base layer shared by both platforms travels once.
        base = index.children[0].layers[0].digest
        self.assertEqual(self.blob_uploads(dst, "dst/multi", base), 1)
        self.assertEqual(doc["blobs"]["copied"], len(index.blobs()))

    def test_oci_index_copies_every_platform(self):
        self.check_multi_arch(docker=False)

    def test_docker_manifest_list_copies_every_platform(self):
        self.check_multi_arch(docker=True)

    def test_source_by_digest(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("by-digest")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json(f"{src.host}/src/app@{image.digest}", f"{dst.host}/dst/app:pinned")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "pinned", image)


class TestCopyReuse(CopyTestCase):
    def test_second_copy_to_same_destination_skips_every_blob(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("again", layers=3)
        images.push(src, "src/app", "v1", image)
        args = (f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.copy_json(*args)
        uploads_after_first = self.blob_uploads(dst, "dst/app")
        doc = self.copy_json(*args)
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(doc["blobs"], {"copied": 0, "skipped": len(image.blobs()), "mounted": 0})
        self.assertEqual(doc["bytes"]["copied"], 0)
        self.assertEqual(self.blob_uploads(dst, "dst/app"), uploads_after_first)
        self.assertEqual(src.requests_matching("GET", r"/blobs/sha256:"), len(image.blobs()),
                         "the second copy downloaded blobs it did not need")

    def test_copy_to_second_repository_mounts_from_the_first(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("mount-cache", layers=2)
        images.push(src, "src/app", "v1", image)
        self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/team-a/app:v1")
        doc = self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/team-b/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(doc["blobs"]["mounted"], len(image.blobs()))
        self.assertEqual(doc["blobs"]["copied"], 0)
        self.assertEqual(doc["bytes"]["mounted"], sum(b.size for b in image.blobs()))
        mounts = dst.requests_matching("POST", r"^/v2/team-b/app/blobs/uploads/\?.*mount=sha256", 201)
        self.assertEqual(mounts, len(image.blobs()))
        self.assertEqual(dst.requests_matching("POST", r"^/v2/team-b/app/.*from=team-a(/|%2F)app"),
                         len(image.blobs()))
        self.assertEqual(self.blob_uploads(dst, "team-b/app"), 0)
        self.assert_image_at(dst, "team-b/app", "v1", image)

    def test_mount_candidates_come_from_the_cache(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("fresh-cache")
        images.push(src, "src/app", "v1", image)
        self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/team-a/app:v1")
        with Ferry() as stranger:  # another user: empty $XDG_CACHE_HOME
            doc = self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/team-b/app:v1", ferry=stranger)
        self.assertEqual(doc["blobs"]["mounted"], 0)
        self.assertEqual(doc["blobs"]["copied"], len(image.blobs()))

    def test_same_registry_mounts_from_the_source_repository(self):
        registry = self.use(Registry())
        image = images.make_image("same-registry", layers=2)
        images.push(registry, "upstream/app", "v1", image)
        doc = self.copy_json(f"{registry.host}/upstream/app:v1", f"{registry.host}/mirror/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(doc["blobs"], {"copied": 0, "skipped": 0, "mounted": len(image.blobs())})
        self.assertEqual(registry.requests_matching(
            "POST", r"^/v2/mirror/app/blobs/uploads/\?.*from=upstream(/|%2F)app", 201), len(image.blobs()))
        self.assertEqual(registry.requests_matching("GET", r"^/v2/upstream/app/blobs/"), 0)
        self.assert_image_at(registry, "mirror/app", "v1", image)


class TestCopyInterop(CopyTestCase):
    def test_skopeo_reads_what_ferry_pushed(self):
        src, dst = self.use(Registry()), self.use(Registry())
        index = images.make_index("for-skopeo")
        images.push(src, "src/multi", "v1", index)
        self.copy_json(f"{src.host}/src/multi:v1", f"{dst.host}/dst/multi:v1")
        raw = skopeo.inspect_raw(dst, "dst/multi", "v1")
        self.assertEqual(images.sha256_digest(raw), index.digest)
        r = skopeo.copy_to_layout(dst, "dst/multi", "v1", self.tmp.sub("layout"))
        self.assertEqual(r.returncode, 0, r.stderr)  # skopeo fetched and verified every blob

    def test_containerd_pulls_what_ferry_pushed(self):
        src, dst = self.use(Registry()), self.use(Registry())
        ctd = self.use(Containerd())
        index = images.make_index("for-containerd", docker=True)
        images.push(src, "src/multi", "v1", index)
        self.copy_json(f"{src.host}/src/multi:v1", f"{dst.host}/dst/multi:v1")
        code, out = ctd.pull(f"{dst.host}/dst/multi:v1", plain_http=True)
        self.assertEqual(code, 0, out)
        self.assertIn(f"unpacking linux/amd64 {index.digest}", out)

    def test_ferry_copies_what_skopeo_pushed(self):
        src, dst = self.use(Registry()), self.use(Registry())
        for name, artifact in (("oci", images.make_index("from-skopeo")),
                               ("docker", images.make_image("from-skopeo", docker=True))):
            skopeo.push(artifact, src, f"src/{name}", "v1", self.tmp.sub(name))
            doc = self.copy_json(f"{src.host}/src/{name}:v1", f"{dst.host}/dst/{name}:v1")
            self.assertEqual(doc["digest"], artifact.digest)
            self.assert_image_at(dst, f"dst/{name}", "v1", artifact)


class TestCopyTransportAndAuth(CopyTestCase):
    def test_tls_destination_with_ca_cert(self):
        src, dst = self.use(Registry()), self.use(Registry(tls=True, pki=self.pki()))
        image = images.make_image("tls-dst")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json("--dest-ca-cert", dst.ca_cert, f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)

    def test_tls_source_with_ca_cert_and_destination_without_verification(self):
        pki = self.pki()
        src, dst = self.use(Registry(tls=True, pki=pki)), self.use(Registry(tls=True, pki=pki))
        image = images.make_image("tls-src")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json("--src-ca-cert", src.ca_cert, "--dest-tls-verify=false",
                             f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)

    def test_explicit_plain_http_flags(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("plain-flags")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json("--src-plain-http", "--dest-plain-http",
                             f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)

    def test_htpasswd_with_dest_creds(self):
        src, dst = self.use(Registry()), self.use(Registry(auth="htpasswd"))
        image = images.make_image("basic-flags")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json("--dest-creds", f"{dst.user}:{dst.password}",
                             f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)

    def test_htpasswd_credentials_from_docker_config(self):
        src = self.use(Registry(auth="htpasswd", user="reader", password="Src-Pass-1"))
        dst = self.use(Registry(auth="htpasswd", user="writer", password="Dst-Pass-2"))
        image = images.make_image("basic-config")
        images.push(src, "src/app", "v1", image)
        self.ferry.write_docker_config({src.host: (src.user, src.password), dst.host: (dst.user, dst.password)})
        doc = self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)

    def test_token_auth_asks_pull_for_source_and_push_for_destination(self):
        tokens = self.use(TokenServer())
        src = self.use(Registry(auth="token", token_server=tokens))
        dst = self.use(Registry(auth="token", token_server=tokens))
        image = images.make_image("token")
        images.push(src, "src/app", "v1", image)
        creds = f"{tokens.user}:{tokens.password}"
        doc = self.copy_json("--src-creds", creds, "--dest-creds", creds,
                             f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assert_image_at(dst, "dst/app", "v1", image)
        self.assertEqual(tokens.actions_for(tokens.user, "src/app"), {"pull"})
        self.assertEqual(tokens.actions_for(tokens.user, "dst/app"), {"pull", "push"})


class TestCopyBadInputs(CopyTestCase):
    def setUp(self):
        super().setUp()
        self.dst = self.use(Registry())
        self.dst_ref = f"{self.dst.host}/dst/app:v1"

    def test_invalid_reference(self):
        src = self.use(Registry())
        bad = f"{src.host}/Upper/Case:v1"
        r = self.copy(bad, self.dst_ref)
        self.assert_failed(r, "Upper/Case")
        self.assertEqual(src.requests_matching("GET", "/manifests/"), 0)  # rejected up front
        r = self.copy(f"{src.host}/src/app:v1", f"{self.dst.host}/dst/app:bad tag")
        self.assert_failed(r, "bad tag")
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_unknown_host_fails(self):
        r = self.ferry.run("copy", "nonexistent.invalid/x:1", self.dst_ref, timeout=60)
        self.assert_failed(r, "nonexistent.invalid")
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_tls_destination_without_ca_names_registry_and_flag(self):
        src, dst = self.use(Registry()), self.use(Registry(tls=True, pki=self.pki()))
        image = images.make_image("tls-fail")
        images.push(src, "src/app", "v1", image)
        r = self.copy(f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assert_failed(r, dst.host, "--dest-ca-cert")
        self.assert_nothing_pushed(dst, "dst/app", image.digest)

    def test_tls_source_without_ca_names_registry_and_flag(self):
        src = self.use(Registry(tls=True, pki=self.pki()))
        images.push(src, "src/app", "v1", images.make_image("tls-src-fail"))
        r = self.copy(f"{src.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, src.host, "--src-ca-cert")
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_wrong_password_names_registry_and_repository_not_the_password(self):
        src, dst = self.use(Registry()), self.use(Registry(auth="htpasswd"))
        image = images.make_image("wrong-pass")
        images.push(src, "src/app", "v1", image)
        wrong = "Wr0ng-Pa55-xyzzy"
        r = self.copy("--dest-creds", f"{dst.user}:{wrong}", f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assert_failed(r, dst.host, "dst/app")
        self.assertNotIn(wrong, r.err + r.out)
        self.assert_nothing_pushed(dst, "dst/app", image.digest)

    def test_wrong_source_password_from_docker_config(self):
        src = self.use(Registry(auth="htpasswd"))
        images.push(src, "src/app", "v1", images.make_image("wrong-src-pass"))
        wrong = "Wr0ng-Src-qwerty"
        self.ferry.write_docker_config({src.host: (src.user, wrong)})
        r = self.copy(f"{src.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, src.host, "src/app")
        self.assertNotIn(wrong, r.err + r.out)
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_missing_manifest_names_the_image(self):
        src = self.use(Registry())
        images.push(src, "src/app", "v1", images.make_image("present"))
        r = self.copy(f"{src.host}/src/app:nope", self.dst_ref)
        self.assert_failed(r, src.host, "src/app", "nope", re.compile(r"(?i)not found|unknown"))
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_source_blob_not_matching_its_digest(self):
        fake = self.use(FakeRegistry())
        image = images.make_image("corrupt", layers=2)
        fake.add_image("src/app", "v1", image)
        bad = image.layers[1]
        fake.add_blob(bad.digest, bad.data[:-1] + bytes([bad.data[-1] ^ 0xFF]))  # same size, other bytes
        r = self.copy(f"{fake.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, bad.digest, "src/app")
        self.assert_nothing_pushed(self.dst, "dst/app", image.digest)
        self.assertFalse(self.dst.has_blob("dst/app", bad.digest))

    def test_oversized_manifest(self):
        fake = self.use(FakeRegistry())
        fake.add_manifest("src/app", "v1", oversized_manifest(), images.OCI["manifest"])
        r = self.copy(f"{fake.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, "src/app", re.compile(r"(?i)too (large|big)|exceed|limit|MiB"))
        self.assert_nothing_pushed(self.dst, "dst/app")

    def test_unknown_media_type(self):
        fake = self.use(FakeRegistry())
        media_type = "application/vnd.example.unknown.v1+json"
        body = json.dumps({"schemaVersion": 2, "mediaType": media_type}).encode()
        fake.add_manifest("src/app", "v1", body, media_type)
        r = self.copy(f"{fake.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, media_type)
        self.assert_nothing_pushed(self.dst, "dst/app", images.sha256_digest(body))

    def test_schema1_source_cannot_be_copied_digest_exact(self):
        fake = self.use(FakeRegistry())
        body = schema1_manifest("src/app", "v1")
        fake.add_manifest("src/app", "v1", body, SCHEMA1_SIGNED)
        r = self.copy(f"{fake.host}/src/app:v1", self.dst_ref)
        self.assert_failed(r, "src/app", re.compile(r"(?i)schema ?1"), re.compile(r"(?i)digest"))
        self.assert_nothing_pushed(self.dst, "dst/app", images.sha256_digest(body))


if __name__ == "__main__":
    unittest.main()
