"""More of `ferry install` against the Kubernetes emulator (the set-up is test_install.py's): a Job
whose spec changed between two installs is deleted and created again; a workload that crash-loops
or cannot be scheduled makes the install time out naming why (its last log lines, the scheduler's
message); the release files can come from a bundle loaded into the mirror; a mirror with its own
CA (--registry-ca) is checked over TLS and its CA given to Knative's controller."""

import os
import re
import shutil
import unittest

import test_install
from ferrytest import bundle, images, kube_release

PROFILE = test_install.PROFILE
MIGRATE_JOB = "storage-version-migration-serving-serving-1.23.0"


def profile_files():
    """The release file names of PROFILE, in its order (read from the built-in profile)."""
    path = os.path.join(os.path.dirname(__file__), "../../manifests", PROFILE + ".yaml")
    with open(path) as f:
        return re.findall(r"^  - name: (\S+)$", f.read(), re.M)


class TestJobRecreated(test_install.InstallCase):
    def install_files(self, directory):
        # -f: the files are the user's own (a changed file would fail the profile's sha256 check).
        return self.ferry.run("install", "-f", directory, "--ingress", "kourier", "--lock", self.lock,
                              "--no-pull-secret", "--kubeconfig", self.kube.kubeconfig, "--context", "admin",
                              "--timeout", "60s")

    def job(self, name):
        return self.store_get("batch", "Job", "knative-serving", name)

    def test_a_job_whose_spec_changed_is_deleted_and_created_again(self):
        release = self.tmp.sub("release", mkdir=True)
        for name in profile_files():
            shutil.copy(os.path.join(self.corpus, name), release)
        first = self.install_files(release)
        self.assertEqual(first.code, 0, first)
        old = self.job(MIGRATE_JOB)
        cleanup = next(j for j in self.kube.store.list("batch", "Job", "knative-serving") if j["metadata"]["name"] != MIGRATE_JOB)

        # The next release migrates one more resource: the Job's args change.
        jobs_file = os.path.join(release, "knative-serving-v1.23.0-serving-post-install-jobs.yaml")
        with open(jobs_file) as f:
            text = f.read()
        marker = '            - "domainmappings.serving.knative.dev"\n'
        self.assertIn(marker, text)
        with open(jobs_file, "w") as f:
            f.write(text.replace(marker, marker + '            - "certificates.networking.internal.knative.dev"\n', 1))
        again = self.install_files(release)
        self.assertEqual(again.code, 0, again)
        self.assertIn(f"Job knative-serving/{MIGRATE_JOB} created (deleted and created again: its spec changed",
                      again.out)
        new = self.job(MIGRATE_JOB)
        self.assertNotEqual(new["metadata"]["uid"], old["metadata"]["uid"])
        self.assertIn("certificates.networking.internal.knative.dev",
                      new["spec"]["template"]["spec"]["containers"][0]["args"])
        self.assertIn("Complete", {c["type"] for c in new["status"]["conditions"] if c["status"] == "True"})
        # The Job that did not change is left alone, and so is everything else.
        self.assertEqual(self.job(cleanup["metadata"]["name"])["metadata"]["uid"], cleanup["metadata"]["uid"])
        self.assertIn(f"Job knative-serving/{cleanup['metadata']['name']} unchanged", again.out)
        self.assertIn("0 configured", again.out.splitlines()[-1])


class TestUnreadyDiagnosis(test_install.InstallCase):
    CRASH_LOG = "".join(f"line {i}: starting\n" for i in range(1, 4)) + \
        "2026/01/01 00:00:00 Failed to get k8s version: unknown\n" + \
        "panic: cannot reach the API server\nexit status 2\n"
    SCHEDULER = "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: " \
                "1 No preemption victims found for incoming pod."

    def test_crash_loop_and_unschedulable_pods_are_named_with_their_reasons(self):
        self.kube.set_options(pod_crashes={"autoscaler": self.CRASH_LOG},
                              pod_unschedulable={"activator": self.SCHEDULER})
        r = self.install("--no-pull-secret", timeout="15s")
        self.assertEqual(r.code, 1, r)
        self.assertIn("timed out waiting for everything ready", r.err)
        lines = r.out.splitlines()

        crash = next((i for i, line in enumerate(lines)
                      if re.search(r"pod knative-serving/autoscaler-[a-z0-9]+-[a-z0-9]+ container autoscaler: "
                                   r"CrashLoopBackOff \(\d+ restarts\), last log lines:$", line)), None)
        self.assertIsNotNone(crash, r.out)
        shown = [line.split("| ", 1)[1] for line in lines[crash + 1:crash + 7] if "| " in line]
        self.assertEqual(shown, self.CRASH_LOG.splitlines()[-5:], r.out)  # the last five, in order

        pending = [line for line in lines if re.match(r"  pod knative-serving/activator-\S+: Pending", line)]
        self.assertEqual(len(pending), 1, r.out)
        self.assertTrue(pending[0].endswith(": Pending, not scheduled: Unschedulable: " + self.SCHEDULER), pending[0])
        # Workloads that did come up are not blamed.
        self.assertFalse([line for line in lines if "not ready: " in line and "webhook" in line], r.out)


class TestInstallFromBundle(test_install.InstallCase):
    skip_images = ("",)  # the mirror starts empty: `bundle load` fills it

    def test_a_loaded_bundle_installs_from_its_own_release_files(self):
        # A bundle as `ferry bundle save --profile` writes it (bundle_format.h); its images are the
        # stand-ins, since the corpus pins upstream digests no local registry can serve.
        files = []
        for name in profile_files():
            with open(os.path.join(self.corpus, name), "rb") as f:
                files.append((name, f.read()))
        stand_ins = [(ref, images.make_image(ref, layers=1, layer_size=256)) for ref in self.references]
        archive = bundle.write_bundle(self.tmp.sub("knative.tar"), stand_ins, files=files, profile=PROFILE)
        verified = self.ferry.run("bundle", "verify", archive)
        self.assertEqual(verified.code, 0, verified)

        lock = self.tmp.sub("loaded.lock")
        loaded = self.ferry.run("bundle", "load", archive, "--to", self.reg.host + "/knative", "--lock", lock)
        self.assertEqual(loaded.code, 0, loaded)
        r = self.ferry.run("install", "--profile", PROFILE, "--bundle", archive, "--lock", lock,
                           "--kubeconfig", self.kube.kubeconfig, "--context", "admin", "--timeout", "60s")
        self.assertEqual(r.code, 0, r)
        webhook = self.store_get("apps", "Deployment", "knative-serving", "webhook")
        image = webhook["spec"]["template"]["spec"]["containers"][0]["image"]
        self.assertTrue(image.startswith(self.reg.host + "/knative/"), image)
        self.assertEqual(self.store_get("", "ConfigMap", "ferry-system", "ferry-inventory")["data"]["profile"], PROFILE)


class TestRegistryCa(test_install.InstallCase):
    tls_registry = True

    def test_the_mirror_ca_checks_images_and_is_mounted_into_the_controller(self):
        # Without the CA the mirror's certificate is not trusted: preflight says so, nothing is applied.
        untrusted = self.install("--no-pull-secret")
        self.assertNotEqual(untrusted.code, 0, untrusted)
        self.assertIn(f"registry {self.reg.host}: TLS with {self.reg.host} failed: SSL certificate problem", untrusted.err)
        # Said once for the registry, with how many images it affects, not once per image.
        self.assertEqual(untrusted.err.count(f"TLS with {self.reg.host} failed"), 1, untrusted.err)
        grouped = re.search(rf"preflight: (\d+) images at {re.escape(self.reg.host)} cannot be checked "
                            r"\((\S+), (\S+) and \d+ more\): registry ", untrusted.err)
        self.assertIsNotNone(grouped, untrusted.err)
        rewritten = {t.replace(":v1@", "@") for t in self.targets.values()}
        self.assertEqual(int(grouped.group(1)), len(rewritten), untrusted.err)
        # Named briefly: the repository and the digest's first 12 hex digits (the registry is said once).
        brief = {t[len(self.reg.host) + 1:t.index("@") + len("@sha256:") + 12] for t in rewritten}
        self.assertLessEqual({grouped.group(2), grouped.group(3)}, brief)
        self.assertEqual(self.namespaces(), test_install.BUILT_IN_NAMESPACES)
        # The hint names a flag this command takes (--registry-ca-cert, the other commands' name).
        hint = re.search(r"If the registry uses a private CA, pass (--\S+) FILE", untrusted.err)
        self.assertIsNotNone(hint, untrusted.err)
        self.assertEqual(self.install("--no-pull-secret", "--plan", hint.group(1), self.reg.ca_cert).code, 0)

        r = self.install("--no-pull-secret", "--registry-ca", self.reg.ca_cert)
        self.assertEqual(r.code, 0, r)
        self.assertIn("the controller trusts the registry CA from " + self.reg.ca_cert, r.out)
        # ferry's own manifest checks (the emulator's kubelet asks too, without a User-Agent).
        checked = {m.group(1) for line in self.reg.log_text().splitlines()
                   if 'msg="response completed"' in line and re.search(r'http\.request\.useragent="?ferry/', line)
                   for m in [re.search(r"http\.request\.uri=\"?/v2/(\S+?)/manifests/", line)] if m}
        wanted = {t.split("/", 1)[1].split(":")[0] for t in self.targets.values()}
        self.assertEqual(checked, wanted, "preflight did not check every image over TLS")

        with open(self.reg.ca_cert) as f:
            ca = f.read()
        stored = self.store_get("", "ConfigMap", "knative-serving", "ferry-registry-ca")
        self.assertIsNotNone(stored)
        self.assertEqual(stored["data"]["ca.crt"], ca)
        controller = self.store_get("apps", "Deployment", "knative-serving", "controller")["spec"]["template"]["spec"]
        volume = next(v for v in controller["volumes"] if v["name"] == "ferry-registry-ca")
        self.assertEqual(volume["configMap"]["name"], "ferry-registry-ca")
        container = controller["containers"][0]
        mount = next(m for m in container["volumeMounts"] if m["name"] == "ferry-registry-ca")
        env = {e["name"]: e.get("value") for e in container.get("env", [])}
        self.assertEqual(env.get("SSL_CERT_DIR"), mount["mountPath"])
        skipping = self.store_get("", "ConfigMap", "knative-serving", "config-deployment")["data"].get(
            "registries-skipping-tag-resolving", "")
        self.assertNotIn(self.reg.host, skipping)


if __name__ == "__main__":
    unittest.main()
