"""ferry's YAML -> JSON (installer/yaml_json, what `ferry install` sends the API server) against
kubectl's, document by document: every release file of the corpus and data/yaml_edge_cases.yaml
(YAML 1.1 booleans, octal, sexagesimal, ~, merge keys, anchors, large integers, timestamps).

kubectl's side: `kubectl annotate --local -f FILE -o json ferry-unused-`. `kubectl create
--dry-run=client` would print the same objects, but it needs a server even then: it asks discovery
for every kind (and the corpus's custom resources have no CRD installed); --local goes through the
same reading (sigs.k8s.io/yaml, then unstructured objects) without one. Removing an annotation that
is not there changes nothing but an empty `metadata.annotations`, which is dropped before comparing.

Equal means equal as the API server would decode it: numbers compared by value and by kind (an
integer literal that fits int64 is an integer, anything else a float64), booleans never equal to
numbers."""

import json
import os
import re
import shutil
import subprocess
import unittest

from ferrytest.util import corpus_dir

HERE = os.path.dirname(os.path.abspath(__file__))
EDGE_CASES = os.path.join(HERE, "data", "yaml_edge_cases.yaml")


def go_number(text):
    """How an unstructured decoder reads a JSON integer literal: int64, else float64."""
    value = int(text)
    return value if -(2 ** 63) <= value < 2 ** 63 else float(text)


def parse_stream(text):
    """The JSON values in `text`, one after another (kubectl prints them pretty, back to back)."""
    decoder = json.JSONDecoder(parse_int=go_number)
    values, pos = [], 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


def differences(a, b, path="$"):
    """Paths where a and b differ, with types compared strictly."""
    if type(a) is not type(b):
        return [f"{path}: kubectl {a!r} ({type(a).__name__}), ferry {b!r} ({type(b).__name__})"]
    if isinstance(a, dict):
        out = [f"{path}.{k}: only in {'kubectl' if k in a else 'ferry'}" for k in sorted(set(a) ^ set(b))]
        for k in sorted(set(a) & set(b)):
            out += differences(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: kubectl has {len(a)} items, ferry {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: kubectl {a!r}, ferry {b!r}"]


@unittest.skipUnless(shutil.which("kubectl"), "kubectl is not installed")
class YamlLikeKubectlTest(unittest.TestCase):
    def kubectl(self, path):
        # Current kubectl refuses a whole file for a `--- null` separator (Serving 0.6's monitoring
        # release has three), which the kubectl of its day read as `---` and an empty document;
        # it is given that file so. ferry reads `--- null` as an empty document as well.
        with open(path) as f:
            text = re.sub(r"(?m)^--- null$", "---", f.read())
        r = subprocess.run(["kubectl", "annotate", "--local", "-o", "json", "-f", "-", "ferry-unused-"],
                           input=text, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, KUBECONFIG=os.devnull))
        return r.returncode, r.stdout, r.stderr

    def ferry(self, path):
        r = subprocess.run([os.environ["FERRY_YAML_TO_JSON"], path], capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout, r.stderr

    def assert_same_json(self, path):
        code, out, err = self.kubectl(path)
        self.assertEqual(code, 0, f"kubectl could not read {path}: {err}")
        theirs = parse_stream(out)
        code, out, err = self.ferry(path)
        self.assertEqual(code, 0, f"ferry could not read {path}: {err}")
        ours = parse_stream(out)
        self.assertEqual(len(theirs), len(ours), f"{path}: kubectl read {len(theirs)} objects, ferry {len(ours)}")
        for theirs_doc, ours_doc in zip(theirs, ours):
            meta, our_meta = theirs_doc.get("metadata"), ours_doc.get("metadata") or {}
            if isinstance(meta, dict) and meta.get("annotations") == {} and our_meta.get("annotations") in (None, {}):
                # `annotate` makes an absent or null annotations map an empty one; reading does not
                if "annotations" in our_meta:
                    meta["annotations"] = our_meta["annotations"]
                else:
                    del meta["annotations"]
            name = f"{path}: {theirs_doc.get('kind')} {(meta or {}).get('name')}"
            self.assertEqual(differences(theirs_doc, ours_doc), [], name)
        return len(ours)

    def test_every_corpus_document(self):
        files = sorted(f for f in os.listdir(corpus_dir()) if f.endswith(".yaml"))
        self.assertTrue(files, "no release files in the corpus")
        total = 0
        for name in files:
            with self.subTest(file=name):
                total += self.assert_same_json(os.path.join(corpus_dir(), name))
        self.assertGreater(total, 100)

    def test_edge_cases(self):
        self.assertEqual(self.assert_same_json(EDGE_CASES), 7)

    def test_infinity_and_nan_are_refused_by_both(self):
        for value in (".inf", "-.Inf", ".nan"):
            with self.subTest(value=value):
                path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"ferry-yaml-{os.getpid()}.yaml")
                with open(path, "w") as f:
                    f.write(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  v: {value}\n")
                try:
                    self.assertNotEqual(self.kubectl(path)[0], 0)
                    code, _, err = self.ferry(path)
                    self.assertNotEqual(code, 0)
                    self.assertIn(f"{path}:6:6:", err)
                finally:
                    os.remove(path)


if __name__ == "__main__":
    unittest.main()
