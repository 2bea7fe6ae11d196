"""-v, -vv and --output are accepted before and after the subcommand, as kubectl, skopeo and docker
accept theirs, and mean the same in both places: `ferry install -v` is `ferry -v install`."""

import json
import socket

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase


class GlobalFlags(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def fetch_from_nowhere(self, *flags, after=()):
        """`ferry manifests fetch` from a port nobody listens on: every attempt is refused and retried,
        which only -v shows."""
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{closed.getsockname()[1]}"
            return self.ferry.run(*flags, "manifests", "fetch", "--profile", "knative-1.23-kourier",
                                  "-o", self.tmp.sub("out"), "--base-url", base, *after)

    def test_verbose_before_or_after_the_command(self):
        quiet = self.fetch_from_nowhere()
        before = self.fetch_from_nowhere("-v")
        after = self.fetch_from_nowhere(after=("-v",))
        for r in (quiet, before, after):
            self.assertEqual(r.code, 1, str(r))
            self.assertNotIn("was not expected", r.err)
        self.assertNotIn("retrying", quiet.err)
        self.assertIn("retrying", before.err)
        self.assertIn("retrying", after.err)

    def test_very_verbose_after_the_command(self):
        r = self.ferry.run("manifests", "list", "-vv")
        self.assertEqual(r.code, 0, str(r))
        r = self.ferry.run("install", "-v", "--help")
        self.assertIn("-v,--verbose", r.out)

    def test_output_before_or_after_the_command(self):
        for argv in (("--output", "json", "manifests", "list"), ("manifests", "list", "--output", "json"),
                     ("--output=json", "manifests", "list")):
            r = self.ferry.run(*argv)
            self.assertEqual(r.code, 0, f"{argv}: {r}")
            names = [p["name"] for p in json.loads(r.out)["profiles"]]
            self.assertIn("knative-1.23-kourier", names, argv)
        text = self.ferry.run("manifests", "list")
        self.assertRaises(json.JSONDecodeError, json.loads, text.out)

    def test_output_before_a_command_without_one_is_refused(self):
        r = self.ferry.run("--output", "json", "completion", "bash")
        self.assertEqual(r.code, 2, str(r))
        self.assertIn("ferry completion has no --output", r.err)
        r = self.ferry.run("--output", "yaml", "manifests", "list")
        self.assertEqual(r.code, 2, str(r))
        self.assertIn("yaml", r.err)


if __name__ == "__main__":
    import unittest
    unittest.main()
