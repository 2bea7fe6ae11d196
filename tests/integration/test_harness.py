"""Proves the test harness itself works, with skopeo, containerd and the Python client only (no
ferry): every registry mode accepts pushes and gives the expected digests back, the token server's
tokens are accepted by a real registry, the request log parser sees mounts, the fake registry serves
what it was told, and containerd pulls and unpacks our test images."""

import gzip
import hashlib
import io
import json
import ssl
import tarfile
import unittest

from ferrytest import images, skopeo
from ferrytest.client import RegistryClient
from ferrytest.containerd import Containerd
from ferrytest.fake_registry import FakeRegistry, oversized_manifest
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.token_server import TokenServer
from ferrytest.util import run


class TestImages(unittest.TestCase):
    def test_layers_are_gzipped_tars_and_diff_ids_match(self):
        image = images.make_image("x", layers=2)
        config = json.loads(image.config.data)
        for layer, diff_id in zip(image.layers, config["rootfs"]["diff_ids"]):
            tar_bytes = gzip.decompress(layer.data)
            self.assertEqual(images.sha256_digest(tar_bytes), diff_id)
            with tarfile.open(fileobj=io.BytesIO(tar_bytes)) as tar:
                self.assertIn("data", tar.getnames())

    def test_images_are_deterministic(self):
        self.assertEqual(images.make_index("s").digest, images.make_index("s").digest)
        self.assertNotEqual(images.make_index("s").digest, images.make_index("t").digest)

    def test_index_platforms_share_the_base_layer(self):
        index = images.make_index("s", docker=True)
        amd64, arm64 = index.children
        self.assertEqual(amd64.layers[0].digest, arm64.layers[0].digest)
        self.assertNotEqual(amd64.digest, arm64.digest)
        self.assertEqual(index.media_type, images.DOCKER["index"])
        self.assertEqual(amd64.layers[0].media_type, images.DOCKER["layer"])


class TestRegistryModes(ServerTestCase):
    def push_both_ways_and_check(self, registry):
        image, index = images.make_image("h1"), images.make_index("h2", docker=True)
        self.assertEqual(images.push(registry, "py/img", "v1", image), image.digest)
        skopeo.push(index, registry, "sk/list", "v1", self.tmp.sub("layout"))
        for repo, artifact in (("py/img", image), ("sk/list", index)):
            self.assertEqual(registry.manifest_digest(repo, "v1"), artifact.digest)
            raw = skopeo.inspect_raw(registry, repo, "v1")
            self.assertEqual(images.sha256_digest(raw), artifact.digest)
        for child in index.children:
            self.assertEqual(registry.manifest_digest("sk/list", child.digest), child.digest)
        self.assertTrue(registry.has_blob("sk/list", index.children[1].layers[-1].digest))
        self.assertEqual(registry.tags("py/img"), ["v1"])

    def test_plain_http(self):
        self.push_both_ways_and_check(self.use(Registry()))

    def test_oci_index_pushed_with_skopeo_keeps_its_digest(self):
        registry = self.use(Registry())
        index = images.make_index("h3")
        skopeo.push(index, registry, "sk/index", "v1", self.tmp.sub("layout"))
        self.assertEqual(registry.manifest_digest("sk/index", "v1"), index.digest)

    def test_tls(self):
        registry = self.use(Registry(tls=True, pki=self.pki()))
        self.push_both_ways_and_check(registry)
        untrusting = RegistryClient(registry.host, tls=True)  # system CAs only
        with self.assertRaises(ssl.SSLError):
            untrusting.ping()

    def test_htpasswd(self):
        registry = self.use(Registry(auth="htpasswd"))
        self.push_both_ways_and_check(registry)
        self.assertEqual(registry.client(anonymous=True).ping(), 401)
        wrong = RegistryClient(registry.host, user=registry.user, password="wrong")
        self.assertEqual(wrong.request("GET", "/v2/py/img/tags/list").status, 401)
        self.assertGreater(registry.requests_matching("GET", r"^/v2/py/img/tags/list$", status=401), 0)

    def test_token(self):
        tokens = self.use(TokenServer())
        registry = self.use(Registry(auth="token", token_server=tokens))
        self.push_both_ways_and_check(registry)
        # skopeo pushed as the token server's user, asking for pull+push on its repository.
        self.assertEqual(tokens.actions_for(tokens.user, "sk/list"), {"pull", "push"})
        r = run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"--creds={tokens.user}:wrong",
                 f"docker://{registry.host}/sk/list:v1"], check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertTrue(any(status == 401 for _, _, status in tokens.requests))
        anonymous = registry.client(anonymous=True)
        self.assertEqual(anonymous.request("GET", "/v2/py/img/tags/list").status, 401)
        self.assertGreater(registry.requests_matching("GET", r"^/v2/py/img/tags/list$", status=401), 0)

    def test_request_log_shows_cross_repository_mount(self):
        registry = self.use(Registry())
        image = images.make_image("m")
        images.push(registry, "a/src", "v1", image)
        layer = image.layers[0].digest
        client = registry.client()
        r = client.request("POST", f"/v2/b/dst/blobs/uploads/?mount={layer}&from=a/src", body=b"")
        self.assertEqual(r.status, 201)
        self.assertTrue(registry.has_blob("b/dst", layer))
        self.assertEqual(registry.requests_matching("POST", r"^/v2/b/dst/blobs/uploads/\?mount=", 201), 1)
        self.assertEqual(registry.requests_matching("POST", r"^/v2/a/src/blobs/uploads/\?mount="), 0)

    def test_large_blob_is_streamed(self):
        registry = self.use(Registry())
        image = images.push_large_image(registry, "big/one", "v1", 8 * 1024 * 1024, seed="h")
        layer = json.loads(image.raw)["layers"][0]
        expected = hashlib.sha256(images.RandomStream(8 * 1024 * 1024, "h").read()).hexdigest()
        self.assertEqual(layer["digest"], "sha256:" + expected)
        self.assertTrue(registry.has_blob("big/one", layer["digest"]))
        self.assertEqual(registry.manifest_digest("big/one", "v1"), image.digest)


class TestFakeRegistry(ServerTestCase):
    def test_serves_what_it_was_told(self):
        fake = self.use(FakeRegistry())
        image = images.make_image("f")
        fake.add_image("f/img", "v1", image)
        fake.add_blob(image.layers[0].digest, b"not the layer")
        big = oversized_manifest()
        self.assertGreater(len(big), 4 * 1024 * 1024)
        fake.add_manifest("f/big", "v1", big, images.OCI["manifest"])
        client = RegistryClient(fake.host)
        self.assertEqual(client.manifest_digest("f/img", "v1"), image.digest)
        self.assertEqual(client.request("GET", f"/v2/f/img/blobs/{image.layers[0].digest}").body,
                         b"not the layer")
        self.assertEqual(len(client.get_manifest("f/big", "v1").body), len(big))
        self.assertIsNone(client.manifest_digest("f/missing", "v1"))
        self.assertEqual(fake.requests_to("HEAD", "/v2/f/img/manifests/v1"), 1)
        self.assertEqual(client.request("PUT", "/v2/f/img/manifests/v2", body=b"{}").status, 405)


class TestContainerd(ServerTestCase):
    def test_pulls_and_unpacks_from_plain_registry(self):
        registry = self.use(Registry())
        ctd = self.use(Containerd())
        index = images.make_index("c")
        images.push(registry, "c/index", "v1", index)
        code, out = ctd.pull(f"{registry.host}/c/index:v1", plain_http=True)
        self.assertEqual(code, 0, out)
        self.assertIn("unpacking linux/amd64", out)
        self.assertIn(f"{registry.host}/c/index:v1", ctd.image_names())
        code, out = ctd.pull(f"{registry.host}/c/missing:v1", plain_http=True)
        self.assertNotEqual(code, 0)
        self.assertIn("not found", out)

    def test_pulls_over_tls_with_auth(self):
        registry = self.use(Registry(tls=True, pki=self.pki(), auth="htpasswd"))
        ctd = self.use(Containerd())
        images.push(registry, "c/img", "v1", images.make_image("ct", docker=True))
        code, out = ctd.pull(f"{registry.host}/c/img:v1", ca_cert=registry.ca_cert,
                             user=f"{registry.user}:{registry.password}")
        self.assertEqual(code, 0, out)


if __name__ == "__main__":
    unittest.main()
