"""`ferry install --selftest`: after the install, the sample images ferry carries are pushed to the
mirror (the namespace the lock's images share, or --samples-to) and the self-test runs with them,
against the emulator's serving data plane (the sample apps run as the revisions' pods). One exit
code: 0 only when the install and every check passed; a push that fails names itself and exits 1;
--selftest with --plan or --dry-run, and --report without --selftest, are refused before anything."""

import json
import os

import test_install
from ferrytest import client
from test_samples import sample_apps


class TestInstallSelftest(test_install.InstallCase):
    emulator_options = dict(dataplane=True, dataplane_apps=sample_apps(), kpa_stable_window=1.0, kpa_tick=0.1,
                            scale_to_zero_grace=1.5)

    def test_install_then_selftest_in_one_command(self):
        report_dir = self.tmp.sub("report")
        # The mirror's credentials go with the samples too (this registry ignores them).
        config = self.tmp.sub("config.json")
        with open(config, "w") as f:
            json.dump({"auths": {self.reg.host: {"auth": "dXNlcjpwYXNz"}}}, f)
        r = self.install("--selftest", "--selftest-duration", "5s", "--report", report_dir,
                         "--pull-secret-from", config, timeout="120s")
        self.assertEqual(r.code, 0, r)
        self.assertIn("installed knative-1.23-kourier", r.out)
        self.assertIn("PASS  helloworld answers through the gateway", r.out)
        self.assertIn("result:", r.out)
        with open(os.path.join(report_dir, "report.json")) as f:
            report = json.load(f)
        self.assertTrue(report["passed"], report["checks"])
        self.assertIn("image pull secret ferry-mirror-pull exists", [c["name"] for c in report["checks"]])
        self.assertTrue(os.path.isfile(os.path.join(report_dir, "report.html")))
        # The samples went to the mirror, under the namespace every image of the lock shares
        # (kube_release puts them all under REGISTRY/mirror/), and the self-test ran them from there.
        registry = client.RegistryClient(self.reg.host)
        for app in ("helloworld", "autoscale"):
            digest = registry.manifest_digest(f"mirror/{app}", "latest")
            self.assertIn(f"sample image {self.reg.host}/mirror/{app}@{digest}", r.out)

    def test_a_push_that_fails_names_itself(self):
        r = self.install("--selftest", "--samples-to", "127.0.0.1:1/nowhere")
        self.assertEqual(r.code, 1, r)
        self.assertIn("installed knative-1.23-kourier", r.out)
        self.assertIn("pushing the sample images for the self-test", r.err)
        self.assertIn("127.0.0.1:1", r.err)

    def test_selftest_flags_are_checked_before_anything(self):
        for flags, message in ((("--selftest", "--plan"), "--selftest needs a real install, not --plan"),
                               (("--selftest", "--dry-run"), "--selftest needs a real install, not --dry-run"),
                               (("--report", self.tmp.sub("r")), "--report needs --selftest"),
                               (("--selftest", "--selftest-duration", "soon"), "--selftest-duration")):
            r = self.install(*flags)
            self.assertNotEqual(r.code, 0, r)
            self.assertIn(message, r.err)
            self.assertEqual(self.namespaces() - test_install.BUILT_IN_NAMESPACES, set(), flags)


if __name__ == "__main__":
    import unittest
    unittest.main()
