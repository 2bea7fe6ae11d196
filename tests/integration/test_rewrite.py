"""Integration tests for `ferry rewrite` and `ferry images`: surgical rewrites of the real release
corpus (FERRY_CORPUS, read-only; copied into temp dirs when a test needs to change a file), CRLF
files, every YAML quoting style, lock-based rewrites after a real `ferry mirror` into a local
registry, --in-place, standard input, bad input, the output formats of `ferry images` and profiles.

"Surgical" is checked from the outside: `ferry images --output json` gives each occurrence's byte
`offset` and exact `text`; putting the input's texts back at the output's offsets must give the
input bytes exactly, so nothing but reference bytes changed."""

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import unittest

from ferrytest import release
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.util import corpus_dir
from ferrytest.testcase import ServerTestCase

MIRROR = "mirror.example.com/knative"
TO = ["--to", MIRROR, "--naming", "flatten"]




def corpus_files():
    return sorted(n for n in os.listdir(corpus_dir()) if n.endswith(".yaml"))


def corpus(name):
    return os.path.join(corpus_dir(), name)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, data, mode=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    if mode is not None:
        os.chmod(path, mode)
    return path


def split_ref(ref):
    """host/repo[:tag][@digest] -> (host, repo, tag or None, digest or None)."""
    name, _, digest = ref.partition("@")
    host, _, rest = name.partition("/")
    repo, tag = rest, None
    if ":" in rest.rsplit("/", 1)[-1]:
        repo, tag = rest.rsplit(":", 1)
    return host, repo, tag, digest or None


class RewriteTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def run_bytes(self, *args, stdin=b""):
        """Runs ferry with `stdin` bytes; returns (code, stdout bytes, stderr text)."""
        p = subprocess.run([self.ferry.bin, *args], input=stdin, capture_output=True,
                           env=self.ferry.env(), timeout=120)
        return p.returncode, p.stdout, p.stderr.decode(errors="replace")

    def occurrences(self, *paths, extra=()):
        args = [a for p in paths for a in ("-f", p)]
        r = self.ferry.run("images", *args, "--output", "json", *extra)
        self.assertEqual(r.code, 0, str(r))
        return sorted(r.json(), key=lambda o: (o["file"], o["offset"]))

    def rewrite_to(self, src, out_dir):
        r = self.ferry.run("rewrite", "-f", src, *TO, "-o", out_dir)
        self.assertEqual(r.code, 0, str(r))
        return r

    def assert_surgical(self, src, dst, before=None, after=None):
        """Same number of occurrences in `src` and `dst`, every `text` really at its `offset`, and the
        input's texts put back at the output's offsets give the input bytes exactly. Returns the
        (input, output) occurrence pairs."""
        src_bytes, dst_bytes = read(src), read(dst)
        before = before if before is not None else self.occurrences(src)
        after = after if after is not None else self.occurrences(dst)
        self.assertEqual(len(after), len(before), f"{dst}: occurrence count changed")
        rebuilt, pos = bytearray(), 0
        for a, b in zip(before, after):
            a_text, b_text = a["text"].encode(), b["text"].encode()
            self.assertEqual(src_bytes[a["offset"]:a["offset"] + len(a_text)], a_text, f"{src}: {a}")
            self.assertEqual(dst_bytes[b["offset"]:b["offset"] + len(b_text)], b_text, f"{dst}: {b}")
            self.assertEqual(a["path"], b["path"])
            rebuilt += dst_bytes[pos:b["offset"]] + a_text
            pos = b["offset"] + len(b_text)
        rebuilt += dst_bytes[pos:]
        self.assertTrue(bytes(rebuilt) == src_bytes, f"{dst}: bytes outside the references changed")
        return list(zip(before, after))


class TestCorpusRewrite(RewriteTestCase):
    """Item 1: every corpus file, rewritten with --to ... --naming flatten."""

    def test_every_corpus_file_changes_only_reference_bytes(self):
        for name in corpus_files():
            for optional in ((), ("--include-optional",)):
                with self.subTest(file=name, flags=optional):
                    out_dir = self.tmp.sub("out" + "".join(optional))
                    src, dst = corpus(name), os.path.join(out_dir, name)
                    r = self.ferry.run("rewrite", "-f", src, *TO, "-o", out_dir, *optional)
                    self.assertEqual(r.code, 0, str(r))
                    pairs = self.assert_surgical(src, dst)
                    # What is left as written: only commented examples ("optional", e.g. the fluentd
                    # image in config-observability's _example block), and only without
                    # --include-optional, whatever else the run holds (`ferry mirror` leaves them out
                    # too). Everything else moves, "likely" ones too (env values, args, Istio's template).
                    moved = 0
                    for before, after in pairs:
                        left = not optional and before["confidence"] == "optional"
                        if left:
                            self.assertEqual(after["text"], before["text"])
                            continue
                        moved += 1
                        self.assertTrue(after["reference"].startswith(MIRROR + "/"), after)
                        # the tag / digest part is kept; an implicit tag is written out as :latest
                        _, _, tag, digest = split_ref(before["reference"])
                        self.assertEqual(split_ref(after["reference"])[2:], (tag or (None if digest else "latest"), digest))
                    self.assertIn(f"{moved} reference(s) rewritten", r.out)
                    if optional:  # no upstream registry name survives anywhere in the file
                        self.assertNotRegex(read(dst).decode(), r"(gcr\.io|docker\.io|quay\.io|docker\.elastic\.co)/")

    # The CI gate agrees with a rewrite run with the same flags: commented examples count only
    # with --include-optional, in both.
    def test_check_agrees_with_a_rewrite_that_left_commented_examples(self):
        out_dir = self.tmp.sub("out")
        self.rewrite_to(corpus("knative-serving-v0.6.0-serving.yaml"), out_dir)
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", MIRROR + "/")
        self.assertEqual(r.code, 0, str(r))

    def test_check_passes_on_rewritten_corpus_and_lists_every_upstream_reference(self):
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", corpus_dir(), *TO, "-o", out_dir)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(sorted(os.listdir(out_dir)), corpus_files())

        ok = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", MIRROR + "/")
        self.assertEqual(ok.code, 0, str(ok))

        bad = self.ferry.run("rewrite", "-f", corpus_dir(), "--check", "--allow", MIRROR + "/")
        self.assertEqual(bad.code, 1, str(bad))
        listed = set()
        for line in bad.out.splitlines():
            m = re.fullmatch(r"(?P<file>\S+\.yaml):(?P<line>\d+): (?P<ref>\S+) \((?P<path>[^)]+)\)", line)
            self.assertIsNotNone(m, f"unexpected --check line: {line!r}")
            listed.add((m["file"], int(m["line"]), m["ref"]))
        expected = {(o["file"], o["line"], o["reference"]) for o in self.occurrences(corpus_dir())
                    if o["confidence"] != "optional"}  # commented examples are not in use
        self.assertEqual(listed, expected)
        self.assertIn(f"{len(bad.out.splitlines())} reference(s) outside the allowed prefixes", bad.err)

    def test_crlf_file_stays_crlf_and_only_references_change(self):
        for name in ["knative-serving-v1.23.0-serving-core.yaml", "istio-1.1.3.yaml"]:  # block scalars too
            with self.subTest(file=name):
                data = read(corpus(name))
                self.assertNotIn(b"\r", data)
                src = write(self.tmp.sub("crlf", name), data.replace(b"\n", b"\r\n"))
                out_dir = self.tmp.sub("out")
                self.rewrite_to(src, out_dir)
                dst = os.path.join(out_dir, name)
                out = read(dst)
                self.assertEqual(out.count(b"\n"), data.count(b"\n"))
                self.assertEqual(out.count(b"\r\n"), out.count(b"\n"), "a bare LF appeared")
                self.assertEqual(out.count(b"\r"), out.count(b"\r\n"), "a bare CR appeared")
                pairs = self.assert_surgical(src, dst)
                self.assertGreater(len(pairs), 0)
                for _, after in pairs:
                    self.assertNotIn("\r", after["text"])
                    self.assertTrue(after["reference"].startswith(MIRROR + "/"), after)


QUOTING_YAML = (
    "# leading comment, before any document\n"
    "---\n"
    "# a document with only comments\n"
    "#   image: gcr.io/not/a-document:v1\n"
    "---\n"
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata:\n"
    "  name: quoting   \n"                      # trailing spaces
    "  namespace: test\n"
    "spec:\n"
    "  template:\n"
    "    spec:\n"
    "      containers:\n"
    "         - name: plain\n"                  # odd indentation
    "           image: gcr.io/knative-releases/knative.dev/serving/cmd/controller:v1.23.0   \n"
    "         - name: single\n"
    "           image: 'docker.io/istio/pilot:1.1.3'  # trailing comment\n"
    "         - name: double\n"
    "           image:   \"quay.io/istio/proxyv2:1.1.3\"\n"
    "         - {name: flow, image: docker.io/library/nginx:1.25}\n"
    "      initContainers:\n"
    "      -   name: pinned\n"
    "          image: gcr.io/knative-releases/knative.dev/serving/cmd/webhook@sha256:"
    "3846e9a416665c5b9ec2e4de246cfcb5c4ab0d01ba19348aa008caf30144b650\n"
    "---   # separator with a comment\n"
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: istio-sidecar-injector\n"
    "  namespace: istio-system\n"
    "data:\n"
    "  config: |-\n"
    "    policy: enabled\n"
    "    template: |-\n"
    "      containers:\n"
    "      - name: istio-proxy\n"
    "        image: \"docker.io/istio/proxyv2:1.1.3\"\n"
    "        args: [\"proxy\", \"sidecar\"]\n"
    "  folded: >\n"
    "    image: quay.io/coreos/kube-rbac-proxy:v0.3.0 (folded)\n"
    "  queue-sidecar-image: \"gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0\"\n"
    "...\n"
    "# trailing comment after the document end marker\n"
)


class TestQuotingStyles(RewriteTestCase):
    """Item 3: plain, single- and double-quoted, flow, block scalars, comments, odd indentation."""

    def test_bytes_outside_references_stay_identical(self):
        src = write(self.tmp.sub("in", "quoting.yaml"), QUOTING_YAML)
        out_dir = self.tmp.sub("out")
        self.rewrite_to(src, out_dir)
        dst = os.path.join(out_dir, "quoting.yaml")
        pairs = self.assert_surgical(src, dst)
        paths = [b["path"] for _, b in pairs]
        self.assertEqual(paths, [
            "spec.template.spec.containers[0].image", "spec.template.spec.containers[1].image",
            "spec.template.spec.containers[2].image", "spec.template.spec.containers[3].image",
            "spec.template.spec.initContainers[0].image",
            "data.config", "data.folded", "data.queue-sidecar-image"])
        for _, after in pairs:
            self.assertTrue(after["reference"].startswith(MIRROR + "/"), after)
        text = read(dst).decode()
        # quotes, comments and spacing around each reference are still there
        self.assertIn(f"image: '{MIRROR}/istio-pilot:1.1.3'  # trailing comment\n", text)
        self.assertRegex(text, r'image:   "mirror\.example\.com/knative/[^"]+:1\.1\.3"\n')
        self.assertIn(f"image: {MIRROR}/serving-controller:v1.23.0   \n", text)
        self.assertIn("#   image: gcr.io/not/a-document:v1\n", text)  # comments are not rewritten
        # docker.io/istio/proxyv2 and quay.io/istio/proxyv2 must not land on one flattened name
        proxies = {b["reference"] for a, b in pairs if a["reference"].endswith("/istio/proxyv2:1.1.3")}
        self.assertEqual(len(proxies), 2, proxies)

    def test_quoted_reference_with_escapes_is_refused_not_mangled(self):
        src = write(self.tmp.sub("in", "escaped.yaml"),
                    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n"
                    "  - name: a\n    image: \"docker.io\\/istio\\/pilot:1.1.3\"\n")
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", src, *TO, "-o", out_dir)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn(f"{src}:8:12:", r.err)
        self.assertIn("escapes", r.err)
        self.assertFalse(os.path.exists(out_dir))


def lock_manifest(rel):
    """A release file naming the ten images of release.knative_like_release: Deployment containers
    (tag, digest and tag@digest references), an env value, a ConfigMap queue-sidecar-image."""
    ctl, web, act, aut, que, nic, niw, pxy, pil, qpx = rel

    def name(image):
        return image.source.rsplit(":", 1)[0]

    return f"""# a Knative-like release, for the lock tests
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
  namespace: knative-serving
spec:
  template:
    spec:
      containers:
      - name: controller
        image: {ctl.source}
        env:
        - name: ISTIO_PROXY_IMAGE
          value: "{pxy.source}"
      - name: webhook
        image: '{name(web)}@{web.artifact.digest}'
      - name: activator
        image: {act.source}@{act.artifact.digest}
      - name: autoscaler
        image: {aut.source}   # trailing comment
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: net-istio
  namespace: knative-serving
spec:
  template:
    spec:
      containers:
      - {{name: controller, image: {nic.source}}}
      - name: webhook
        image: "{niw.source}"
      - name: pilot
        image: {pil.source}
      - name: quay-proxy
        image: {qpx.source}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: config-deployment
  namespace: knative-serving
data:
  queue-sidecar-image: {que.source}
"""


class TestLockRewrite(RewriteTestCase):
    """Items 4 and 5: a lock from a real `ferry mirror` into a second local registry."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        stack = contextlib.ExitStack()
        cls.addClassCleanup(stack.close)
        cls.upstream = stack.enter_context(Registry())
        cls.target = stack.enter_context(Registry())
        cls.work = stack.enter_context(Ferry())
        cls.release = release.knative_like_release(cls.upstream)
        cls.manifest = write(cls.work.path("release/knative.yaml"), lock_manifest(cls.release))
        cls.lock = cls.work.path("images.lock")
        cls.prefix = f"{cls.target.host}/mirror"
        cls.mirror = cls.work.run("mirror", "-f", cls.manifest, "--to", cls.prefix, "--naming", "flatten",
                                  "--lock", cls.lock, *release.source_mirror_flags(cls.upstream))

    def setUp(self):
        super().setUp()
        self.assertEqual(self.mirror.code, 0, str(self.mirror))
        with open(self.lock) as f:
            self.lock_doc = json.load(f)
        self.by_source = {e["source"]: e for e in self.lock_doc["images"]}

    def test_mirror_found_all_ten_images(self):
        digests = {i.artifact.digest for i in self.release}
        self.assertEqual(len(self.by_source), 10, sorted(self.by_source))
        self.assertEqual({e["digest"] for e in self.lock_doc["images"]}, digests)

    def rewrite_with_lock(self, *extra):
        out_dir = self.tmp.sub("out" + "".join(extra))
        r = self.ferry.run("rewrite", "-f", self.manifest, "--lock", self.lock, "-o", out_dir, *extra)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("10 reference(s) rewritten", r.out)
        return out_dir, os.path.join(out_dir, "knative.yaml")

    def assert_mapped(self, pairs, pin):
        for before, after in pairs:
            entry = self.by_source[before["reference"]]
            _, _, src_tag, src_digest = split_ref(before["reference"])
            target_name = entry["target"].split("@")[0]
            t_host, t_repo, t_tag, _ = split_ref(target_name)
            if src_digest:  # digest references stay digest-pinned, tag kept only if it was written
                expected = f"{t_host}/{t_repo}{':' + src_tag if src_tag else ''}@{entry['digest']}"
            else:
                expected = entry["target"] if pin else target_name
            self.assertEqual(after["text"], expected, before["reference"])
            # what the rewritten file names really is at the target, with the lock's digest
            host, repo, tag, digest = split_ref(after["reference"])
            self.assertEqual(host, self.target.host)
            self.assertTrue(repo.startswith("mirror/"), repo)
            for ref in filter(None, [tag, digest]):
                self.assertEqual(self.target.manifest_digest(repo, ref), entry["digest"], after["reference"])

    def test_tag_references_become_target_tag_and_digest_references_stay_pinned(self):
        out_dir, dst = self.rewrite_with_lock()
        pairs = self.assert_surgical(self.manifest, dst)
        self.assertEqual(len(pairs), 10)
        self.assert_mapped(pairs, pin=False)
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", self.prefix + "/")
        self.assertEqual(r.code, 0, str(r))

    def test_pin_digests_writes_tag_at_digest(self):
        out_dir, dst = self.rewrite_with_lock("--pin-digests")
        pairs = self.assert_surgical(self.manifest, dst)
        self.assert_mapped(pairs, pin=True)
        for _, after in pairs:
            self.assertRegex(after["reference"], r"@sha256:[0-9a-f]{64}$")
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", self.prefix + "/")
        self.assertEqual(r.code, 0, str(r))

    def test_a_commented_example_missing_from_the_lock_is_left_alone(self):
        # `ferry mirror` leaves commented examples out unless --include-optional, so a lock-based
        # rewrite must not demand them: it leaves them as written.
        extra = ("---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-observability\n"
                 "  namespace: knative-serving\ndata:\n  _example: |\n"
                 "    # logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4\n")
        src = write(self.tmp.sub("in", "knative.yaml"), read(self.manifest) + extra.encode())
        before = self.occurrences(src)
        self.assertEqual([o["confidence"] for o in before].count("optional"), 1)
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", src, "--lock", self.lock, "-o", out_dir)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("10 reference(s) rewritten", r.out)
        pairs = self.assert_surgical(src, os.path.join(out_dir, "knative.yaml"))
        for a, b in pairs:
            if a["confidence"] == "optional":
                self.assertEqual(b["text"], a["text"])
            else:
                self.assertNotEqual(b["text"], a["text"])

    def test_lock_lacking_references_lists_every_one_and_writes_nothing(self):
        dropped = sorted(s for s in self.by_source if "queue" in s or "proxyv2" in s or "@" in s)
        self.assertEqual(len(dropped), 5, dropped)  # queue, 2 proxyv2, webhook@, activator:tag@
        partial = dict(self.lock_doc, images=[e for s, e in sorted(self.by_source.items()) if s not in dropped])
        lock = write(self.tmp.sub("partial.lock"), json.dumps(partial, indent=2))
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", self.manifest, "--lock", lock, "-o", out_dir)
        self.assertNotEqual(r.code, 0, str(r))
        self.assertIn("lacks 5 reference(s)", r.err)
        listed = [line.strip() for line in r.err.splitlines() if line.startswith("  ")]
        self.assertEqual(sorted(listed), dropped)
        self.assertIn("nothing was written", r.err)
        self.assertTrue(not os.path.exists(out_dir) or os.listdir(out_dir) == [], "output written anyway")
        self.assertEqual(r.out, "")

        # --in-place with the same lock leaves the file as it was
        copy = write(self.tmp.sub("inplace", "knative.yaml"), read(self.manifest))
        r = self.ferry.run("rewrite", "-f", copy, "--lock", lock, "--in-place")
        self.assertNotEqual(r.code, 0, str(r))
        self.assertEqual(read(copy), read(self.manifest))
        self.assertEqual(os.listdir(self.tmp.sub("inplace")), ["knative.yaml"])


class TestInPlace(RewriteTestCase):
    """Item 6."""

    FILES = {"knative-serving-v1.23.0-serving-core.yaml": 0o640, "net-kourier-v1.23.yaml": 0o604,
             "sub/knative-serving-v1.23.0-serving-hpa.yml": 0o755}

    def make_tree(self):
        root = self.tmp.sub("release")
        for rel, mode in self.FILES.items():
            name = os.path.basename(rel).replace(".yml", ".yaml")
            write(os.path.join(root, rel), read(corpus(name)), mode)
        return root

    def snapshot(self, root):
        out = {}
        for dirpath, _, names in os.walk(root):
            for n in names:
                p = os.path.join(dirpath, n)
                out[os.path.relpath(p, root)] = (read(p), stat.S_IMODE(os.stat(p).st_mode))
        return out

    def test_files_are_replaced_and_keep_their_permissions(self):
        root = self.make_tree()
        r = self.ferry.run("rewrite", "-f", root, *TO, "--in-place")
        self.assertEqual(r.code, 0, str(r))
        after = self.snapshot(root)
        self.assertEqual(sorted(after), sorted(self.FILES))  # no temp files left behind
        for rel, mode in self.FILES.items():
            with self.subTest(file=rel):
                path = os.path.join(root, rel)
                self.assertEqual(after[rel][1], mode, f"{rel}: permissions changed")
                original = corpus(os.path.basename(rel).replace(".yml", ".yaml"))
                pairs = self.assert_surgical(original, path, before=self.occurrences(original),
                                             after=self.occurrences(path))
                self.assertTrue(pairs and all(b["reference"].startswith(MIRROR + "/") for _, b in pairs))

    def test_a_malformed_file_among_the_inputs_modifies_nothing(self):
        root = self.make_tree()
        # sorted last, so a rewrite that went file by file would already have replaced the others
        write(os.path.join(root, "zz-broken.yaml"),
              "apiVersion: v1\nkind: Pod\nmetadata:\n  name: broken\nspec:\n  containers:\n"
              "  - name: a\n   image: docker.io/library/alpine:3.6\n")
        before = self.snapshot(root)
        r = self.ferry.run("rewrite", "-f", root, *TO, "--in-place")
        self.assertNotEqual(r.code, 0, str(r))
        self.assertRegex(r.err, re.escape(os.path.join(root, "zz-broken.yaml")) + r":8:4: malformed YAML")
        self.assertEqual(self.snapshot(root), before)

    # Rewriting is idempotent: references already under the --to prefix are left alone.
    def test_running_in_place_twice_changes_nothing_the_second_time(self):
        for naming in ("flatten", "preserve"):
            with self.subTest(naming=naming):
                path = write(self.tmp.sub(naming, "hpa.yaml"), read(corpus("knative-serving-v1.23.0-serving-hpa.yaml")))
                r = self.ferry.run("rewrite", "-f", path, "--to", MIRROR, "--naming", naming, "--in-place")
                self.assertEqual(r.code, 0, str(r))
                once = read(path)
                r = self.ferry.run("rewrite", "-f", path, "--to", MIRROR, "--naming", naming, "--in-place")
                self.assertEqual(r.code, 0, str(r))
                self.assertEqual(read(path).decode(), once.decode())


class TestBadInput(RewriteTestCase):
    """Item 7: each refused with a message naming the file (and line:column where there is one)."""

    POD = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n"
    CASES = {
        "malformed.yaml": (POD + "    image: [docker.io/library/alpine:3.6\n  - name: b\n",
                           r":\d+:\d+: malformed YAML"),
        "indent.yaml": (POD + "   image: docker.io/library/alpine:3.6\n", r":8:4: malformed YAML"),
        "sequence.yaml": ("- a\n- b\n", r":1:1: document 1 is a sequence, not a mapping"),
        "second-doc-scalar.yaml": (POD + "    image: docker.io/library/alpine:3.6\n---\njust text\n",
                                   r":10:1: document 2 is a scalar, not a mapping"),
        "latin1.yaml": (b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  a: caf\xe9\n",
                        r":6:9: invalid UTF-8 \(byte 0xE9\)"),
        "duplicate.yaml": (POD + "    image: docker.io/library/alpine:3.6\n    image: docker.io/library/nginx:1\n",
                           r":9:5: duplicate mapping key \"image\" \(first at line 8\)"),
    }

    def test_each_bad_file_is_refused_naming_the_file(self):
        for name, (text, message) in self.CASES.items():
            with self.subTest(file=name):
                path = write(self.tmp.sub("bad", name), text)
                good = write(self.tmp.sub("bad-" + name, "good.yaml"), self.POD + "    image: docker.io/a/b:1\n")
                for command in (["images"], ["rewrite", *TO, "-o", self.tmp.sub("out-" + name)]):
                    r = self.ferry.run(command[0], "-f", good, "-f", path, *command[1:])
                    self.assertNotEqual(r.code, 0, str(r))
                    self.assertRegex(r.err, "^ferry: error: " + re.escape(path) + message)
                self.assertFalse(os.path.exists(self.tmp.sub("out-" + name)), "output written anyway")

    def test_unreadable_inputs_are_refused(self):
        missing = self.tmp.sub("does-not-exist.yaml")
        dangling = self.tmp.sub("dangling.yaml")
        os.symlink(self.tmp.sub("nowhere.yaml"), dangling)
        cases = [missing, dangling]
        if os.geteuid() != 0:  # root reads a mode 000 file anyway
            cases.append(write(self.tmp.sub("mode000.yaml"), self.POD, 0o000))
        for path in cases:
            with self.subTest(path=path):
                for command in (["images"], ["rewrite", *TO, "-o", self.tmp.sub("out")]):
                    r = self.ferry.run(command[0], "-f", path, *command[1:])
                    self.assertNotEqual(r.code, 0, str(r))
                    self.assertRegex(r.err, "ferry: error: " + re.escape(path) + ": (no such file|cannot read)")
                self.assertFalse(os.path.exists(self.tmp.sub("out")))

    # A *.yaml entry in a directory that cannot be read is an error, never silently dropped.
    def test_an_unreadable_yaml_file_inside_a_directory_is_not_silently_dropped(self):
        root = self.tmp.sub("release")
        write(os.path.join(root, "a.yaml"), self.POD + "    image: docker.io/a/b:1\n")
        os.symlink(self.tmp.sub("nowhere.yaml"), os.path.join(root, "b.yaml"))
        r = self.ferry.run("rewrite", "-f", root, *TO, "-o", self.tmp.sub("out"))
        self.assertIn(os.path.join(root, "b.yaml"), r.err, str(r))

    def test_non_yaml_files_in_a_directory_are_skipped_and_said_so(self):
        root = self.tmp.sub("release")
        write(os.path.join(root, "core.yaml"), read(corpus("knative-serving-v1.23.0-serving-hpa.yaml")))
        write(os.path.join(root, "sub", "kourier.yml"), read(corpus("net-kourier-v1.23.yaml")))
        write(os.path.join(root, "empty.json"), "{}\n")
        write(os.path.join(root, "README.md"), "not a manifest: [\n")
        write(os.path.join(root, "sub", "SHA256SUMS"), "abc  core.yaml\n")
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", root, *TO, "-o", out_dir)
        self.assertEqual(r.code, 0, str(r))
        for skipped in ("README.md", "sub/SHA256SUMS"):
            self.assertIn(f"ferry: skipped {os.path.join(root, skipped)} (not a .yaml, .yml or .json file)", r.err)
        written = sorted(os.path.relpath(os.path.join(d, n), out_dir) for d, _, ns in os.walk(out_dir) for n in ns)
        self.assertEqual(written, ["core.yaml", "empty.json", "sub/kourier.yml"])
        self.assert_surgical(os.path.join(root, "sub", "kourier.yml"), os.path.join(out_dir, "sub", "kourier.yml"))

    # Two inputs with the same file name never overwrite each other in the output directory.
    def test_two_inputs_with_one_name_do_not_overwrite_each_other(self):
        a = write(self.tmp.sub("a", "release.yaml"), read(corpus("knative-serving-v1.23.0-serving-hpa.yaml")))
        b = write(self.tmp.sub("b", "release.yaml"), read(corpus("net-kourier-v1.23.yaml")))
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", a, "-f", b, *TO, "-o", out_dir)
        if r.code != 0:  # refusing is fine, if it says why and writes nothing
            self.assertIn("release.yaml", r.err)
            self.assertFalse(os.path.exists(out_dir) and os.listdir(out_dir))
            return
        written = self.occurrences(out_dir)
        self.assertEqual(len(written), len(self.occurrences(a)) + len(self.occurrences(b)), str(r))


class TestStandardInput(RewriteTestCase):
    """Item 8: `-f -` reads standard input; --in-place writes the result to standard output, -o DIR
    writes DIR/stdin.yaml."""

    NAME = "knative-serving-v1.23.0-serving-core.yaml"

    def test_stdin_in_place_writes_stdout(self):
        data = read(corpus(self.NAME))
        code, out, err = self.run_bytes("rewrite", "-f", "-", *TO, "--in-place", stdin=data)
        self.assertEqual(code, 0, err)
        expected_dir = self.tmp.sub("expected")
        self.rewrite_to(corpus(self.NAME), expected_dir)
        self.assertTrue(out == read(os.path.join(expected_dir, self.NAME)), "stdout is not the rewritten file")
        got = write(self.tmp.sub("got.yaml"), out)
        self.assert_surgical(corpus(self.NAME), got)

    def test_stdin_with_output_dir_writes_stdin_yaml(self):
        data = read(corpus(self.NAME)).replace(b"\n", b"\r\n")
        out_dir = self.tmp.sub("out")
        code, out, err = self.run_bytes("rewrite", "-f", "-", *TO, "-o", out_dir, stdin=data)
        self.assertEqual(code, 0, err)
        self.assertEqual(os.listdir(out_dir), ["stdin.yaml"])
        self.assertIn(b"standard input -> " + os.path.join(out_dir, "stdin.yaml").encode(), out)
        src = write(self.tmp.sub("src.yaml"), data)
        self.assert_surgical(src, os.path.join(out_dir, "stdin.yaml"))

    def test_malformed_stdin_is_named_standard_input(self):
        code, out, err = self.run_bytes("rewrite", "-f", "-", *TO, "--in-place",
                                        stdin=b"kind: Pod\nspec: [oops\n")
        self.assertNotEqual(code, 0)
        self.assertEqual(out, b"")
        self.assertRegex(err, r"ferry: error: standard input:\d+:\d+: malformed YAML")


class TestImagesOutput(RewriteTestCase):
    """Item 9."""

    CORE = "knative-serving-v1.23.0-serving-core.yaml"
    FIELDS = {"reference", "text", "file", "line", "column", "offset", "kind", "namespace", "name", "path",
              "confidence", "why", "templated"}

    def test_list_gives_the_five_distinct_core_references(self):
        r = self.ferry.run("images", "-f", corpus(self.CORE), "--output", "list")
        self.assertEqual(r.code, 0, str(r))
        lines = r.out.splitlines()
        self.assertEqual(len(lines), 5, r.out)
        self.assertEqual(len(set(lines)), 5)
        names = sorted(split_ref(line)[1].rsplit("/", 1)[1] for line in lines)
        self.assertEqual(names, ["activator", "autoscaler", "controller", "queue", "webhook"])
        for line in lines:
            self.assertRegex(line, r"^gcr\.io/knative-releases/knative\.dev/serving/cmd/[a-z]+@sha256:[0-9a-f]{64}$")

    def test_json_fields_point_at_the_bytes(self):
        path = corpus(self.CORE)
        data = read(path)
        found = self.occurrences(path)
        self.assertEqual(len(found), 6)  # the queue image twice: caching Image and the ConfigMap
        for o in found:
            self.assertEqual(set(o), self.FIELDS)
            self.assertEqual(o["file"], path)
            text = o["text"].encode()
            self.assertEqual(data[o["offset"]:o["offset"] + len(text)], text)
            self.assertEqual(o["line"], data.count(b"\n", 0, o["offset"]) + 1)
            self.assertEqual(o["column"], o["offset"] - (data.rfind(b"\n", 0, o["offset"]) + 1) + 1)
            self.assertEqual(o["namespace"], "knative-serving")
            self.assertIn(o["confidence"], ("certain", "likely", "optional"))
        by_path = {(o["kind"], o["name"], o["path"]) for o in found}
        self.assertIn(("ConfigMap", "config-deployment", "data.queue-sidecar-image"), by_path)
        self.assertIn(("Deployment", "activator", "spec.template.spec.containers[0].image"), by_path)
        self.assertIn(("Image", "queue-proxy", "spec.image"), by_path)

    def test_yaml_output_is_a_flat_list_of_flat_mappings(self):
        path = corpus(self.CORE)
        r = self.ferry.run("images", "-f", path, "--output", "yaml")
        self.assertEqual(r.code, 0, str(r))
        items = []
        for line in r.out.splitlines():
            if not line:
                continue
            self.assertRegex(line, r"^(- |  )\S")
            if line.startswith("- "):
                items.append({})
            key, sep, value = line[2:].partition(": ")
            self.assertEqual(sep, ": ", line)
            items[-1][key] = value
        found = self.occurrences(path)
        self.assertEqual(len(items), len(found))
        for item, o in zip(sorted(items, key=lambda i: int(i["offset"])), found):
            self.assertEqual(set(item), self.FIELDS)
            for key, value in o.items():
                self.assertEqual(item[key], value if isinstance(value, str) else json.dumps(value), key)

    def test_table_has_file_line_and_reference(self):
        path = corpus(self.CORE)
        r = self.ferry.run("images", "-f", path)
        self.assertEqual(r.code, 0, str(r))
        lines = r.out.splitlines()
        self.assertRegex(lines[0], r"^WHERE\s+CERTAINTY\s+REFERENCE$")
        self.assertEqual(lines[-1], "6 references, 5 distinct")
        rows = lines[1:-1]
        found = self.occurrences(path)
        self.assertEqual(len(rows), len(found))
        for row, o in zip(rows, found):
            self.assertTrue(row.startswith(f"{path}:{o['line']} "), row)
            self.assertTrue(row.endswith(f" {o['reference']}"), row)
            self.assertIn(f" {o['confidence']} ", row)


def profile_files(ferry, profile):
    """(name, sha256) of each file of a built-in profile, from `ferry manifests list`."""
    r = ferry.run("manifests", "list")
    assert r.code == 0, str(r)
    files, current, name = [], None, None
    for line in r.out.splitlines():
        if line and not line.startswith(" "):
            current = line.strip()
        elif current == profile and re.fullmatch(r"    \S+\.yaml", line):
            name = line.strip()
        elif current == profile and name and line.strip().startswith("sha256:"):
            files.append((name, line.split("sha256:", 1)[1].strip()))
            name = None
    return files


class TestProfiles(RewriteTestCase):
    """Item 10."""

    PROFILE = "knative-1.23-kourier"

    def test_profile_lists_the_union_of_its_files(self):
        files = profile_files(self.ferry, self.PROFILE)
        self.assertEqual(sorted(n for n, _ in files), sorted([
            "knative-serving-v1.23.0-serving-crds.yaml", "knative-serving-v1.23.0-serving-core.yaml",
            "net-kourier-v1.23.yaml", "knative-serving-v1.23.0-serving-hpa.yaml",
            "knative-serving-v1.23.0-serving-post-install-jobs.yaml"]))
        r = self.ferry.run("images", "--profile", self.PROFILE, "--manifests-dir", corpus_dir(), "--output", "list")
        self.assertEqual(r.code, 0, str(r))
        got = r.out.splitlines()
        self.assertEqual(len(got), len(set(got)), "list repeats a reference")
        union = set()
        for name, _ in files:
            each = self.ferry.run("images", "-f", corpus(name), "--output", "list")
            self.assertEqual(each.code, 0, str(each))
            union |= set(each.out.splitlines())
        self.assertEqual(set(got), union)
        self.assertEqual(len(got), 10)  # 5 core + autoscaler-hpa + migrate + cleanup + kourier + envoy
        self.assertIn("docker.io/envoyproxy/envoy:v1.37-latest", got)

    def test_a_modified_file_is_named_with_both_sums(self):
        files = dict(profile_files(self.ferry, self.PROFILE))
        root = self.tmp.sub("manifests", mkdir=True)
        for name in files:
            write(os.path.join(root, name), read(corpus(name)))
        tampered = os.path.join(root, "net-kourier-v1.23.yaml")
        write(tampered, read(tampered) + b"# changed\n")
        got = hashlib.sha256(read(tampered)).hexdigest()
        for command in (["images", "--output", "list"], ["rewrite", *TO, "-o", self.tmp.sub("out")]):
            with self.subTest(command=command[0]):
                r = self.ferry.run(command[0], "--profile", self.PROFILE, "--manifests-dir", root, *command[1:])
                self.assertNotEqual(r.code, 0, str(r))
                self.assertIn("net-kourier-v1.23.yaml", r.err)
                self.assertIn(files["net-kourier-v1.23.yaml"], r.err)
                self.assertIn(got, r.err)
                self.assertEqual(r.out, "")
        self.assertFalse(os.path.exists(self.tmp.sub("out")))


# A small synthetic release holding each kind of look-alike the finder once took for an image, and
# one real image of each shape around them.
LOOKALIKES = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: webhook:system:auth-delegator
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: system:auth-delegator
subjects:
- kind: ServiceAccount
  name: webhook
  namespace: knative-serving
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: pilot
  namespace: istio-system
spec:
  template:
    spec:
      containers:
      - name: discovery
        image: docker.io/istio/pilot:1.1.3
        args:
        - discovery
        - --log_output_level=default:info
        - --proxyComponentLogLevel
        - misc:error
        - --discoveryAddress=istio-pilot.istio-system:15010
        env:
        - name: HELPER_IMAGE
          value: "alpine:3.6"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: controller
  namespace: knative-serving
spec:
  template:
    spec:
      containers:
      - name: controller
        image: "gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}"
"""


class TestPrecision(RewriteTestCase):
    """Issue 14: what is not an image is never rewritten; templated values are reported, not rewritten."""

    def setUp(self):
        super().setUp()
        self.src = write(self.tmp.sub("in", "release.yaml"), LOOKALIKES)

    def test_images_finds_the_real_images_and_reports_the_templated_one(self):
        found = self.occurrences(self.src)
        self.assertEqual([(o["reference"], o["templated"]) for o in found],
                         [("docker.io/istio/pilot:1.1.3", False), ("docker.io/library/alpine:3.6", False),
                          (None, True)])
        templated = found[2]
        self.assertEqual(templated["text"], "gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}")
        self.assertEqual((templated["line"], templated["column"]), (45, 17))
        r = self.ferry.run("images", "-f", self.src, "--output", "list")
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(r.out.splitlines(), ["docker.io/istio/pilot:1.1.3", "docker.io/library/alpine:3.6"])
        self.assertIn(f"{self.src}:45:17: templated reference, left out:", r.err)
        r = self.ferry.run("images", "-f", self.src)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("(templated, not rewritten)", r.out)
        self.assertIn(f"warning: {self.src}:45:17: templated reference, not rewritten", r.err)
        self.assertEqual(r.out.splitlines()[-1], "2 references, 2 distinct")

    def test_rewrite_changes_only_the_real_images(self):
        out_dir = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", self.src, *TO, "-o", out_dir)
        self.assertEqual(r.code, 0, str(r))
        self.assertIn("2 reference(s) rewritten", r.out)
        self.assertIn(f"{self.src}:45:17: templated reference, not rewritten", r.err)
        out = read(os.path.join(out_dir, "release.yaml")).decode()
        after = {o["text"] for o in self.occurrences(os.path.join(out_dir, "release.yaml")) if not o["templated"]}
        self.assertEqual(len(after), 2)
        for text in after:
            self.assertTrue(text.startswith(MIRROR + "/"), text)
        for line in ("  name: system:auth-delegator", "- --log_output_level=default:info", "- misc:error",
                     "- --discoveryAddress=istio-pilot.istio-system:15010",
                     'image: "gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}"'):
            self.assertIn(line, out)
        self.assertEqual(len(out.splitlines()), len(LOOKALIKES.splitlines()))
        self.assert_surgical(self.src, os.path.join(out_dir, "release.yaml"))

    def test_check_fails_on_a_templated_reference_unless_allowed(self):
        out_dir = self.tmp.sub("out")
        self.rewrite_to(self.src, out_dir)
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", MIRROR + "/")
        self.assertEqual(r.code, 1, str(r))
        self.assertRegex(r.out, r"release\.yaml:45:17: templated reference, not rewritten: gcr\.io/\S+:\{\{ \.Values\.tag \}\} "
                                r"\(spec\.template\.spec\.containers\[0\]\.image\)")
        self.assertEqual(len(r.out.splitlines()), 1, r.out)
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", MIRROR + "/", "--allow-templated")
        self.assertEqual(r.code, 0, str(r))
        r = self.ferry.run("rewrite", "-f", out_dir, "--check", "--allow", MIRROR + "/", "--allow", "gcr.io/knative-releases/")
        self.assertEqual(r.code, 0, str(r))  # an allowed prefix covers the templated text too


class TestErrorsPrintNothing(RewriteTestCase):
    """Issue 14 item 4: a run that fails prints nothing on stdout, in every output format."""

    def test_every_output_mode_is_silent_on_stdout_when_a_later_file_fails(self):
        good = write(self.tmp.sub("in", "a-good.yaml"), "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n")
        bad = write(self.tmp.sub("in", "b-bad.yaml"), "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/c:1\n"
                                                       "---\nkind: Pod\nspec: [oops\n")
        runs = [["images", "--output", mode] for mode in ("table", "json", "yaml", "list")]
        runs += [["rewrite", "--check", "--allow", "x/"], ["rewrite", "--check", "--allow", "x/", "--output", "json"],
                 ["rewrite", *TO, "-o", self.tmp.sub("out")], ["rewrite", *TO, "-o", self.tmp.sub("out"), "--output", "json"]]
        for args in runs:
            with self.subTest(args=args):
                r = self.ferry.run(args[0], "-f", good, "-f", bad, *args[1:])
                self.assertEqual(r.code, 1, str(r))
                self.assertEqual(r.out, "")
                self.assertRegex(r.err, "ferry: error: " + re.escape(bad) + r":8:1: malformed YAML")
        self.assertFalse(os.path.exists(self.tmp.sub("out")))


class TestCommentedExamples(RewriteTestCase):
    """Issue 14 item 4: a commented _example reference is rewritten the same way in every run."""

    EXAMPLE = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-observability\n"
               "  namespace: knative-serving\ndata:\n  _example: |\n"
               "    # logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4\n")
    USER = ("apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: fluentd\nspec:\n  template:\n"
            "    spec:\n      containers:\n      - image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4\n")

    def test_the_example_is_left_alone_alone_or_with_a_file_that_uses_the_same_image(self):
        example = write(self.tmp.sub("in", "observability.yaml"), self.EXAMPLE)
        user = write(self.tmp.sub("in2", "monitoring.yaml"), self.USER)
        for inputs in ([example], [example, user]):
            for optional in ((), ("--include-optional",)):
                with self.subTest(files=len(inputs), flags=optional):
                    out_dir = self.tmp.sub("out-%d%s" % (len(inputs), "".join(optional)))
                    args = [a for p in inputs for a in ("-f", p)]
                    r = self.ferry.run("rewrite", *args, *TO, "-o", out_dir, *optional)
                    self.assertEqual(r.code, 0, str(r))
                    written = read(os.path.join(out_dir, "observability.yaml")).decode()
                    if optional:
                        self.assertNotIn("# logging.fluentd-sidecar-image: k8s.gcr.io/", written)
                        self.assertIn(MIRROR + "/", written)
                    else:
                        self.assertEqual(written, self.EXAMPLE)
                    if len(inputs) == 2:  # the image in use moves in every case
                        self.assertIn(MIRROR + "/", read(os.path.join(out_dir, "monitoring.yaml")).decode())


if __name__ == "__main__":
    unittest.main()
