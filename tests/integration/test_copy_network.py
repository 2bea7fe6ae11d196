"""`ferry copy` and the network around it: a proxy from the environment, anonymous token auth
(how gcr.io serves public images), and a registry that declines a cross-repository mount."""

import json
import os
import unittest

from ferrytest import images
from ferrytest.ferry import Ferry
from ferrytest.forward_proxy import ForwardProxy
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.token_server import TokenServer


class TestCopyNetwork(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def copy_json(self, *args, env=None):
        r = self.ferry.run("copy", "--output", "json", *args, env=env)
        self.assertEqual(r.code, 0, str(r))
        return json.loads(r.out)

    def test_the_proxy_from_the_environment_carries_every_request(self):
        src, dst, proxy = self.use(Registry()), self.use(Registry()), self.use(ForwardProxy())
        image = images.make_image("proxied")
        images.push(src, "src/app", "v1", image)
        doc = self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1",
                             env={"http_proxy": proxy.url, "no_proxy": ""})
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(dst.manifest_digest("dst/app", "v1"), image.digest)
        seen = "\n".join(proxy.requests)
        self.assertIn(f"http://{src.host}/v2/src/app/manifests/v1", seen)
        self.assertIn(f"http://{dst.host}/v2/dst/app/manifests/v1", seen)

    def test_no_proxy_sends_listed_hosts_direct(self):
        src, dst, proxy = self.use(Registry()), self.use(Registry()), self.use(ForwardProxy())
        image = images.make_image("direct")
        images.push(src, "src/app", "v1", image)
        self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/dst/app:v1",
                       env={"http_proxy": proxy.url, "no_proxy": "127.0.0.1"})
        self.assertEqual(proxy.requests, [])

    def test_anonymous_pull_through_token_auth(self):
        tokens = self.use(TokenServer(allow_anonymous=True))
        src = self.use(Registry(auth="token", token_server=tokens))
        dst = self.use(Registry())
        image = images.make_image("public")
        images.push(src, "public/app", "v1", image)
        doc = self.copy_json(f"{src.host}/public/app:v1", f"{dst.host}/dst/app:v1")
        self.assertEqual(doc["digest"], image.digest)
        self.assertEqual(tokens.actions_for(None, "public/app"), {"pull"})

    def test_a_declined_mount_falls_back_to_an_upload(self):
        src, dst = self.use(Registry()), self.use(Registry())
        image = images.make_image("declined", layers=2)
        images.push(src, "src/app", "v1", image)
        # A stale cache entry: it says team-a holds the blobs, but team-a was never written.
        stale = {dst.host: {blob.digest: ["team-a/app"] for blob in image.blobs()}}
        os.makedirs(os.path.join(self.ferry.cache_home, "ferry"), exist_ok=True)
        with open(os.path.join(self.ferry.cache_home, "ferry", "blob-locations.json"), "w") as f:
            json.dump(stale, f)
        doc = self.copy_json(f"{src.host}/src/app:v1", f"{dst.host}/team-b/app:v1")
        self.assertEqual(doc["blobs"], {"copied": len(image.blobs()), "skipped": 0, "mounted": 0})
        declined = dst.requests_matching("POST", r"^/v2/team-b/app/blobs/uploads/\?.*mount=", 202)
        self.assertEqual(declined, len(image.blobs()))
        self.assertEqual(dst.manifest_digest("team-b/app", "v1"), image.digest)


if __name__ == "__main__":
    unittest.main()
