"""tests/fetch_corpus.py, the `corpus` fixture, run as on a checkout with no ../shared beside it
(the script and ferrytest are copied into an empty directory tree) and no FERRY_CORPUS:

1. with the profiles' files reachable (a local server holding the shared corpus flat, through
   FERRY_CORPUS_BASE_URL), every built-in profile is fetched into ferry's cache, copied flat into
   FERRY_CORPUS_FETCHED with a SHA256SUMS, and the tests' lookup (find_corpus) finds it; a second
   run downloads nothing;
2. with nothing reachable, it still exits 0, says in one line why and how to provide the files,
   records the reason, and the lookup then skips with that reason."""

import hashlib
import os
import shutil
import socket
import subprocess
import sys

from ferrytest.ferry import ferry_bin
from ferrytest.testcase import ServerTestCase
from ferrytest.util import corpus_dir
from test_manifests_fetch import CorpusServer

TESTS = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


class FetchCorpus(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.corpus = corpus_dir()
        # A checkout with nothing beside it: TMP/checkout/tests/{fetch_corpus.py,lib/ferrytest}.
        tests = self.tmp.sub("checkout", "tests", mkdir=True)
        shutil.copy(os.path.join(TESTS, "fetch_corpus.py"), tests)
        shutil.copytree(os.path.join(TESTS, "lib", "ferrytest"), os.path.join(tests, "lib", "ferrytest"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        self.script = os.path.join(tests, "fetch_corpus.py")
        self.fetched = self.tmp.sub("build", "corpus")
        self.cache = self.tmp.sub("cache")

    def fetch(self, base_url):
        env = {k: v for k, v in os.environ.items() if k != "FERRY_CORPUS" and "proxy" not in k.lower()}
        env.update(FERRY_BIN=ferry_bin(), FERRY_CORPUS_FETCHED=self.fetched, XDG_CACHE_HOME=self.cache,
                   FERRY_CORPUS_BASE_URL=base_url, PYTHONPATH="")
        return subprocess.run([sys.executable, self.script], env=env, capture_output=True, text=True, timeout=300)

    def find(self):
        """What the copied checkout's lookup says, in the fixture's environment."""
        code = ("import sys; sys.path.insert(0, sys.argv[1]); from ferrytest.util import find_corpus; "
                "print(find_corpus())")
        env = {k: v for k, v in os.environ.items() if k != "FERRY_CORPUS"}
        env.update(FERRY_CORPUS_FETCHED=self.fetched, PYTHONPATH="")
        return subprocess.run([sys.executable, "-c", code, os.path.join(os.path.dirname(self.script), "lib")],
                              env=env, capture_output=True, text=True, check=True).stdout.strip()

    def test_fetched_once_checked_and_found(self):
        server = self.use(CorpusServer(self.corpus))
        r = self.fetch(server.url)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip(), f"release files for the tests: {self.fetched} (fetched with ferry manifests fetch)")
        with open(os.path.join(self.fetched, "SHA256SUMS")) as f:
            sums = dict(reversed(line.split()) for line in f)
        self.assertIn("knative-serving-v1.23.0-serving-core.yaml", sums)
        self.assertIn("istio-1.1.3-lean.yaml", sums)
        for name, digest in sums.items():
            with open(os.path.join(self.fetched, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest, name)
            with open(os.path.join(self.corpus, name), "rb") as f:
                self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest, name)
        # Into ferry's own cache, where `--profile` without `--manifests-dir` looks.
        self.assertTrue(os.path.isfile(os.path.join(self.cache, "ferry", "manifests", "knative-1.23-kourier",
                                                    "net-kourier-v1.23.yaml")))
        self.assertEqual(self.find(), f"('{self.fetched}', 'fetched with ferry manifests fetch')")

        # Once: the cache holds every file with its sum, so a new build directory needs no download.
        shutil.rmtree(self.fetched)
        server.requests.clear()
        again = self.fetch(server.url)
        self.assertEqual(again.returncode, 0, again.stdout + again.stderr)
        self.assertEqual(server.requests, [])
        self.assertTrue(os.path.isfile(os.path.join(self.fetched, "SHA256SUMS")))

    def test_unreachable_is_one_line_and_the_tests_skip(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            r = self.fetch(f"http://127.0.0.1:{closed.getsockname()[1]}")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertTrue(lines[0].startswith("release files unavailable (127.0.0.1:"), lines[0])
        self.assertIn("the tests that need them are skipped; set FERRY_CORPUS=DIR", lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.fetched, "SHA256SUMS")))
        path, why = eval(self.find())
        self.assertIsNone(path)
        self.assertTrue(why.startswith("none here, and fetching failed: 127.0.0.1:"), why)


if __name__ == "__main__":
    import unittest
    unittest.main()
