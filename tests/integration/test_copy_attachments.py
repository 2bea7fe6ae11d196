"""Signatures, attestations, SBOMs and OCI 1.1 referrers travel with their images: `ferry copy`,
`ferry mirror` and `ferry bundle save` -> `bundle load` carry them by default (--no-attachments
skips them), the lock file and `bundle inspect` list them, and every digest stays the same.

Hand-made artifacts in the shapes cosign and OCI 1.1 clients push (tests/lib/ferrytest/images.py).
The real docker-registry 2.8 has no Referrers API, so there the referrers go through the fallback
tag sha256-<hex>; the API path runs against the stand-in in tests/lib/ferrytest/referrers_registry.py,
which implements it (and the OCI-Subject answer)."""

import json
import unittest

from ferrytest import images
from ferrytest.ferry import Ferry
from ferrytest.referrers_registry import ReferrersRegistry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase


def fallback_tag(digest):
    return digest.replace(":", "-")


class AttachmentsTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def run_json(self, *args):
        r = self.ferry.run(*args, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        return json.loads(r.out.splitlines()[-1])

    def assert_attachments_at(self, registry, repo, signed, fallback=True):
        """Every attachment of `signed` is in `repo` with its digest; the referrer is findable."""
        image = signed.image
        for suffix, artifact in signed.cosign.items():
            self.assertEqual(registry.manifest_digest(repo, images.cosign_tag(image.digest, suffix)), artifact.digest,
                             suffix)
        self.assertEqual(registry.manifest_digest(repo, signed.referrer.digest), signed.referrer.digest)
        for blob in signed.referrer.blobs():
            self.assertTrue(registry.has_blob(repo, blob.digest))
        if fallback:
            raw, _ = registry.manifest(repo, fallback_tag(image.digest))
            self.assertIsNotNone(raw, "no referrers fallback tag")
            listed = json.loads(raw)["manifests"]
            self.assertEqual([m["digest"] for m in listed], [signed.referrer.digest])
            self.assertEqual(listed[0]["artifactType"], "application/spdx+json")


class TestAttachmentsThroughRegistries(AttachmentsTestCase):
    def test_copy_carries_cosign_tags_and_referrers_with_their_digests(self):
        src, dst = self.use(Registry()), self.use(Registry())
        signed = images.push_signed(src, "src/app", "v1", images.make_image("signed"))
        doc = self.run_json("copy", f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], signed.image.digest)
        self.assertEqual({a["kind"] for a in doc["attachments"]}, {"signature", "attestation", "sbom", "referrer"})
        self.assertEqual({a["digest"] for a in doc["attachments"]}, signed.attachment_digests())
        self.assert_attachments_at(dst, "dst/app", signed)

    def test_no_attachments_copies_the_image_alone(self):
        src, dst = self.use(Registry()), self.use(Registry())
        signed = images.push_signed(src, "src/app", "v1", images.make_image("bare"))
        doc = self.run_json("copy", "--no-attachments", f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["attachments"], [])
        self.assertEqual(dst.tags("dst/app"), ["v1"])
        self.assertIsNone(dst.manifest_digest("dst/app", signed.referrer.digest))

    def test_mirror_lists_the_attachments_in_the_lock(self):
        src, dst = self.use(Registry()), self.use(Registry())
        signed = images.push_signed(src, "knative/queue", "v1.23.0", images.make_index("signed-index"))
        plain = images.make_image("unsigned")
        images.push(src, "knative/webhook", "v1.23.0", plain)
        image_list = self.ferry.path("images.txt")
        with open(image_list, "w") as f:
            f.write(f"{src.host}/knative/queue:v1.23.0\n{src.host}/knative/webhook:v1.23.0\n")
        lock_path = self.ferry.path("images.lock")
        summary = self.run_json("mirror", "--images", image_list, "--to", f"{dst.host}/mirror", "--naming", "flatten",
                                "--lock", lock_path)
        self.assertEqual(summary["attachments"], 4)
        with open(lock_path) as f:
            lock = {e["source"].split("/", 1)[1]: e for e in json.load(f)["images"]}
        queue = lock["knative/queue:v1.23.0"]
        self.assertEqual({a["digest"] for a in queue["attachments"]}, signed.attachment_digests())
        sig = next(a for a in queue["attachments"] if a["kind"] == "signature")
        self.assertEqual(sig["tag"], images.cosign_tag(signed.image.digest, "sig"))
        self.assertNotIn("attachments", lock["knative/webhook:v1.23.0"])
        target_repo = queue["target"].split("/", 1)[1].split(":")[0]
        self.assert_attachments_at(dst, target_repo, signed)


class TestAttachmentsThroughBundles(AttachmentsTestCase):
    def test_they_survive_bundle_save_and_load_with_digests_unchanged(self):
        src, dst = self.use(Registry()), self.use(Registry())
        signed = images.push_signed(src, "src/app", "v1", images.make_image("bundled"))
        image_list = self.ferry.path("images.txt")
        with open(image_list, "w") as f:
            f.write(f"{src.host}/src/app:v1\n")
        archive = self.ferry.path("b.tar")
        saved = self.run_json("bundle", "save", "--images", image_list, "-o", archive)
        self.assertEqual(saved["images"][0]["attachments"], 4)

        inspected = self.run_json("bundle", "inspect", archive)
        listed = inspected["images"][0]["attachments"]
        self.assertEqual({a["digest"] for a in listed}, signed.attachment_digests())
        r = self.ferry.run("bundle", "inspect", archive)
        self.assertIn(images.cosign_tag(signed.image.digest, "sig"), r.out)
        self.assertIn("referrer", r.out)

        lock_path = self.ferry.path("images.lock")
        loaded = self.run_json("bundle", "load", archive, "--to", f"{dst.host}/air", "--naming", "flatten",
                               "--lock", lock_path)
        self.assertEqual(loaded["attachments"], 4)
        repo = loaded["images"][0]["target"].split("/", 1)[1].split(":")[0]
        self.assertEqual(dst.manifest_digest(repo, "v1"), signed.image.digest)
        self.assert_attachments_at(dst, repo, signed)
        with open(lock_path) as f:
            self.assertEqual({a["digest"] for a in json.load(f)["images"][0]["attachments"]},
                             signed.attachment_digests())


class TestReferrersApi(AttachmentsTestCase):
    def test_referrers_are_found_through_the_api_where_a_registry_has_it(self):
        src, dst = self.use(ReferrersRegistry()), self.use(Registry())
        signed = images.push_signed(src, "src/app", "v1", images.make_image("api-src"), referrers_api=True)
        self.assertNotIn(fallback_tag(signed.image.digest), src.repo_tags("src/app"))  # the API lists it
        doc = self.run_json("copy", f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertIn(signed.referrer.digest, {a["digest"] for a in doc["attachments"]})
        self.assertGreater(src.requests_to("GET", "referrers"), 0)
        # docker-registry 2.8 has no API: ferry keeps the fallback tag there.
        self.assert_attachments_at(dst, "dst/app", signed)

    def test_a_sink_with_the_api_indexes_the_subject_and_needs_no_fallback_tag(self):
        src, dst = self.use(Registry()), self.use(ReferrersRegistry())
        signed = images.push_signed(src, "src/app", "v1", images.make_image("api-dst"))
        doc = self.run_json("copy", f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual({a["digest"] for a in doc["attachments"]}, signed.attachment_digests())
        self.assert_attachments_at(dst, "dst/app", signed, fallback=False)
        self.assertNotIn(fallback_tag(signed.image.digest), dst.repo_tags("dst/app"))
        listed = dst.referrers_of("dst/app", signed.image.digest)
        self.assertEqual([m["digest"] for m in listed], [signed.referrer.digest])


if __name__ == "__main__":
    unittest.main()
