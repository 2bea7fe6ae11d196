"""Where registry credentials go, and where ferry takes them from.

Contract under test:
1. the registry's Authorization header goes to the registry's own origin only: an upload session
   or a blob download on another host (a storage backend, a CDN) gets no credentials;
2. ferry sends credentials to a token service over https only (plain http: loopback only)."""

import unittest

from ferrytest import images
from ferrytest.fake_registry import FakeRegistry
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.split_registry import SplitRegistry
from ferrytest.testcase import ServerTestCase


class CredentialsTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.source = self.use(FakeRegistry())
        self.image = images.make_image("creds", layers=2)
        self.source.add_image("src/app", "v1", self.image)

    def assert_ok(self, r):
        self.assertEqual(r.code, 0, str(r))

    def assert_failed(self, r, *needles):
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn("ferry: error:", r.err, str(r))
        for needle in needles:
            self.assertIn(needle, r.err, str(r))


class AuthorizationScopeTest(CredentialsTestCase):
    def use_split_registry(self, **kw):
        """A SplitRegistry whose credentials are in the docker configuration."""
        split = self.use(SplitRegistry(**kw))
        self.ferry.write_docker_config({split.host: (split.user, split.password)})
        return split

    def test_uploads_to_another_host_carry_no_authorization(self):
        split = self.use_split_registry()
        r = self.ferry.run("copy", f"{self.source.host}/src/app:v1", f"{split.host}/dst/app:v1")
        self.assert_ok(r)
        uploads = split.seen("storage")
        self.assertTrue(uploads, "the copy sent no blob to the storage host")
        for method, path, headers in uploads:
            self.assertNotIn("authorization", headers, f"{method} {path} on the storage host carried credentials")
        self.assertTrue(any("authorization" in h for _, _, h in split.seen("registry")))
        for blob in self.image.blobs():
            self.assertIn(blob.digest, split.blobs)

    def test_blob_downloads_redirected_elsewhere_carry_no_authorization(self):
        split = self.use_split_registry()
        self.assert_ok(self.ferry.run("copy", f"{self.source.host}/src/app:v1", f"{split.host}/mid/app:v1"))
        dest = self.use(Registry())
        r = self.ferry.run("copy", f"{split.host}/mid/app:v1", f"{dest.host}/dst/app:v1")
        self.assert_ok(r)
        downloads = split.seen("storage", "GET")
        self.assertTrue(downloads, "no blob was fetched through the redirect")
        for method, path, headers in downloads:
            self.assertNotIn("authorization", headers, f"{method} {path} on the storage host carried credentials")
        self.assertEqual(dest.manifest_digest("dst/app", "v1"), self.image.digest)

    def test_token_service_over_plain_http_gets_no_credentials(self):
        split = self.use_split_registry(bearer_realm="http://token.invalid/token")
        r = self.ferry.run("copy", f"{self.source.host}/src/app:v1", f"{split.host}/dst/app:v1")
        self.assert_failed(r, "http://token.invalid/token", "not https", "--dest-plain-http")
        self.assertNotIn(split.password, r.err + r.out)


if __name__ == "__main__":
    unittest.main()
