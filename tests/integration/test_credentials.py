"""Where registry credentials go, and where ferry takes them from.

Contract under test:
1. the registry's Authorization header goes to the registry's own origin only: an upload session
   or a blob download on another host (a storage backend, a CDN) gets no credentials;
2. ferry sends credentials to a token service over https only (plain http: loopback only);
3. credentials come from --*-creds USER:PASS (with a warning that other local users can read it),
   --*-creds-file FILE, --*-password-stdin, FERRY_*_USERNAME/FERRY_*_PASSWORD, or the docker
   configuration, in that order; no message ever prints a password."""

import os
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


class CredentialSourcesTest(CredentialsTestCase):
    def setUp(self):
        super().setUp()
        self.dest = self.use(Registry(auth="htpasswd"))
        self.dst_ref = f"{self.dest.host}/dst/app:v1"
        self.good = f"{self.dest.user}:{self.dest.password}"

    def copy(self, *extra, env=None, input=None, repo="dst/app"):
        return self.ferry.run("copy", f"{self.source.host}/src/app:v1", f"{self.dest.host}/{repo}:v1", *extra,
                              env=env, input=input)

    def assert_copied(self, r, repo="dst/app"):
        self.assert_ok(r)
        self.assertEqual(self.dest.manifest_digest(repo, "v1"), self.image.digest)

    def write(self, name, text, mode=0o600):
        path = self.tmp.sub(name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def assert_no_secret(self, r):
        self.assertNotIn(self.dest.password, r.out + r.err)
        self.assertNotIn("wrong-Secret", r.out + r.err)

    def test_creds_file(self):
        r = self.copy("--dest-creds-file", self.write("creds", self.good + "\n"))
        self.assert_copied(r)
        self.assertNotIn("warning", r.err)
        self.assert_no_secret(r)

    def test_password_on_standard_input_with_the_user_from_the_flag_or_the_environment(self):
        self.assert_copied(self.copy("--dest-creds", self.dest.user, "--dest-password-stdin",
                                     input=self.dest.password + "\n"))
        r = self.copy("--dest-password-stdin", env={"FERRY_DEST_USERNAME": self.dest.user},
                      input=self.dest.password, repo="dst/other")
        self.assert_copied(r, "dst/other")
        self.assertNotIn("warning", r.err)

    def test_environment_variables(self):
        r = self.copy(env={"FERRY_DEST_USERNAME": self.dest.user, "FERRY_DEST_PASSWORD": self.dest.password})
        self.assert_copied(r)
        self.assertNotIn("warning", r.err)

    def test_password_on_the_command_line_works_with_a_warning(self):
        r = self.copy("--dest-creds", self.good)
        self.assert_copied(r)
        self.assertIn("ferry: warning: --dest-creds USER:PASS", r.err)
        self.assertIn("--dest-creds-file", r.err)
        self.assert_no_secret(r)

    def test_flags_win_over_the_environment_which_wins_over_the_docker_config(self):
        wrong = {"FERRY_DEST_USERNAME": self.dest.user, "FERRY_DEST_PASSWORD": "wrong-Secret-1"}
        self.assert_copied(self.copy("--dest-creds-file", self.write("creds", self.good), env=wrong))
        self.ferry.write_docker_config({self.dest.host: (self.dest.user, "wrong-Secret-2")})
        self.assert_copied(self.copy(env={"FERRY_DEST_USERNAME": self.dest.user,
                                          "FERRY_DEST_PASSWORD": self.dest.password}, repo="dst/two"),
                           "dst/two")
        r = self.copy(repo="dst/three")
        self.assert_failed(r, "not accepted")
        self.assert_no_secret(r)

    def test_wrong_password_in_a_file_fails_without_showing_it(self):
        r = self.copy("--dest-creds-file", self.write("creds", f"{self.dest.user}:wrong-Secret-3\n"))
        self.assert_failed(r, self.dest.host)
        self.assert_no_secret(r)

    def test_contradictory_or_incomplete_credentials_are_refused(self):
        creds = self.write("creds", self.good)
        cases = [
            (("--dest-creds-file", creds, "--dest-creds", self.good), None, None, "--dest-creds-file"),
            (("--dest-creds-file", creds, "--dest-password-stdin"), None, "x", "--dest-password-stdin"),
            (("--dest-password-stdin",), None, "x", "FERRY_DEST_USERNAME"),
            (("--dest-creds", self.good, "--dest-password-stdin"), None, "x", "USER only"),
            (("--dest-creds", self.dest.user, "--dest-password-stdin"), None, "", "no password on standard input"),
            (("--dest-creds", self.dest.user), None, None, "--dest-password-stdin"),
            ((), {"FERRY_DEST_PASSWORD": "wrong-Secret-4"}, None, "FERRY_DEST_USERNAME"),
            ((), {"FERRY_DEST_USERNAME": self.dest.user}, None, "FERRY_DEST_PASSWORD"),
            (("--dest-creds-file", self.tmp.sub("missing")), None, None, self.tmp.sub("missing")),
            (("--dest-creds-file", self.write("bad", "no colon here\n")), None, None, "USER:PASSWORD"),
        ]
        for args, env, stdin, needle in cases:
            with self.subTest(args=args, env=env):
                r = self.copy(*args, env=env, input=stdin)
                self.assert_failed(r, needle)
                self.assert_no_secret(r)
                self.assertIsNone(self.dest.manifest_digest("dst/app", "v1"))

    def test_one_standard_input_for_one_password(self):
        r = self.ferry.run("copy", f"{self.source.host}/src/app:v1", self.dst_ref,
                           "--src-creds", "u", "--src-password-stdin",
                           "--dest-creds", self.dest.user, "--dest-password-stdin", input=self.dest.password)
        self.assert_failed(r, "--src-password-stdin", "--dest-password-stdin", "standard input")


if __name__ == "__main__":
    unittest.main()
