"""Memory of `ferry images` and `ferry rewrite` follows the largest document, not the manifest set:
on a generated 50 MB set (ten files of many Knative-shaped documents) peak RSS stays far below the
set's size, and the rewrite still changes only reference bytes."""

import os
import unittest

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase

MB = 1000 * 1000
IMAGES = [f"gcr.io/knative-releases/knative.dev/serving/cmd/{name}:v1.23.0"
          for name in ("controller", "webhook", "activator", "autoscaler", "queue")]


def deployment(i):
    image = IMAGES[i % len(IMAGES)]
    padding = "".join(f"    note-{j}: \"{'x' * 60}\"\n" for j in range(40))  # ~3 KB of labels
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{i}\n  namespace: ns-{i % 7}\n"
            f"  annotations:\n{padding}spec:\n  template:\n    spec:\n      containers:\n"
            f"      - name: app\n        image: {image}\n        env:\n        - name: QUEUE_IMAGE\n"
            f"          value: {IMAGES[4]}\n")


def write_set(directory, total_bytes, files=10):
    written = 0
    for f in range(files):
        with open(os.path.join(directory, f"part-{f:02d}.yaml"), "w") as out:
            i = 0
            while written < total_bytes * (f + 1) / files:
                doc = ("---\n" if i else "") + deployment(f * 100000 + i)
                out.write(doc)
                written += len(doc)
                i += 1
    return written


class TestManifestMemory(ServerTestCase):
    LIMIT_KB = 64 * 1024

    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())
        self.release = self.tmp.sub("release", mkdir=True)
        self.size = write_set(self.release, 50 * MB)

    def test_images_on_a_50_mb_set_stays_small(self):
        r = self.ferry.run("images", "-f", self.release, "--output", "list", measure=True)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(sorted(r.out.split()), sorted(IMAGES))
        self.assertLess(r.max_rss_kb, self.LIMIT_KB, f"peak RSS {r.max_rss_kb} kB for a {self.size} byte set")

    def test_rewrite_on_a_50_mb_set_stays_small_and_surgical(self):
        out = self.tmp.sub("out")
        r = self.ferry.run("rewrite", "-f", self.release, "--to", "mirror.example.com/knative", "--naming",
                           "flatten", "-o", out, measure=True)
        self.assertEqual(r.code, 0, str(r))
        self.assertLess(r.max_rss_kb, self.LIMIT_KB, f"peak RSS {r.max_rss_kb} kB for a {self.size} byte set")
        name = "part-03.yaml"
        with open(os.path.join(self.release, name)) as f:
            before = f.read()
        with open(os.path.join(out, name)) as f:
            after = f.read()
        self.assertNotIn("gcr.io/", after)
        for image in IMAGES:
            flat = image.split("/cmd/")[1].split(":")[0]
            after = after.replace(f"mirror.example.com/knative/serving-{flat}:v1.23.0", image)
        self.assertEqual(after, before)


if __name__ == "__main__":
    unittest.main()
