#!/usr/bin/env python3
"""`ferry install` against the sequence Knative's docs give, on the Kubernetes emulator with the
issue's delays: CRDs Established after 2 s, the webhook Deployment available after 10 s, every
other workload after 5 s. Both install knative-1.23-kourier rewritten to a local registry that
holds every image (the emulator's kubelet pulls from it).

  ferry    ferry install --profile knative-1.23-kourier --manifests-dir CORPUS --lock images.lock
  kubectl  the docs' sequence on the same rewritten files (ferry rewrite --lock):
             kubectl apply -f serving-crds.yaml
             kubectl wait --for=condition=Established --all crd
             kubectl apply -f serving-core.yaml        retried every 2 s until it succeeds
             kubectl apply -f kourier.yaml             retried the same way
             kubectl wait deployment --all --for=condition=Available -n knative-serving / kourier-system
           (kubectl needs --validate=false: the emulator serves no OpenAPI; the HPA extension and the
           post-install Jobs are left out, as in the docs' quickstart, so kubectl does less work)

Measured: wall time from start to all-ready (exit of the last command), API requests the emulator
received, failed attempts the user sees (kubectl's failed applies; lines of ferry's output that
report a failure). The critical path of the delays is what no installer can beat: CRD delay +
webhook delay (+ a Job's start-up for ferry, whose set includes the post-install Jobs).

    python3 bench/install_bench.py                # 3 runs each, writes the "ferry install" section
    python3 bench/install_bench.py --repeat 1 --no-write
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from ferrytest import kube_release  # noqa: E402
from ferrytest.kube import Emulator  # noqa: E402
from ferrytest.registry import Registry  # noqa: E402
from ferrytest.util import TempDir  # noqa: E402

from benchlib import write_section

SECTION = "## ferry install"
# Kept with the table: what the numbers mean (measured by hand with -v; update when they move).
NOTE = ("Where ferry's time goes (one run, `-v`, timestamps from its output): 0.6 s before the first apply (reading and rewriting the release, preflight: 11 manifest HEADs at the mirror in parallel with the access reviews and discovery), 2.1 s waiting for the CRDs, 10.1 s for the webhook Deployment (the emulator's Deployment → ReplicaSet → Pod chain adds a little to the 10 s), 5.3 s for the post-install Job started in the last wave, about 0.1 s per wave of applies. Readiness is polled every 200 ms with one List per resource and namespace. kubectl's row shows no failed apply because serving-core.yaml lists its webhook configurations last, so on the emulator nothing is admitted before the webhook exists; its extra time over its 12 s critical path is kubectl's per-command start-up and discovery and the docs' sequential waits. Putting the post-install Jobs into the workloads wave (they need only the CRDs) would take 5 s off ferry's critical path; `installer/apply_plan` keeps them last for now.\n")
PROFILE = "knative-1.23-kourier"
CRD_DELAY, WEBHOOK_DELAY, WORKLOAD_DELAY = 2.0, 10.0, 5.0


def emulator(directory, registry):
    kube = Emulator(directory, controllers=True, crd_established_delay=CRD_DELAY,
                    workload_ready_delay=WORKLOAD_DELAY, workload_delays={"webhook": WEBHOOK_DELAY},
                    image_registry=registry.host)
    kube.start()
    kube.options.image_pull_backoff = 1.0
    return kube


def run_ferry(ferry, kube, corpus, lock, env):
    argv = [ferry, "install", "--profile", PROFILE, "--manifests-dir", corpus, "--lock", lock,
            "--kubeconfig", kube.kubeconfig, "--context", "admin", "--timeout", "5m"]
    start = time.monotonic()
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    wall = time.monotonic() - start
    if p.returncode != 0:
        raise RuntimeError(f"ferry install failed:\n{p.stdout}\n{p.stderr}")
    # Retries are shown only with -v; count any line that reports a retry or an error anyway.
    shown = [line for line in p.stdout.splitlines() if line.strip().startswith("retrying") or "error" in line.lower()]
    return wall, len(shown)


def run_kubectl(kubectl, kube, rewritten, env):
    base = [kubectl, "--kubeconfig", kube.kubeconfig, "--context", "admin"]
    failed = 0

    def apply_until_ok(path):
        nonlocal failed
        while True:
            p = subprocess.run(base + ["apply", "--validate=false", "-f", path], capture_output=True, text=True, env=env)
            if p.returncode == 0:
                return
            failed += 1
            if failed > 200:
                raise RuntimeError(f"kubectl apply -f {path} keeps failing:\n{p.stderr}")
            time.sleep(2)  # the docs' "retry until it succeeds", as kn quickstart does

    start = time.monotonic()
    apply_until_ok(os.path.join(rewritten, "knative-serving-v1.23.0-serving-crds.yaml"))
    subprocess.run(base + ["wait", "--for=condition=Established", "--all", "crd", "--timeout=5m"],
                   check=True, capture_output=True, env=env)
    apply_until_ok(os.path.join(rewritten, "knative-serving-v1.23.0-serving-core.yaml"))
    apply_until_ok(os.path.join(rewritten, "net-kourier-v1.23.yaml"))
    for ns in ("knative-serving", "kourier-system"):
        subprocess.run(base + ["wait", "deployment", "--all", "--for=condition=Available", "-n", ns, "--timeout=5m"],
                       check=True, capture_output=True, env=env)
    return time.monotonic() - start, failed


def summarize(rows):
    walls = [r[0] for r in rows]
    return statistics.median(walls), min(walls), max(walls)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferry", default=os.path.join(ROOT, "build", "cli", "ferry"))
    p.add_argument("--kubectl", default="kubectl")
    p.add_argument("--corpus", default=os.environ.get("FERRY_CORPUS", os.path.join(ROOT, "..", "shared", "corpus", "manifests")))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tools", default="ferry,kubectl")
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    args = p.parse_args(argv)
    kubectl = shutil.which(args.kubectl)
    tools = [t for t in args.tools.split(",") if t and (t != "kubectl" or kubectl)]
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}

    results = {t: [] for t in tools}
    with TempDir("ferry-install-bench-") as tmp, Registry() as registry:
        env.update(HOME=tmp.sub("home", mkdir=True), DOCKER_CONFIG=tmp.sub("docker", mkdir=True))
        lock = tmp.sub("images.lock")
        refs = kube_release.release_images(args.ferry, PROFILE, args.corpus)
        kube_release.mirror_release(registry, refs, lock)
        rewritten = tmp.sub("rewritten", mkdir=True)
        subprocess.run([args.ferry, "rewrite", "--profile", PROFILE, "--manifests-dir", args.corpus, "--lock", lock,
                        "-o", rewritten], check=True, capture_output=True, env=env)
        for i in range(args.repeat):
            for tool in tools:
                kube = emulator(tmp.sub(f"kube-{tool}-{i}"), registry)
                try:
                    kube.clear_requests()
                    if tool == "ferry":
                        wall, failed = run_ferry(args.ferry, kube, args.corpus, lock, env)
                    else:
                        wall, failed = run_kubectl(kubectl, kube, rewritten, env)
                    requests = len(kube.requests())
                finally:
                    kube.stop()
                results[tool].append((wall, requests, failed))
                print(f"{tool:8} run {i + 1}: {wall:6.1f} s, {requests} requests, {failed} failed attempts shown",
                      flush=True)

    critical = {"ferry": CRD_DELAY + WEBHOOK_DELAY + WORKLOAD_DELAY, "kubectl": CRD_DELAY + WEBHOOK_DELAY}
    lines = ["| installer | wall to all-ready (median, range) | critical path of the delays | ratio | API requests (median) | failed attempts shown |",
             "|---|---|---|---|---|---|"]
    for tool in tools:
        med, lo, hi = summarize(results[tool])
        req = statistics.median(r[1] for r in results[tool])
        failed = statistics.median(r[2] for r in results[tool])
        lines.append(f"| {tool} | {med:.1f} s ({lo:.1f}–{hi:.1f}) | {critical[tool]:.0f} s | {med / critical[tool]:.2f}× "
                     f"| {req:.0f} | {failed:.0f} |")
    table = "\n".join(lines)
    print(table)
    if not args.no_write:
        section = (f"{SECTION}\n\nMeasured {time.strftime('%Y-%m-%d')} on this machine (2 cores, shared), "
                   f"`python3 bench/install_bench.py --repeat {args.repeat}`: {PROFILE} on the emulator with CRDs "
                   f"Established after {CRD_DELAY:.0f} s, the webhook Deployment available after {WEBHOOK_DELAY:.0f} s and "
                   f"other workloads after {WORKLOAD_DELAY:.0f} s. ferry installs the whole profile (HPA extension and "
                   "post-install Jobs included, so its critical path adds a Job's start-up); the kubectl row is the "
                   "docs' sequence (CRDs, wait Established, core and Kourier retried until they apply, wait for the "
                   "Deployments).\n\n" + table + "\n\n" + NOTE)
        write_section(args.output, section)


if __name__ == "__main__":
    main()
