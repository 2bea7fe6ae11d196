"""The air-gap path end to end: on the connected side `ferry bundle save` packs a release (its images
read from a registry, its release file), on the inside `ferry bundle load` pushes it into another
registry, and `ferry rewrite` points the release file at it. Every digest survives, and the names
are the ones `ferry mirror` would have given."""

import json
import os
import unittest

from ferrytest import release
from ferrytest.ferry import Ferry
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase


def release_file(images):
    docs = []
    for image in images:
        name = image.source.rsplit(":", 1)[0]
        ref = f"{name}@{image.artifact.digest}" if name.startswith("gcr.io") else image.source
        short = name.rsplit("/", 1)[-1]
        docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {short}\nspec:\n  template:\n"
                    f"    spec:\n      containers:\n      - name: {short}\n        image: {ref}\n")
    return "# release\n" + "---\n".join(docs)


class TestBundleRoundTrip(ServerTestCase):
    def test_save_load_rewrite_keeps_every_digest(self):
        ferry = self.use(Ferry())
        upstream, inside, online = self.use(Registry()), self.use(Registry()), self.use(Registry())
        images = release.knative_like_release(upstream)
        manifest = self.tmp.sub("release.yaml")
        with open(manifest, "w") as f:
            f.write(release_file(images))
        archive = self.tmp.sub("knative.tar.zst")

        saved = ferry.run("bundle", "save", "-f", manifest, "-o", archive, "--split-size", "40K",
                          *release.source_mirror_flags(upstream))
        self.assertEqual(saved.code, 0, str(saved))
        self.assertTrue(os.path.exists(archive + ".001"), "the split produced one part only")

        lock = self.tmp.sub("inside.lock")
        loaded = ferry.run("bundle", "load", archive + ".000", "--to", f"{inside.host}/mirror",
                           "--naming", "flatten", "--lock", lock)
        self.assertEqual(loaded.code, 0, str(loaded))
        with open(lock) as f:
            entries = {e["source"]: e for e in json.load(f)["images"]}
        self.assertEqual(len(entries), len(images))
        for image in images:
            source = image.source if not image.source.startswith("gcr.io") else \
                f"{image.source.rsplit(':', 1)[0]}@{image.artifact.digest}"
            entry = entries[source]
            self.assertEqual(entry["digest"], image.artifact.digest)
            repo = entry["target"].split("/", 1)[1].split("@")[0].split(":")[0]
            self.assertEqual(inside.manifest_digest(repo, image.artifact.digest), image.artifact.digest)

        # The names are the ones ferry mirror gives the same release online.
        online_lock = self.tmp.sub("online.lock")
        mirrored = ferry.run("mirror", "-f", manifest, "--to", f"{online.host}/mirror", "--naming", "flatten",
                             "--lock", online_lock, *release.source_mirror_flags(upstream))
        self.assertEqual(mirrored.code, 0, str(mirrored))
        with open(online_lock) as f:
            online_targets = {e["source"]: e["target"].split("/", 1)[1] for e in json.load(f)["images"]}
        self.assertEqual({s: e["target"].split("/", 1)[1] for s, e in entries.items()}, online_targets)

        out = self.tmp.sub("rewritten")
        r = ferry.run("rewrite", "-f", manifest, "--lock", lock, "-o", out)
        self.assertEqual(r.code, 0, str(r))
        gate = ferry.run("rewrite", "-f", out, "--check", "--allow", f"{inside.host}/mirror/")
        self.assertEqual(gate.code, 0, str(gate))

        verified = ferry.run("bundle", "verify", archive + ".000")
        self.assertEqual(verified.code, 0, str(verified))
        inspected = ferry.run("bundle", "inspect", archive + ".000")
        self.assertEqual(inspected.code, 0, str(inspected))
        self.assertIn("release.yaml", inspected.out)


if __name__ == "__main__":
    unittest.main()
