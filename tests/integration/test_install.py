"""`ferry install` / `ferry uninstall` against the Kubernetes emulator, with a real registry as the
mirror: Knative 1.23 on Kourier comes up on the first try with the emulator's realistic delays
(CRDs established late, webhooks refusing writes until their Deployment is up), a second run is
unchanged, the air-gap fixes land, uninstall leaves only the built-in namespaces; a missing image,
a forbidden identity, a cluster without Istio and a 0.6 release each fail with the line that says
why; injected 429/500/cut connections are survived."""

import json
import os
import re
import shutil
import tarfile
import unittest

from ferrytest import kube_release
from ferrytest.ferry import Ferry
from ferrytest.kube import Emulator
from ferrytest.registry import Registry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import corpus_dir, run

PROFILE = "knative-1.23-kourier"
BUILT_IN_NAMESPACES = {"default", "kube-system", "kube-public", "kube-node-lease"}


class ReleaseCase(ServerTestCase):
    """Once per class: ferry, the corpus, and the images of `profile`'s release files."""
    profile = PROFILE

    @classmethod
    def setUpClass(cls):
        cls.corpus = corpus_dir()
        cls.ferry = Ferry()
        cls.references = kube_release.release_images(cls.ferry.bin, cls.profile, cls.corpus)

    @classmethod
    def tearDownClass(cls):
        cls.ferry.cleanup()
        super().tearDownClass()


class InstallCase(ReleaseCase):
    skip_images = ()
    tls_registry = False  # the mirror speaks HTTPS with a certificate from the class's test CA
    emulator_options = {}  # more Emulator options (the serving data plane, for the self-test)

    def setUp(self):
        super().setUp()
        self.reg = self.use(Registry(tls=self.tls_registry, pki=self.pki() if self.tls_registry else None))
        self.kube = self.use(Emulator(self.tmp.sub("kube"), controllers=True, pki=self.pki(),
                                      crd_established_delay=0.3, workload_ready_delay=0.3,
                                      workload_delays={"webhook": 1.0}, image_registry=self.reg.host,
                                      **self.emulator_options))
        self.kube.options.image_pull_backoff = 0.5
        self.lock = self.tmp.sub("images.lock")
        self.targets = kube_release.mirror_release(self.reg, self.references, self.lock, skip=self.skip_images)

    def install(self, *extra, context="admin", profile=PROFILE, mirror=None, timeout="60s"):
        mirror = mirror or ["--lock", self.lock]
        return self.ferry.run("install", "--profile", profile, "--manifests-dir", self.corpus, *mirror,
                              "--kubeconfig", self.kube.kubeconfig, "--context", context, "--timeout", timeout, *extra)

    def uninstall(self, *extra):
        return self.ferry.run("uninstall", "--kubeconfig", self.kube.kubeconfig, "--context", "admin", *extra)

    def store_get(self, group, kind, ns, name):
        return self.kube.store.get(group, kind, ns, name)

    def namespaces(self):
        return {n["metadata"]["name"] for n in self.kube.store.list("", "Namespace")}

    def target(self, fragment):
        """Where the release's image whose reference contains `fragment` is at the mirror, as the
        rewritten release names it (the corpus pins digests, so the lock's tag is dropped)."""
        return next(t for s, t in self.targets.items() if fragment in s).replace(":v1@", "@")


class TestInstallKourier(InstallCase):
    def test_first_install_succeeds_second_is_unchanged_and_uninstall_leaves_nothing(self):
        creds = ("--registry-creds", "mirror-user:mirror-secret")
        r = self.install("--domain", "knative.example.test", *creds)
        self.assertEqual(r.code, 0, r)
        self.assertNotIn("mirror-secret", r.out + r.err)
        # Waves in dependency order, each announced, and the waits between them.
        order = [r.out.index(f"wave {i} of") for i in range(1, 6)]
        self.assertEqual(order, sorted(order), r.out)
        self.assertIn("CRDs established", r.out)
        self.assertIn("webhook Deployments available", r.out)
        self.assertNotIn("retrying", r.out)  # retries (webhooks starting) are not shown without -v
        webhook = self.store_get("apps", "Deployment", "knative-serving", "webhook")
        self.assertEqual(webhook["spec"]["template"]["spec"]["containers"][0]["image"], self.target("cmd/webhook@"))
        available = {c["type"]: c["status"] for c in webhook["status"]["conditions"]}
        self.assertEqual(available.get("Available"), "True")
        # Jobs get stable names and complete.
        jobs = {j["metadata"]["name"] for j in self.kube.store.list("batch", "Job", "knative-serving")}
        self.assertIn("storage-version-migration-serving-serving-1.23.0", jobs)

        # Air-gap fixes: pull secret everywhere, tag resolution skipped, domain, ingress class.
        for ns in ("knative-serving", "kourier-system"):
            self.assertIsNotNone(self.store_get("", "Secret", ns, "ferry-mirror-pull"), ns)
        sa = self.store_get("", "ServiceAccount", "knative-serving", "controller")
        self.assertIn({"name": "ferry-mirror-pull"}, sa.get("imagePullSecrets", []))
        deployment_cm = self.store_get("", "ConfigMap", "knative-serving", "config-deployment")["data"]
        self.assertIn(self.reg.host, deployment_cm["registries-skipping-tag-resolving"])
        self.assertEqual(deployment_cm["queue-sidecar-image"], self.target("cmd/queue@"))
        self.assertIn("knative.example.test", self.store_get("", "ConfigMap", "knative-serving", "config-domain")["data"])
        network = self.store_get("", "ConfigMap", "knative-serving", "config-network")["data"]
        self.assertEqual(network["ingress-class"], "kourier.ingress.networking.knative.dev")
        inventory = self.store_get("", "ConfigMap", "ferry-system", "ferry-inventory")
        self.assertEqual(inventory["data"]["profile"], PROFILE)
        self.assertIn("apps/Deployment/knative-serving/webhook", inventory["data"]["objects"])

        # kubectl sees the Deployments ferry reported applying.
        reported = {line.split()[1] for line in r.out.splitlines()
                    if line.strip().startswith("Deployment knative-serving/")}
        kubectl = shutil.which("kubectl")
        if kubectl:
            got = run([kubectl, "--kubeconfig", self.kube.kubeconfig, "--context", "admin", "get", "deployments",
                       "-n", "knative-serving", "-o", "name"]).stdout.split()
            self.assertEqual({"knative-serving/" + n.split("/", 1)[1] for n in got}, reported)

        # Second run: nothing changes, not even a resourceVersion.
        versions = {o["metadata"]["name"] + o["kind"]: o["metadata"]["resourceVersion"]
                    for o in self.kube.store.list("apps", "Deployment") + self.kube.store.list("", "ConfigMap")}
        again = self.install("--domain", "knative.example.test", *creds)
        self.assertEqual(again.code, 0, again)
        self.assertIn("unchanged", again.out.splitlines()[-1])
        self.assertNotIn(" created", again.out)
        after = {o["metadata"]["name"] + o["kind"]: o["metadata"]["resourceVersion"]
                 for o in self.kube.store.list("apps", "Deployment") + self.kube.store.list("", "ConfigMap")}
        self.assertEqual(after, versions)

        # Uninstall without --delete-crds keeps the CRDs; with it, nothing is left.
        u = self.uninstall()
        self.assertEqual(u.code, 0, u)
        self.assertIn("CRDs kept", u.out)
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)
        self.assertTrue(self.kube.store.list("apiextensions.k8s.io", "CustomResourceDefinition"))
        self.assertEqual(self.install(*creds).code, 0)
        u = self.uninstall("--delete-crds")
        self.assertEqual(u.code, 0, u)
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)
        self.assertEqual(self.kube.store.list("apiextensions.k8s.io", "CustomResourceDefinition"), [])
        for kind in ("ClusterRole", "ClusterRoleBinding"):
            left = [o["metadata"]["name"] for o in self.kube.store.list("rbac.authorization.k8s.io", kind)
                    if "knative" in o["metadata"]["name"] or "kourier" in o["metadata"]["name"]]
            self.assertEqual(left, [], kind)

    def test_a_profile_without_a_file_prunes_what_that_file_installed(self):
        self.assertEqual(self.install("--no-pull-secret").code, 0)
        self.assertIsNotNone(self.store_get("apps", "Deployment", "knative-serving", "autoscaler-hpa"))
        # The same release without the HPA extension, as a profile file of the user's.
        with open(os.path.join(os.path.dirname(__file__), "../../manifests", PROFILE + ".yaml")) as f:
            text = f.read()
        start = text.index("  # The HPA autoscaler extension")
        end = text.index("  # Jobs to run once")
        smaller = self.tmp.sub("no-hpa.yaml")
        with open(smaller, "w") as f:
            f.write(text[:start].replace(f"name: {PROFILE}", "name: knative-1.23-kourier-no-hpa") + text[end:])
        r = self.install("--no-pull-secret", profile=smaller)
        self.assertEqual(r.code, 0, r)
        self.assertIn("Deployment knative-serving/autoscaler-hpa pruned", r.out)
        self.assertIsNone(self.store_get("apps", "Deployment", "knative-serving", "autoscaler-hpa"))
        self.assertIsNotNone(self.store_get("apps", "Deployment", "knative-serving", "autoscaler"))
        inventory = self.store_get("", "ConfigMap", "ferry-system", "ferry-inventory")["data"]
        self.assertEqual(inventory["profile"], "knative-1.23-kourier-no-hpa")
        self.assertNotIn("autoscaler-hpa", inventory["objects"])

    def test_injected_429_500_and_cut_connections_are_survived(self):
        self.kube.inject_fault(method="PATCH", path="/deployments/", count=3, code=429, retry_after=1)
        self.kube.inject_fault(method="PATCH", path="/configmaps/", count=3, code=500)
        self.kube.inject_fault(method="GET", path="/customresourcedefinitions", count=2, code=503)
        self.kube.inject_fault(method="PATCH", path="/services/", count=2, drop=True)
        r = self.install("--output", "json")
        self.assertEqual(r.code, 0, r)
        events = [json.loads(line) for line in r.out.splitlines()]
        self.assertTrue(events[-1]["ok"])
        faulted = [e for e in self.kube.requests() if e.get("code") in (429, 500, 503)]
        self.assertGreaterEqual(len(faulted), 8, "the faults were not hit")
        self.assertEqual(self.kube.faults.rules(), [])  # every injected fault was used up

    def test_json_events_and_dry_run_store_nothing(self):
        r = self.install("--dry-run", "--output", "json")
        self.assertEqual(r.code, 0, r)
        events = [json.loads(line) for line in r.out.splitlines()]
        self.assertEqual(events[0]["event"], "start")
        self.assertTrue(events[0]["dryRun"])
        self.assertIn("applied", {e["event"] for e in events})
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)
        dry = [e for e in self.kube.requests() if e["method"] == "PATCH"]
        self.assertTrue(dry and all("dryRun=All" in e["path"] for e in dry))

    def test_forbidden_identity_fails_in_preflight(self):
        r = self.install(context="viewer")
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("may not create customresourcedefinitions.apiextensions.k8s.io", r.err)
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)

    def test_plan_needs_no_cluster(self):
        r = self.ferry.run("install", "--profile", PROFILE, "--manifests-dir", self.corpus, "--plan", "--output", "json")
        self.assertEqual(r.code, 0, r)
        plan = r.json()
        self.assertEqual([w["wait"]["for"] for w in plan["waves"]][:1], ["crds-established"])
        self.assertIn("Deployment knative-serving/webhook", plan["webhookDeployments"])
        self.assertEqual(self.kube.requests(), [])
        # The release files can come from a bundle (ferry/manifests/ inside it): the same plan.
        bundle = self.tmp.sub("bundle.tar")
        with tarfile.open(bundle, "w") as tar:
            for name in sorted(os.listdir(self.corpus)):
                tar.add(os.path.join(self.corpus, name), arcname="ferry/manifests/" + name)
        from_bundle = self.ferry.run("install", "--profile", PROFILE, "--bundle", bundle, "--plan", "--output", "json")
        self.assertEqual(from_bundle.code, 0, from_bundle)
        self.assertEqual([[o["name"] for o in w["objects"]] for w in from_bundle.json()["waves"]],
                         [[o["name"] for o in w["objects"]] for w in plan["waves"]])


class TestMissingImage(InstallCase):
    skip_images = ("serving/cmd/activator@",)

    def test_preflight_names_the_missing_image_in_one_line(self):
        r = self.install()
        self.assertNotEqual(r.code, 0, r)
        lines = [line for line in r.err.splitlines() if self.target("cmd/activator@") in line]
        self.assertEqual(len(lines), 1, r.err)
        repository = self.target("cmd/activator@").split("@")[0][len(self.reg.host) + 1:]
        self.assertIn(f"missing from the mirror ({self.reg.host} has no repository {repository})", lines[0])
        # Then one line saying how to copy it: the same release, to where the lock's images are.
        advice = [line for line in r.err.splitlines() if "copy the missing images" in line]
        self.assertEqual(len(advice), 1, r.err)
        self.assertIn(f"ferry mirror --profile {PROFILE} --to {self.reg.host}/mirror where", advice[0])
        self.assertIn(f"ferry bundle load FILE --to {self.reg.host}/mirror from", advice[0])
        self.assertNotIn("-v lists", advice[0])  # nothing was left out
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)  # nothing was applied

    def test_without_preflight_the_image_pull_backoff_is_diagnosed(self):
        r = self.install("--skip-preflight", timeout="15s")
        self.assertNotEqual(r.code, 0, r)
        image = self.target("cmd/activator@")
        # The kubelet alternates between ErrImagePull and ImagePullBackOff; either names the image.
        # One line in the final diagnosis (a "not ready yet:" line may also have come while waiting).
        lines = [line for line in r.out.splitlines()
                 if "cannot be pulled" in line and image in line and "not ready yet:" not in line]
        self.assertEqual(len(lines), 1, r)
        self.assertRegex(lines[0], r"container activator: (ImagePullBackOff|ErrImagePull): image ")
        self.assertIn(f'Failed to pull image "{image}"', lines[0])
        self.assertIn("timed out waiting for everything ready", r.err)


class TestManyMissingImages(InstallCase):
    """A mirror that lacks most of the release: one line for them all, not one per image."""
    skip_images = ("serving/cmd/",)

    def missing(self):
        return sorted(t.replace(":v1@", "@") for s, t in self.targets.items() if "serving/cmd/" in s)

    def test_preflight_counts_them_names_three_and_says_what_to_do(self):
        missing = self.missing()
        self.assertGreater(len(missing), 3)
        r = self.install()
        self.assertNotEqual(r.code, 0, r)
        where = f"{self.reg.host}/mirror"
        lines = [line for line in r.err.splitlines() if "missing from" in line]
        self.assertEqual(len(lines), 1, r.err)
        grouped = re.fullmatch(rf"ferry: preflight: (\d+) images missing from {re.escape(where)} "
                               r"\((\S+), (\S+), (\S+) and (\d+) more\): no such repositories there", lines[0])
        self.assertIsNotNone(grouped, lines[0])
        self.assertEqual(int(grouped.group(1)), len(missing))
        self.assertEqual(int(grouped.group(5)), len(missing) - 3)
        brief = {m[len(where) + 1:m.index("@") + len("@sha256:") + 12] for m in missing}
        self.assertLessEqual({grouped.group(2), grouped.group(3), grouped.group(4)}, brief)
        advice = [line for line in r.err.splitlines() if "copy the missing images" in line]
        self.assertEqual(len(advice), 1, r.err)
        self.assertIn(f"ferry mirror --profile {PROFILE} --to {where} where", advice[0])
        self.assertTrue(advice[0].endswith("; -v lists every image"), advice[0])
        self.assertIn("preflight found 1 problem(s); nothing was applied", r.err)
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)

        # -v: the same line names every missing image; --output json lists each in full.
        verbose = self.install("-v")
        line = next(line for line in verbose.err.splitlines() if "missing from" in line)
        self.assertNotIn(" more)", line)
        for name in brief:
            self.assertIn(name, line)
        events = [json.loads(e) for e in self.install("--output", "json").out.splitlines()]
        preflight = next(e for e in events if e["event"] == "preflight")
        self.assertEqual(sorted(preflight["missingImages"]), missing)
        self.assertIn("ferry mirror --profile", preflight["advice"])


class TestPreflightApiVersions(InstallCase):
    def test_istio_profile_needs_istio_installed(self):
        r = self.install(profile="knative-1.23-istio", mirror=["--to", self.reg.host + "/knative"])
        self.assertNotEqual(r.code, 0, r)
        self.assertIn("the networking layer istio must already be installed", r.err)
        self.assertIn("networking.istio.io/v1beta1 Gateway", r.err)

    def test_a_0_6_release_names_the_api_versions_the_cluster_does_not_serve(self):
        r = self.install(profile="knative-0.6-istio-1.1", mirror=["--to", self.reg.host + "/knative"])
        self.assertNotEqual(r.code, 0, r)
        line = next((line for line in r.err.splitlines() if "does not serve" in line and "extensions/v1beta1 Deployment" in line), None)
        self.assertIsNotNone(line, r.err)
        self.assertEqual(self.namespaces(), BUILT_IN_NAMESPACES)


if __name__ == "__main__":
    unittest.main()
