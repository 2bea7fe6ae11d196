"""Integration tests for `ferry manifests fetch|verify|list`: every built-in release profile fetched
from a local HTTP server that serves the release corpus (FERRY_CORPUS) flat, through --base-url, so
the profiles keep their real upstream URLs. Faults: wrong bytes, 404, transient 503s, a closed port."""

import hashlib
import json
import os
import socket
import threading
import unittest
from http.server import BaseHTTPRequestHandler

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import HttpService, corpus_dir




def corpus_sums():
    with open(os.path.join(corpus_dir(), "SHA256SUMS")) as f:
        return {name: digest for digest, name in (line.split() for line in f if line.strip())}


def read(path):
    with open(path, "rb") as f:
        return f.read()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class CorpusServer(HttpService):
    """Serves the files of a directory at /NAME on a loopback port. Tests may replace a file's bytes
    (`override`), make it answer an HTTP status (`status`), or answer 503 with Retry-After: 0 the
    first `flaky[NAME]` times. `requests` records every path asked for."""

    def __init__(self, root):
        self.root = root
        self.override, self.status, self.flaky = {}, {}, {}
        self.requests = []
        self._lock = threading.Lock()

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                with server._lock:
                    server.requests.append(name)
                    flaky = server.flaky.get(name, 0)
                    if flaky:
                        server.flaky[name] = flaky - 1
                if flaky:
                    return self._answer(503, b"try again\n", [("Retry-After", "0")])
                if name in server.status:
                    return self._answer(server.status[name], b"no\n")
                body = server.override.get(name)
                path = os.path.join(server.root, name)
                if body is None and "/" not in name and os.path.isfile(path):
                    body = read(path)
                if body is None:
                    return self._answer(404, b"not found\n")
                self._answer(200, body)

            def _answer(self, code, body, headers=()):
                self.send_response(code)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

        return Handler


class ManifestsTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self._server = None

    # Started on first use: a test that needs no release files runs without the corpus.
    @property
    def server(self):
        if self._server is None:
            self._server = self.use(CorpusServer(corpus_dir()))
        return self._server

    @property
    def sums(self):
        return corpus_sums()

    def fetch(self, profile, out, *args):
        return self.ferry.run("manifests", "fetch", "--profile", profile, "--dir", out, "--base-url", self.server.url,
                              *args)

    def profiles(self):
        r = self.ferry.run("manifests", "list", "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        return {p["name"]: p for p in r.json()["profiles"]}

    def assert_no_leftovers(self, out, expected_names):
        self.assertEqual(sorted(os.listdir(out)), sorted(expected_names))


class TestFetchProfiles(ManifestsTestCase):
    def test_every_builtin_profile_fetches_byte_identical_files_and_a_lock(self):
        profiles = self.profiles()
        self.assertEqual(sorted(profiles), ["knative-0.6-full", "knative-0.6-istio-1.1", "knative-1.23-istio",
                                            "knative-1.23-kourier"])
        for name, profile in profiles.items():
            with self.subTest(profile=name):
                out = self.tmp.sub(name)
                r = self.fetch(name, out, "--output", "json")
                self.assertEqual(r.code, 0, str(r))
                report = r.json()
                self.assertEqual(report["profile"], name)
                self.assertEqual([f["name"] for f in report["files"]], [f["name"] for f in profile["files"]])
                for f, wanted in zip(report["files"], profile["files"]):
                    self.assertEqual(read(os.path.join(out, f["name"])), read(os.path.join(corpus_dir(), f["name"])))
                    self.assertEqual(f["sha256"], self.sums[f["name"]])
                    self.assertEqual(f["from"], f"{self.server.url}/{f['name']}")
                    self.assertEqual(f["url"], wanted["url"])  # the profile keeps its upstream URL
                    self.assertTrue(f["downloaded"])
                    self.assertEqual(f["sha256Origin"], "profile" if wanted["sha256"] else "recorded")
                lock_path = os.path.join(out, "profile.lock.json")
                self.assertEqual(report["lock"], lock_path)
                with open(lock_path) as fh:
                    lock = json.load(fh)
                self.assertEqual(lock["name"], name)
                self.assertEqual({f["name"]: f["sha256"] for f in lock["files"]},
                                 {f["name"]: self.sums[f["name"]] for f in profile["files"]})
                self.assertEqual([f["url"] for f in lock["files"]], [f["url"] for f in profile["files"]])
                self.assert_no_leftovers(out, [f["name"] for f in profile["files"]] + ["profile.lock.json"])

                v = self.ferry.run("manifests", "verify", "--profile", name, "--dir", out)
                self.assertEqual(v.code, 0, str(v))

    def test_the_0_6_stack_records_sums_not_known_in_advance_in_text_output(self):
        out = self.tmp.sub("full")
        r = self.fetch("knative-0.6-full", out)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("downloaded knative-eventing-v0.6.0-release.yaml", r.out)
        self.assertIn(f"sha256:{self.sums['knative-eventing-v0.6.0-release.yaml']} (not known in advance: recorded)", r.out)
        self.assertIn(f"sha256:{self.sums['istio-1.1.3.yaml']} (matches the profile)", r.out)
        self.assertIn("7 files of knative-0.6-full", r.out)
        self.assertIn("(4 not known in advance, recorded now)", r.out)

    def test_a_rerun_downloads_nothing_and_checks_recorded_sums(self):
        out = self.tmp.sub("full")
        self.assertEqual(self.fetch("knative-0.6-full", out).code, 0)
        self.server.requests.clear()
        r = self.fetch("knative-0.6-full", out, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(self.server.requests, [])
        origins = {f["name"]: f["sha256Origin"] for f in r.json()["files"]}
        self.assertEqual(origins["istio-1.1.3.yaml"], "profile")
        self.assertEqual(origins["knative-build-v0.6.0-build.yaml"], "lock")
        self.assertTrue(all(not f["downloaded"] for f in r.json()["files"]))

    def test_a_recorded_sum_is_enforced_on_later_downloads(self):
        out = self.tmp.sub("full")
        self.assertEqual(self.fetch("knative-0.6-full", out).code, 0)
        name = "knative-eventing-v0.6.0-release.yaml"
        os.remove(os.path.join(out, name))
        changed = b"# upstream changed the asset\n"
        self.server.override[name] = changed
        r = self.fetch("knative-0.6-full", out)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn(f"{name} from {self.server.url}/{name}: sha256 mismatch: expected {self.sums[name]} "
                      f"(recorded at first download), got {sha256(changed)}", r.err)
        self.assertFalse(os.path.exists(os.path.join(out, name)))

    def test_the_lock_is_itself_a_profile(self):
        out = self.tmp.sub("full")
        self.assertEqual(self.fetch("knative-0.6-full", out).code, 0)
        again = self.tmp.sub("again")
        r = self.fetch(os.path.join(out, "profile.lock.json"), again, "--output", "json")
        self.assertEqual(r.code, 0, str(r))
        self.assertTrue(all(f["sha256Origin"] == "profile" for f in r.json()["files"]))

    def test_transient_failures_are_retried(self):
        out = self.tmp.sub("kourier")
        self.server.flaky = {"net-kourier-v1.23.yaml": 2, "knative-serving-v1.23.0-serving-core.yaml": 1}
        r = self.fetch("knative-1.23-kourier", out)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(self.server.requests.count("net-kourier-v1.23.yaml"), 3)
        self.assertEqual(read(os.path.join(out, "net-kourier-v1.23.yaml")),
                         read(os.path.join(corpus_dir(), "net-kourier-v1.23.yaml")))

    def test_a_users_profile_by_path(self):
        profile = self.tmp.sub("mine.yaml")
        with open(profile, "w") as f:
            f.write("name: mine\nnetworking: {layer: kourier}\nserviceApiVersion: serving.knative.dev/v1\n"
                    "files:\n  - name: net-kourier-v1.23.yaml\n    url: https://example.invalid/kourier.yaml\n"
                    f"    sha256: {self.sums['net-kourier-v1.23.yaml']}\n")
        out = self.tmp.sub("mine")
        r = self.fetch(profile, out)
        self.assertEqual(r.code, 0, str(r))
        self.assert_no_leftovers(out, ["net-kourier-v1.23.yaml", "profile.lock.json"])


class TestFetchFailures(ManifestsTestCase):
    def test_wrong_bytes_are_refused_and_nothing_is_left_behind(self):
        out = self.tmp.sub("kourier", mkdir=True)
        name = "knative-serving-v1.23.0-serving-core.yaml"
        wrong = read(os.path.join(corpus_dir(), name)).replace(b"knative-serving", b"knative-servinG", 1)
        self.server.override[name] = wrong
        # A local copy from before (not matching either) must stay as it was.
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"local copy\n")
        r = self.fetch("knative-1.23-kourier", out)
        self.assertEqual(r.code, 1, str(r))
        self.assertIn(name, r.err)
        self.assertIn(f"expected {self.sums[name]}", r.err)
        self.assertIn(f"got {sha256(wrong)}", r.err)
        self.assertEqual(read(os.path.join(out, name)), b"local copy\n")
        # The other files are there, verified; no temporary file, no lock for an incomplete set.
        others = [n for n in ("knative-serving-v1.23.0-serving-crds.yaml", "net-kourier-v1.23.yaml",
                              "knative-serving-v1.23.0-serving-hpa.yaml",
                              "knative-serving-v1.23.0-serving-post-install-jobs.yaml")]
        self.assert_no_leftovers(out, others + [name])
        for n in others:
            self.assertEqual(read(os.path.join(out, n)), read(os.path.join(corpus_dir(), n)))

        v = self.ferry.run("manifests", "verify", "--profile", "knative-1.23-kourier", "--dir", out)
        self.assertEqual(v.code, 1, str(v))
        self.assertIn(f"{name}: sha256 mismatch: expected {self.sums[name]} (from the profile), got "
                      f"{sha256(b'local copy' + bytes([10]))}", v.err)

    def test_wrong_bytes_with_json_output(self):
        out = self.tmp.sub("lean")
        name = "istio-1.1.3-lean.yaml"
        self.server.override[name] = b"not istio\n"
        r = self.fetch("knative-0.6-istio-1.1", out, "--output", "json")
        self.assertEqual(r.code, 1, str(r))
        report = r.json()
        failed = [f for f in report["files"] if "error" in f]
        self.assertEqual([f["name"] for f in failed], [name])
        self.assertIn(f"expected {self.sums[name]}", failed[0]["error"])
        self.assertIn(f"got {sha256(b'not istio' + bytes([10]))}", failed[0]["error"])
        self.assertIsNone(report["lock"])
        self.assertFalse(os.path.exists(os.path.join(out, name)))

    def test_a_missing_file_on_the_server_is_named(self):
        out = self.tmp.sub("istio")
        self.server.status["net-istio-v1.23.yaml"] = 404
        r = self.fetch("knative-1.23-istio", out)
        self.assertEqual(r.code, 1, str(r))
        self.assertIn(f"net-istio-v1.23.yaml from {self.server.url}/net-istio-v1.23.yaml: HTTP 404", r.err)
        self.assertEqual(self.server.requests.count("net-istio-v1.23.yaml"), 1)  # 404 is not retried
        self.assertFalse(os.path.exists(os.path.join(out, "net-istio-v1.23.yaml")))

    def test_an_unreachable_server_is_a_clear_error(self):
        # A port bound but not listening refuses connections, and nobody else can take it meanwhile.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
            closed.bind(("127.0.0.1", 0))
            base = f"http://127.0.0.1:{closed.getsockname()[1]}"
            out = self.tmp.sub("kourier")
            r = self.ferry.run("manifests", "fetch", "--profile", "knative-1.23-kourier", "--dir", out,
                               "--base-url", base)
        self.assertEqual(r.code, 1, str(r))
        # One short line for the host (what failed, how many files), one saying what to do instead.
        host = base[len("http://"):]
        lines = r.err.splitlines()
        self.assertEqual(lines[0], "ferry: error: 5 of 5 files of profile knative-1.23-kourier failed:", r.err)
        self.assertTrue(lines[1].startswith(f"  {host}: connection to {host} failed"), r.err)
        self.assertTrue(lines[1].endswith(": 5 files (knative-serving-v1.23.0-serving-crds.yaml, knative-serving-v1.23.0-"
                                          "serving-core.yaml and 3 more)"), r.err)
        self.assertIn("fetch them where they can be reached", lines[2])
        self.assertEqual(len(lines), 3, r.err)
        self.assertEqual(os.listdir(out), [])

    def test_an_install_that_cannot_fetch_says_what_to_use_instead(self):
        # The first thing an offline user types: a profile without --manifests-dir.
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as closed:
            closed.bind(("127.0.0.1", 0))
            host = f"127.0.0.1:{closed.getsockname()[1]}"
            r = self.ferry.run("install", "--profile", "knative-1.23-kourier", "--to", "registry.example/knative",
                               "--base-url", f"http://{host}", "--plan")
        self.assertEqual(r.code, 1, str(r))
        lines = r.err.splitlines()
        self.assertEqual(len(lines), 3, r.err)
        self.assertTrue(lines[1].startswith(f"  {host}: connection to {host} failed"), r.err)
        self.assertIn(": 5 files (", lines[1])
        self.assertLess(len(lines[1]), 300, lines[1])
        self.assertTrue(lines[2].startswith("  instead: --manifests-dir DIR"), r.err)
        for alternative in ("--base-url URL", "--bundle FILE", "ferry manifests fetch --profile knative-1.23-kourier"):
            self.assertIn(alternative, lines[2])

    def test_a_directory_without_the_files_is_one_line(self):
        r = self.ferry.run("images", "--profile", "knative-1.23-kourier", "--manifests-dir", self.tmp.sub("empty", mkdir=True))
        self.assertEqual(r.code, 1, str(r))
        self.assertEqual(r.err.splitlines()[1:], ["  missing: 5 files (knative-serving-v1.23.0-serving-crds.yaml, "
                                                  "knative-serving-v1.23.0-serving-core.yaml and 3 more)"])

    def test_an_unknown_profile_lists_the_known_ones(self):
        r = self.ferry.run("manifests", "fetch", "--profile", "knative-9.9", "--dir", self.tmp.sub("x"))
        self.assertEqual(r.code, 1, str(r))
        self.assertIn("unknown profile 'knative-9.9'; known: knative-0.6-full, knative-0.6-istio-1.1, "
                      "knative-1.23-istio, knative-1.23-kourier", r.err)

    def test_a_broken_profile_names_the_file_line_and_field(self):
        profile = self.tmp.sub("broken.yaml")
        with open(profile, "w") as f:
            f.write("name: broken\nnetworking: {layer: kourier}\nserviceApiVersion: serving.knative.dev/v1\n"
                    "files:\n  - name: a.yaml\n    url: https://example.invalid/a.yaml\n    sha256: 1234\n")
        r = self.ferry.run("manifests", "fetch", "--profile", profile, "--dir", self.tmp.sub("x"))
        self.assertEqual(r.code, 1, str(r))
        self.assertIn(f"{profile}:7: files[0].sha256: expected 64 hex digits", r.err)


class TestListAndHelp(ManifestsTestCase):
    def test_list_shows_profiles_and_files(self):
        r = self.ferry.run("manifests", "list")
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("knative-1.23-istio", r.out)
        self.assertIn("istio (must already run on the cluster)", r.out)
        self.assertIn("https://github.com/knative/eventing/releases/download/v0.6.0/release.yaml", r.out)
        self.assertIn("(not known in advance: recorded at first download)", r.out)

    def test_help_has_an_example(self):
        r = self.ferry.run("manifests", "fetch", "--help")
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("Example", r.out)
        self.assertIn("--base-url", r.out)


if __name__ == "__main__":
    unittest.main()
