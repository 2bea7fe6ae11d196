"""Memory test for `ferry copy`: a 1 GiB layer goes registry -> registry while ferry's peak RSS stays
under 64 MB (memory must not grow with the size of a blob). Kept apart from test_copy.py so each
script stays fast; the layer is random, incompressible data generated and pushed as a stream."""

import json
import unittest

from ferrytest import images
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase

GIB = 1 << 30
RSS_LIMIT_KB = 64 * 1000  # 64 MB


class TestCopyMemory(ServerTestCase):
    def test_one_gib_layer_copies_in_constant_memory(self):
        src, dst = self.use(Registry()), self.use(Registry())
        ferry = self.use(Ferry())
        image = images.push_large_image(src, "big/app", "v1", GIB, seed="memory")
        layer = json.loads(image.raw)["layers"][0]
        r = ferry.run("copy", "--output", "json", f"{src.host}/big/app:v1", f"{dst.host}/big/app:v1",
                      measure=True)
        self.assertEqual(r.code, 0, str(r))
        self.assertEqual(r.json()["digest"], image.digest)
        self.assertEqual(dst.manifest_digest("big/app", "v1"), image.digest)
        self.assertTrue(dst.has_blob("big/app", layer["digest"]))
        self.assertGreaterEqual(r.json()["bytes"]["copied"], GIB)
        self.assertIsNotNone(r.max_rss_kb, "could not read the peak RSS")
        self.assertLess(r.max_rss_kb, RSS_LIMIT_KB, f"ferry peaked at {r.max_rss_kb} kB copying 1 GiB")


if __name__ == "__main__":
    unittest.main()
