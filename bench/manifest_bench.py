#!/usr/bin/env python3
"""`ferry images` and `ferry rewrite` against kustomize's `images:` transformer (`kubectl kustomize`).

Inputs:
  core   knative-serving-v1.23.0-serving-core.yaml from the release corpus (FERRY_CORPUS, default
         ../shared/corpus/manifests), 521 KB, 60 documents.
  large  a generated, deterministic ~100 MB set of Knative-shaped documents in 10 files: CRDs with
         long schema descriptions, Deployments (container images, image references in env values and
         flag arguments), config-deployment ConfigMaps (queue-sidecar-image, commented _example
         blocks), caching.internal.knative.dev Images, Knative Services, Istio-like sidecar-injector
         ConfigMaps (references inside template text), Services, ClusterRoles, plain ConfigMaps; license
         comments above every document, as in the real files. Generated once into --cache-dir (not the
         repository) and reused.

Tools, on the same input:
  ferry images   ferry images -f INPUT --output list
  ferry rewrite  ferry rewrite -f INPUT --to mirror.example.com/knative --naming flatten -o OUT --output json
  kustomize      kubectl kustomize DIR, DIR holding the input (hard links) and a kustomization.yaml whose
                 `images:` maps every distinct image name found in the input (as written) to the name
                 ferry's flatten naming gives it (newName), keeping tags and digests.

Measured per run (/usr/bin/time): wall time, peak RSS, user+sys CPU; MB/s = input bytes / wall.
References: ferry images counts the occurrences it reports (`--output json`, run once, untimed);
ferry rewrite's count is its `replaced`; kustomize's is the number of mirror.example.com/knative/
references in its output. Every output is also compared line by line with the input (as multisets,
since kustomize reorders resources): lines changed that hold a rewritten reference, other lines changed,
and comment lines kept. ferry's output is checked to be surgical: putting the input's reference texts back
at the output's offsets (`ferry images --output json` on both) gives the input bytes exactly.

Extras (both on by default when the tools exist, `--no-baselines` / `--no-callgrind` to skip):
  parse-only baselines  two tiny programs compiled into the temp dir with `c++ -O2` (like ferry's
                        RelWithDebInfo build): yaml-cpp's YAML::Load on every document (what ferry's
                        finder parsed with before it moved to libyaml) and libyaml's event parser over the
                        stream, on one thread (what ferry's finder parses with now, on every core).
  callgrind             instruction counts of `ferry images --output list` on the core file and on a 2 MB
                        sample of the large set (same generator), with the share spent parsing (libyaml's
                        events into ferry's position tree). Stable under load, unlike wall time.
  one core              ferry images and ferry rewrite again under `taskset -c 0`: ferry then uses one
                        finder thread, which shows what the second core adds.

    python3 bench/manifest_bench.py                      # full run (~5 min), writes docs/benchmarks.md
    python3 bench/manifest_bench.py --size-mb 10 --no-write --no-callgrind   # quick look
"""

import argparse
import collections
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from mirror_bench import median, snapshot_binary, wait_quiet  # noqa: E402

from benchlib import targets_table, write_section

GENERATOR_VERSION = 1   # bump when the generated set changes: the cache key includes it
MB = 1_000_000
MIRROR = "mirror.example.com/knative"
SECTION = "## ferry images and ferry rewrite"
CORE_NAME = "knative-serving-v1.23.0-serving-core.yaml"

# --- the generated set ---------------------------------------------------------------------------
LICENSE = """# Copyright 2019 The Knative Authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     https://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""

VERSIONS = ["v1.21.0", "v1.22.0", "v1.23.0"]
KNATIVE = ["serving/cmd/activator", "serving/cmd/autoscaler", "serving/cmd/controller", "serving/cmd/webhook",
           "serving/cmd/autoscaler-hpa", "serving/cmd/default-domain", "serving/cmd/migrate",
           "net-istio/cmd/controller", "net-istio/cmd/webhook", "net-kourier/cmd/kourier",
           "eventing/cmd/controller", "eventing/cmd/webhook", "eventing/cmd/mtping",
           "eventing/cmd/in_memory/channel_controller", "eventing/cmd/in_memory/channel_dispatcher"]
QUEUE = "serving/cmd/queue"
ADAPTER = "eventing/cmd/apiserver_receive_adapter"
ISTIO_TAGS = ["1.1.3", "1.2.0"]

WORDS = ("the of a to is in for that this field when value which be used resource if by are as it not "
         "on an will must with from may or can its container spec status revision route configuration "
         "service template traffic percent name namespace label annotation default request timeout").split()


def knative_ref(component, version):
    digest = hashlib.sha256(f"{component}@{version}".encode()).hexdigest()
    return f"gcr.io/knative-releases/knative.dev/{component}@sha256:{digest}"


def istio_ref(name, tag):
    return f"docker.io/istio/{name}:{tag}"


def sentence(rng, n):
    return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."


def labels(component, version, indent):
    pad = " " * indent
    return (f"{pad}app.kubernetes.io/component: {component}\n{pad}app.kubernetes.io/name: knative-serving\n"
            f"{pad}app.kubernetes.io/version: \"{version[1:]}\"\n")


def crd(rng, u, version):
    """A CustomResourceDefinition: most of a real release's bytes, and no images (but URLs, Go import
    paths and version strings, which must not count)."""
    plural = f"widgets{u}"
    props = []
    for p in range(28):
        desc = " ".join(sentence(rng, rng.randint(8, 20)) for _ in range(rng.randint(1, 3)))
        if p % 7 == 0:
            desc += " More info at https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
        if p % 9 == 0:
            desc += f" Implemented by knative.dev/serving/pkg/apis/serving/{version} (see knative.dev/pkg/apis)."
        props.append(f"                field{p}:\n                  description: {desc}\n"
                     f"                  type: {rng.choice(['string', 'integer', 'boolean'])}\n")
    return (LICENSE + "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n"
            f"  name: {plural}.serving.knative.dev\n  labels:\n{labels('controller', version, 4)}"
            "    knative.dev/crd-install: \"true\"\nspec:\n  group: serving.knative.dev\n  versions:\n"
            "  - name: v1\n    served: true\n    storage: true\n    subresources:\n      status: {}\n"
            "    schema:\n      openAPIV3Schema:\n        description: " + sentence(rng, 30) + "\n"
            "        type: object\n        properties:\n          spec:\n            description: "
            + sentence(rng, 25) + "\n            type: object\n            properties:\n" + "".join(props)
            + f"  names:\n    kind: Widget{u}\n    plural: {plural}\n    singular: widget{u}\n"
            "    categories:\n    - all\n    - knative\n    - serving\n  scope: Namespaced\n")


def deployment(rng, u, k, component, version, ns):
    name = component.split("/")[-1].replace("_", "-") + f"-{u}-{k}"
    image = knative_ref(component, version)
    env_extra, args = "", ""
    if k % 2 == 0:  # eventing-style: images handed to the controller in env values
        env_extra = (f"            - name: APISERVER_RA_IMAGE\n              value: {knative_ref(ADAPTER, version)}\n"
                     f"            - name: QUEUE_SIDECAR_IMAGE\n              value: {knative_ref(QUEUE, version)}\n")
    if k % 4 == 1:  # flag arguments: -flag=REF and --flag REF
        args = ("          args:\n            - -v=2\n"
                f"            - -queue-image={knative_ref(QUEUE, version)}\n"
                f"            - --proxy-image\n            - {istio_ref('proxyv2', ISTIO_TAGS[u % 2])}\n")
    return (LICENSE + f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\n"
            f"  labels:\n{labels(name, version, 4)}spec:\n  selector:\n    matchLabels:\n      app: {name}\n"
            f"  template:\n    metadata:\n      annotations:\n        cluster-autoscaler.kubernetes.io/safe-to-evict: \"false\"\n"
            f"      labels:\n        app: {name}\n{labels(name, version, 8)}    spec:\n"
            "      # To avoid node becoming SPOF, spread our replicas to different nodes.\n"
            "      affinity:\n        podAntiAffinity:\n          preferredDuringSchedulingIgnoredDuringExecution:\n"
            "            - podAffinityTerm:\n                labelSelector:\n                  matchLabels:\n"
            f"                    app: {name}\n                topologyKey: kubernetes.io/hostname\n"
            f"              weight: 100\n      serviceAccountName: controller\n      containers:\n"
            f"        - name: {name}\n          # This is the Go import path for the binary that is containerized\n"
            f"          # and substituted here.\n          image: {image}\n" + args +
            "          resources:\n            requests:\n              cpu: 100m\n              memory: 100Mi\n"
            "            limits:\n              cpu: 1000m\n              memory: 1000Mi\n"
            "          env:\n            - name: SYSTEM_NAMESPACE\n              valueFrom:\n"
            "                fieldRef:\n                  fieldPath: metadata.namespace\n"
            "            - name: CONFIG_LOGGING_NAME\n              value: config-logging\n"
            "            - name: CONFIG_OBSERVABILITY_NAME\n              value: config-observability\n"
            "            - name: METRICS_DOMAIN\n              value: knative.dev/internal/serving\n" + env_extra +
            "          securityContext:\n            allowPrivilegeEscalation: false\n"
            "            readOnlyRootFilesystem: true\n            runAsNonRoot: true\n"
            "            capabilities:\n              drop:\n                - ALL\n"
            "            seccompProfile:\n              type: RuntimeDefault\n"
            "          ports:\n            - name: metrics\n              containerPort: 9090\n"
            "            - name: profiling\n              containerPort: 8008\n"
            "          readinessProbe:\n            httpGet:\n              path: /readiness\n"
            "              port: 8080\n            periodSeconds: 5\n"
            "          livenessProbe:\n            httpGet:\n              path: /health\n"
            "              port: 8080\n            failureThreshold: 6\n"
            "      terminationGracePeriodSeconds: 300\n")


def config_deployment(rng, u, version, ns):
    queue = knative_ref(QUEUE, version)
    example = "".join(f"    # {sentence(rng, rng.randint(6, 14))}\n" for _ in range(30))
    return (LICENSE + f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-deployment\n  namespace: {ns}\n"
            f"  labels:\n{labels('controller', version, 4)}  annotations:\n"
            f"    knative.dev/example-checksum: \"{hashlib.sha256(str(u).encode()).hexdigest()[:8]}\"\n"
            "data:\n  # This is the Go import path for the binary that is containerized\n  # and substituted here.\n"
            f"  queue-sidecar-image: {queue}\n  _example: |-\n    ################################\n"
            "    #                              #\n    #    EXAMPLE CONFIGURATION     #\n"
            "    #                              #\n    ################################\n\n" + example +
            "    # The image of the fluentd sidecar, when logging through one.\n"
            f"    logging.fluentd-sidecar-image: gcr.io/knative-releases/fluentd-sidecar:{version}\n\n"
            "    # List of repositories for which tag to digest resolving should be skipped\n"
            "    registries-skipping-tag-resolving: \"kind.local,ko.local,dev.local\"\n"
            "    progress-deadline: \"600s\"\n")


def plain_configmap(rng, u, version, ns):
    example = "".join(f"    # {sentence(rng, rng.randint(6, 14))}\n" for _ in range(25))
    return (LICENSE + f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-logging\n  namespace: {ns}\n"
            f"  labels:\n{labels('logging', version, 4)}data:\n  _example: |\n" + example +
            "    zap-logger-config: |\n      {\n        \"level\": \"info\",\n        \"development\": false,\n"
            "        \"encoding\": \"json\"\n      }\n  loglevel.controller: \"info\"\n  loglevel.webhook: \"info\"\n"
            "  zipkin-endpoint: zipkin.istio-system:9411\n  version: \"10:30\"\n")


def caching_image(u, version, ns):
    return (LICENSE + "apiVersion: caching.internal.knative.dev/v1alpha1\nkind: Image\nmetadata:\n"
            f"  name: queue-proxy\n  namespace: {ns}\n  labels:\n{labels('queue-proxy', version, 4)}spec:\n"
            "  # This is the Go import path for the binary that is containerized\n  # and substituted here.\n"
            f"  image: {knative_ref(QUEUE, version)}\n")


def knative_service(u, version, ns):
    return (f"apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello-{u}\n  namespace: {ns}\n"
            "spec:\n  template:\n    metadata:\n      annotations:\n"
            "        autoscaling.knative.dev/min-scale: \"1\"\n    spec:\n      containers:\n"
            f"        - image: docker.io/library/nginx:1.{15 + u % 10}\n          ports:\n"
            "            - containerPort: 8080\n          env:\n            - name: TARGET\n"
            "              value: Knative\n")


def injector(u, ns):
    tag = ISTIO_TAGS[u % 2]
    return (f"# Source: istio/templates/sidecar-injector-configmap.yaml\n\napiVersion: v1\nkind: ConfigMap\n"
            f"metadata:\n  name: istio-sidecar-injector-{u}\n  namespace: {ns}\n  labels:\n    app: istio\n"
            "    istio: sidecar-injector\ndata:\n  config: |-\n    policy: disabled\n    template: |-\n"
            "      rewriteAppHTTPProbe: false\n      initContainers:\n"
            "      [[ if ne (annotation .ObjectMeta `sidecar.istio.io/interceptionMode` .ProxyConfig.InterceptionMode) \"NONE\" ]]\n"
            f"      - name: istio-init\n        image: \"{istio_ref('proxy_init', tag)}\"\n        args:\n"
            "        - \"-p\"\n        - [[ .MeshConfig.ProxyListenPort ]]\n        - \"-u\"\n        - 1337\n"
            "        - \"-i\"\n        - \"[[ annotation .ObjectMeta `traffic.sidecar.istio.io/includeOutboundIPRanges`  \"*\"  ]]\"\n"
            "        imagePullPolicy: IfNotPresent\n        resources:\n          requests:\n            cpu: 10m\n"
            "            memory: 10Mi\n        securityContext:\n          runAsUser: 0\n          capabilities:\n"
            "            add:\n            - NET_ADMIN\n        restartPolicy: Always\n      [[ end -]]\n"
            "      containers:\n      - name: istio-proxy\n"
            f"        image: [[ annotation .ObjectMeta `sidecar.istio.io/proxyImage`  \"{istio_ref('proxyv2', tag)}\"  ]]\n"
            "        ports:\n        - containerPort: 15090\n          protocol: TCP\n          name: http-envoy-prom\n"
            "        args:\n        - proxy\n        - sidecar\n        - --domain\n        - $(POD_NAMESPACE).svc.cluster.local\n"
            "        - --configPath\n        - [[ .ProxyConfig.ConfigPath ]]\n        - --discoveryAddress\n"
            "        - [[ annotation .ObjectMeta `sidecar.istio.io/discoveryAddress` .ProxyConfig.DiscoveryAddress ]]\n"
            "        - --zipkinAddress\n        - [[ .ProxyConfig.GetTracing.GetZipkin.GetAddress ]]\n"
            "        env:\n        - name: POD_NAME\n          valueFrom:\n            fieldRef:\n"
            "              fieldPath: metadata.name\n        - name: ISTIO_META_CONFIG_NAMESPACE\n"
            "          value: istio-system\n        imagePullPolicy: IfNotPresent\n"
            "        readinessProbe:\n          httpGet:\n            path: /healthz/ready\n            port: 15020\n"
            "          initialDelaySeconds: 1\n          periodSeconds: 2\n          failureThreshold: 30\n")


def small_objects(u, version, ns):
    svc = "".join(
        f"{LICENSE}apiVersion: v1\nkind: Service\nmetadata:\n  name: {n}-{u}\n  namespace: {ns}\n"
        f"  labels:\n{labels(n, version, 4)}spec:\n  selector:\n    app: {n}-{u}\n  ports:\n"
        "  - name: http-metrics\n    port: 9090\n    targetPort: 9090\n  - name: https-webhook\n    port: 443\n"
        "    targetPort: 8443\n---\n" for n in ("controller", "webhook"))
    role = (f"{LICENSE}kind: ClusterRole\napiVersion: rbac.authorization.k8s.io/v1\nmetadata:\n"
            f"  name: knative-serving-admin-{u}\n  labels:\n{labels('controller', version, 4)}rules:\n"
            + "".join(f"  - apiGroups: [\"{g}\"]\n    resources: [\"*\"]\n    verbs: [\"get\", \"list\", \"create\", "
                      "\"update\", \"delete\", \"patch\", \"watch\"]\n"
                      for g in ("serving.knative.dev", "networking.internal.knative.dev", "autoscaling.internal.knative.dev",
                                "caching.internal.knative.dev", "apps", "")))
    return svc + role


def unit(u):
    """One Knative-release-like block of documents (~40 KB)."""
    rng = random.Random(f"manifest-bench-{GENERATOR_VERSION}-{u}")
    version = VERSIONS[u % len(VERSIONS)]
    ns = f"knative-serving-{u}"
    docs = [crd(rng, u, version)]
    for k in range(4):
        docs.append(deployment(rng, u, k, KNATIVE[(u * 4 + k) % len(KNATIVE)], version, ns))
    docs += [config_deployment(rng, u, version, ns), plain_configmap(rng, u, version, ns),
             caching_image(u, version, ns)]
    if u % 2 == 0:
        docs.append(injector(u, ns))
    if u % 3 == 0:
        docs.append(knative_service(u, version, ns))
    docs.append(small_objects(u, version, ns))
    return "---\n".join(docs)


def generate(directory, total_bytes, files=10):
    """Writes part-NN.yaml files of whole units until `total_bytes`; returns (bytes, documents)."""
    os.makedirs(directory, exist_ok=True)
    written, docs, u = 0, 0, 0
    for f in range(files):
        with open(os.path.join(directory, f"part-{f:02d}.yaml"), "w") as out:
            first = True
            while written < total_bytes * (f + 1) / files:
                text = ("" if first else "---\n") + unit(u)
                out.write(text)
                written += len(text.encode())
                docs += text.count("\n---\n") + 1
                first = False
                u += 1
    return written, docs


def prepare_large(cache_dir, size_mb, files, log=print):
    key = hashlib.sha256(f"{GENERATOR_VERSION}/{size_mb}/{files}".encode()).hexdigest()[:12]
    directory = os.path.join(cache_dir, f"large-{size_mb:g}mb-{key}")
    done = os.path.join(directory, "complete.json")
    if not os.path.exists(done):
        shutil.rmtree(directory, ignore_errors=True)
        t0 = time.monotonic()
        written, docs = generate(os.path.join(directory, "set"), size_mb * MB, files)
        with open(done, "w") as f:
            json.dump({"bytes": written, "documents": docs}, f)
        log(f"generated {written / MB:.1f} MB ({docs} documents, {files} files) in {directory} "
            f"in {time.monotonic() - t0:.0f} s")
    with open(done) as f:
        info = json.load(f)
    set_dir = os.path.join(directory, "set")
    paths = sorted(os.path.join(set_dir, n) for n in os.listdir(set_dir) if n.endswith(".yaml"))
    return {"name": "large", "paths": paths, "arg": set_dir, "bytes": info["bytes"], "documents": info["documents"],
            "label": f"generated set, {len(paths)} files"}


def prepare_core(corpus_dir):
    path = os.path.join(corpus_dir, CORE_NAME)
    if not os.path.exists(path):
        raise SystemExit(f"{path} not found: set FERRY_CORPUS or --corpus to the release corpus directory")
    with open(path, "rb") as f:
        data = f.read()
    return {"name": "core", "paths": [path], "arg": path, "bytes": len(data),
            "documents": data.count(b"\n---\n") + 1, "label": CORE_NAME}


# --- running and measuring -----------------------------------------------------------------------
def timed(argv, stdout_path, workdir, name):
    """Runs argv under /usr/bin/time; returns dict(wall, cpu, rss_mb, rc, err). stdout goes to a file."""
    tlog = os.path.join(workdir, f"{name}.time")
    err_path = os.path.join(workdir, f"{name}.err")
    with open(stdout_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M %U %S", "-o", tlog, *argv], stdout=out, stderr=err)
        wall = time.monotonic() - t0
    with open(tlog) as f:
        fields = f.read().split()[-4:]
    with open(err_path, errors="replace") as f:
        err_text = f.read()
    return {"wall": wall, "rss_mb": float(fields[1]) / 1024, "cpu": float(fields[2]) + float(fields[3]),
            "rc": p.returncode, "err": err_text}


def read_inputs(paths):
    data = b""
    for p in paths:
        with open(p, "rb") as f:
            data += f.read()
    return data


def line_changes(before, after):
    """Lines of `after` not matched by a line of `before` (as multisets, since kustomize reorders
    resources), split into those holding a mirror reference and the rest; and comment lines kept."""
    b, a = collections.Counter(before.split(b"\n")), collections.Counter(after.split(b"\n"))
    new = a - b
    with_ref = sum(n for line, n in new.items() if MIRROR.encode() in line)
    other = sum(new.values()) - with_ref
    comments = lambda c: sum(n for line, n in c.items() if line.lstrip().startswith(b"#"))  # noqa: E731
    return {"ref_lines": with_ref, "other_lines": other, "comments_in": comments(b), "comments_out": comments(a),
            "lines_in": sum(b.values()), "lines_out": sum(a.values())}


def occurrences(ferry, target):
    """`ferry images --output json` on a file or directory: {file: [occurrence, ...]} in order."""
    p = subprocess.run([ferry, "images", "-f", target, "--output", "json"], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"ferry images {target}: {p.stderr.strip()}")
    by_file = {}
    for o in json.loads(p.stdout):
        by_file.setdefault(o["file"], []).append(o)
    return by_file


def split_name(text):
    """The name part of a reference as written: without @digest and without :tag."""
    name = text.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return (head + "/" if head else "") + last.split(":", 1)[0]


def check_rewrite(ferry, inp, out_dir, out_paths):
    """Pairs the input's occurrences with the output's (same order), checks that putting the input's
    texts back at the output's offsets gives the input bytes, and returns the name mapping
    {name as written: new name} that ferry's flatten naming applied."""
    base = lambda occ: {os.path.basename(k): v for k, v in occ.items()}  # noqa: E731
    before, after = base(occurrences(ferry, inp["arg"])), base(occurrences(ferry, out_dir))
    mapping, surgical = {}, True
    for src, dst in zip(inp["paths"], out_paths):
        occ_in, occ_out = before.get(os.path.basename(src), []), after.get(os.path.basename(dst), [])
        with open(src, "rb") as f:
            original = f.read()
        with open(dst, "rb") as f:
            rewritten = f.read()
        if len(occ_in) != len(occ_out):
            surgical = False
            continue
        restored, pos = b"", 0
        for o_in, o_out in zip(occ_in, occ_out):
            restored += rewritten[pos:o_out["offset"]] + o_in["text"].encode()
            pos = o_out["offset"] + len(o_out["text"].encode())
            if o_in["text"] != o_out["text"]:
                mapping.setdefault(split_name(o_in["text"]), set()).add(split_name(o_out["text"]))
        restored += rewritten[pos:]
        surgical = surgical and restored == original
    return surgical, mapping


class Bench:
    def __init__(self, args, tmp):
        self.args, self.tmp = args, tmp
        self.rows, self.idle = [], []

    def run(self, inp, tool, argv, stdout_path, repeat, before_each=None, warmup=True, nbytes=None):
        """A warm-up run (not counted), then `repeat` measured runs, each after an idle second if one
        comes. `argv` may be a list of commands (with a list of stdout paths): run one after the other,
        their wall and CPU times add up, the largest RSS counts."""
        argvs, outs = (argv, stdout_path) if isinstance(argv[0], list) else ([argv], [stdout_path])
        results = []
        for i in range(repeat + (1 if warmup else 0)):
            if before_each:
                before_each()
            measured = i > 0 or not warmup
            if measured:
                self.idle.append(wait_quiet(self.args.quiet_wait))
            parts = []
            for j, (cmd, out) in enumerate(zip(argvs, outs)):
                r = timed(cmd, out, self.tmp, f"{inp['name']}-{tool}-{i}-{j}".replace(" ", "_").replace("/", "_"))
                if r["rc"] != 0:
                    raise RuntimeError(f"{tool} on {inp['name']} failed ({r['rc']}): {r['err'][-2000:]}")
                parts.append(r)
            if measured:
                results.append({"wall": sum(r["wall"] for r in parts), "cpu": sum(r["cpu"] for r in parts),
                                "rss_mb": max(r["rss_mb"] for r in parts)})
        walls = [r["wall"] for r in results]
        row = {"input": inp["name"], "tool": tool, "n": len(results), "wall": median(walls), "wall_min": min(walls),
               "wall_max": max(walls), "rss_mb": max(r["rss_mb"] for r in results),
               "cpu": median([r["cpu"] for r in results]), "mbps": (nbytes or inp["bytes"]) / MB / median(walls),
               "bytes": nbytes or inp["bytes"]}
        print(f"  {inp['name']:5} {tool:40} {row['wall'] * 1000:9.1f} ms  ({row['wall_min'] * 1000:.1f}–"
              f"{row['wall_max'] * 1000:.1f}, n={row['n']})  {row['mbps']:7.1f} MB/s  {row['rss_mb']:7.1f} MB RSS",
              flush=True)
        self.rows.append(row)
        return row

    def bench_input(self, inp, repeat):
        a, ferry = self.args, self.args.ferry
        print(f"{inp['name']}: {inp['label']}, {inp['bytes'] / MB:.2f} MB, {inp['documents']} documents", flush=True)
        data = read_inputs(inp["paths"])
        occ = occurrences(ferry, inp["arg"])
        found = sum(1 for os_ in occ.values() for o in os_ if o["confidence"] != "optional")
        optional = sum(1 for os_ in occ.values() for o in os_ if o["confidence"] == "optional")
        stats = {"found": found, "optional": optional}

        # ferry images --output list
        list_out = os.path.join(self.tmp, f"{inp['name']}-images.txt")
        row = self.run(inp, "ferry images", [ferry, "images", "-f", inp["arg"], "--output", "list"], list_out, repeat)
        with open(list_out) as f:
            stats["distinct"] = sum(1 for line in f if line.strip())
        row.update(refs=found, refs_note=f"{found:,} found ({stats['distinct']} distinct; +{optional:,} optional)")

        # ferry rewrite --to ... --naming flatten -o OUT --output json
        out_dir = os.path.join(self.tmp, f"{inp['name']}-rewritten")
        json_out = os.path.join(self.tmp, f"{inp['name']}-rewrite.json")
        warm = inp["name"] == "core"  # the large set is in the page cache after the first run
        row = self.run(inp, "ferry rewrite", [ferry, "rewrite", "-f", inp["arg"], "--to", MIRROR, "--naming", "flatten",
                                              "-o", out_dir, "--output", "json"], json_out, repeat,
                       before_each=lambda: shutil.rmtree(out_dir, ignore_errors=True), warmup=warm)
        with open(json_out) as f:
            replaced = json.load(f)["replaced"]
        out_paths = [os.path.join(out_dir, os.path.basename(p)) for p in inp["paths"]]
        surgical, mapping = check_rewrite(ferry, inp, out_dir, out_paths)
        changes = line_changes(data, read_inputs(out_paths))
        row.update(refs=replaced, refs_note=f"{replaced:,} rewritten", surgical=surgical, **changes)
        stats.update(replaced=replaced, surgical=surgical)

        # kubectl kustomize with images: newName for every distinct name
        if "kustomize" in a.tools:
            conflicts = [n for n, new in mapping.items() if len(new) > 1]
            if conflicts:
                raise RuntimeError(f"ferry mapped one name to several: {conflicts}")
            # kustomize's time grows faster than linearly with the documents of one kustomization
            # (4 MB: 9 s, 16 MB: 2 min here), so on the large set it gets one kustomization per file
            # unless --kustomize-whole-set; both read the same bytes.
            per_file = inp["name"] == "large" and not a.kustomize_whole_set
            groups = [[p] for p in inp["paths"]] if per_file else [inp["paths"]]
            argvs, outs = [], []
            for g, paths in enumerate(groups):
                kdir = os.path.join(self.tmp, f"{inp['name']}-kustomize-{g}")
                os.makedirs(kdir, exist_ok=True)
                for p in paths:
                    dest = os.path.join(kdir, os.path.basename(p))
                    try:
                        os.link(p, dest)
                    except OSError:
                        shutil.copy(p, dest)
                with open(os.path.join(kdir, "kustomization.yaml"), "w") as f:
                    f.write("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n")
                    f.writelines(f"- {os.path.basename(p)}\n" for p in paths)
                    f.write("images:\n")
                    for name in sorted(mapping):
                        f.write(f"- name: {name}\n  newName: {next(iter(mapping[name]))}\n")
                argvs.append([a.kubectl, "kustomize", kdir])
                outs.append(os.path.join(self.tmp, f"{inp['name']}-kustomize-{g}.yaml"))
            tool = "kubectl kustomize (images: newName)" + (", one kustomization per file" if per_file else "")
            row = self.run(inp, tool, argvs, outs, a.repeat_kustomize_large if inp["name"] == "large" else repeat,
                           warmup=inp["name"] == "core")
            k_data = read_inputs(outs)
            if per_file and len(inp["paths"]) >= 2 and not a.no_kustomize_probe:
                # How kustomize scales: the first file alone (above) against the first two in one kustomization.
                kdir = os.path.join(self.tmp, f"{inp['name']}-kustomize-0")
                with open(os.path.join(kdir, "kustomization.yaml")) as f:
                    kust = f.read()
                probe = os.path.join(self.tmp, f"{inp['name']}-kustomize-probe")
                os.makedirs(probe, exist_ok=True)
                for p in inp["paths"][:2]:
                    try:
                        os.link(p, os.path.join(probe, os.path.basename(p)))
                    except OSError:
                        shutil.copy(p, probe)
                first = os.path.basename(inp["paths"][0])
                with open(os.path.join(probe, "kustomization.yaml"), "w") as f:
                    f.write(kust.replace(f"- {first}\n", f"- {first}\n- {os.path.basename(inp['paths'][1])}\n", 1))
                two = sum(os.path.getsize(p) for p in inp["paths"][:2])
                self.idle.append(wait_quiet(a.quiet_wait))
                single = timed(argvs[0], os.devnull, self.tmp, "kustomize-probe-1")
                probe_row = self.run(inp, "kubectl kustomize, files 1–2 in one kustomization (scaling probe)",
                                     [a.kubectl, "kustomize", probe], os.devnull, 1, warmup=False, nbytes=two)
                probe_row.update(single_wall=single["wall"], single_bytes=os.path.getsize(inp["paths"][0]))
            k_refs = k_data.count(MIRROR.encode() + b"/")
            changes = line_changes(data, k_data)
            row.update(refs=k_refs, refs_note=f"{k_refs:,} rewritten", surgical=False, **changes,
                       docs_out=k_data.count(b"\n---\n") + 1)
            stats.update(kustomize_refs=k_refs, image_entries=len(mapping))

        # other ferry binaries (e.g. a build before a change), same commands
        for label, binary in a.extra_ferry:
            self.run(inp, f"ferry images ({label})", [binary, "images", "-f", inp["arg"], "--output", "list"],
                     list_out, repeat, warmup=warm)
            self.run(inp, f"ferry rewrite ({label})", [binary, "rewrite", "-f", inp["arg"], "--to", MIRROR, "--naming",
                                                        "flatten", "-o", out_dir, "--output", "json"], json_out, repeat,
                     before_each=lambda: shutil.rmtree(out_dir, ignore_errors=True), warmup=warm)

        # the same on one core: ferry then runs one finder thread
        if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
            self.run(inp, "ferry images (one core: taskset -c 0)",
                     ["taskset", "-c", "0", ferry, "images", "-f", inp["arg"], "--output", "list"], list_out, repeat,
                     warmup=warm)
            self.run(inp, "ferry rewrite (one core: taskset -c 0)",
                     ["taskset", "-c", "0", ferry, "rewrite", "-f", inp["arg"], "--to", MIRROR, "--naming", "flatten",
                      "-o", out_dir, "--output", "json"], json_out, repeat,
                     before_each=lambda: shutil.rmtree(out_dir, ignore_errors=True), warmup=warm)

        # parse-only baselines
        for tool, argv in self.baselines.items():
            self.run(inp, tool, [*argv, *inp["paths"]], os.path.join(self.tmp, "baseline.out"), repeat, warmup=warm)
        return stats

    # -- parse-only programs ----------------------------------------------------------------------
    baselines = {}

    def build_baselines(self):
        if self.args.no_baselines:
            return
        cxx, cc = shutil.which("c++"), shutil.which("cc")
        if cxx:
            src = os.path.join(self.tmp, "yamlcpp_parse.cc")
            with open(src, "w") as f:
                f.write(YAMLCPP_SRC)
            exe = os.path.join(self.tmp, "yamlcpp_parse")
            if subprocess.run([cxx, "-std=c++20", "-O2", "-g", "-o", exe, src, "-lyaml-cpp"]).returncode == 0:
                self.baselines["yaml-cpp YAML::Load only (parse-only)"] = [exe, "load"]
                self.baselines["yaml-cpp events only (parse-only)"] = [exe, "events"]
        if cc:
            src = os.path.join(self.tmp, "libyaml_parse.c")
            with open(src, "w") as f:
                f.write(LIBYAML_SRC)
            exe = os.path.join(self.tmp, "libyaml_parse")
            if subprocess.run([cc, "-O2", "-g", "-o", exe, src, "-lyaml"], stderr=subprocess.DEVNULL).returncode == 0:
                self.baselines["libyaml events only (parse-only)"] = [exe]
            else:
                print("libyaml-dev not installed: no libyaml baseline", flush=True)


YAMLCPP_SRC = r'''// Parse-only baseline: yaml-cpp on every document of each file (split at "---" lines, like ferry
// does for these inputs). "load": YAML::Load (builds the node tree, as ferry's finder does);
// "events": YAML::Parser with an event handler that does nothing (scanner and parser, no tree).
#include <yaml-cpp/yaml.h>
#include <yaml-cpp/eventhandler.h>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

struct Null : YAML::EventHandler {
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { ++scalars; }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  long scalars = 0;
};

int main(int argc, char** argv) {
  bool events = argc > 1 && std::strcmp(argv[1], "events") == 0;
  long docs = 0, nodes = 0;
  Null null;
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::string line, doc;
    auto flush = [&] {
      if (doc.empty()) return;
      if (events) {
        std::istringstream s(doc);
        YAML::Parser parser(s);
        while (parser.HandleNextDocument(null)) {}
      } else {
        YAML::Node n = YAML::Load(doc);
        nodes += n.size();
      }
      ++docs;
      doc.clear();
    };
    while (std::getline(in, line)) {
      if (line == "---" || line.rfind("--- ", 0) == 0) flush();
      doc += line;
      doc += '\n';
    }
    flush();
  }
  std::cout << docs << " documents, " << (events ? null.scalars : nodes) << "\n";
}
'''

LIBYAML_SRC = r'''/* Parse-only baseline: libyaml's event parser over each file (every document of the stream). */
#include <stdio.h>
#include <yaml.h>

int main(int argc, char** argv) {
  long docs = 0, scalars = 0;
  for (int i = 1; i < argc; ++i) {
    FILE* f = fopen(argv[i], "rb");
    if (!f) { perror(argv[i]); return 1; }
    yaml_parser_t parser;
    yaml_event_t event;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_file(&parser, f);
    int done = 0;
    while (!done) {
      if (!yaml_parser_parse(&parser, &event)) {
        fprintf(stderr, "%s: %s at line %zu\n", argv[i], parser.problem, parser.problem_mark.line + 1);
        return 1;
      }
      if (event.type == YAML_DOCUMENT_START_EVENT) ++docs;
      if (event.type == YAML_SCALAR_EVENT) ++scalars;
      done = event.type == YAML_STREAM_END_EVENT;
      yaml_event_delete(&event);
    }
    yaml_parser_delete(&parser);
    fclose(f);
  }
  printf("%ld documents, %ld scalars\n", docs, scalars);
  return 0;
}
'''


# --- callgrind -----------------------------------------------------------------------------------
def callgrind(argv, workdir, name):
    """Instruction counts of one run (every thread): total, inside FindImages, and in it the parse
    (YamlTree::Parse: libyaml's events into ferry's position tree) and, within that, libyaml's
    yaml_parser_parse; the rest of FindImages is the walk and the reference checks."""
    out = os.path.join(workdir, f"callgrind.{name}")
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", *argv],
                       capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"callgrind {name}: {p.stderr[-1000:]}")
    tree = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--tree=calling", "--auto=no", out],
                          capture_output=True, text=True, cwd=workdir).stdout
    ir = lambda s: int(s.replace(",", ""))  # noqa: E731
    total = ir(re.search(r"^\s*([\d,]+) .*PROGRAM TOTALS", tree, re.M).group(1))
    block = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\*\s+\S*image_finder\.cc:ferry::FindImages\(.*?\n\n", tree,
                      re.M | re.S)
    result = {"total": total, "find_images": 0, "parse": 0, "libyaml": 0}
    if block:
        result["find_images"] = ir(block.group(1))
        for line in block.group(0).splitlines():
            m = re.match(r"^\s*([\d,]+) \([^)]*\)\s+>\s+(.*)$", line)
            if not m:
                continue
            if "YamlTree::Parse(" in m.group(2):
                result["parse"] += ir(m.group(1))
    m = re.search(r"^\s*([\d,]+) \([^)]*\)\s+\*\s+\S*:yaml_parser_parse ", tree, re.M)
    if m:
        result["libyaml"] = ir(m.group(1))  # inclusive; every call comes from YamlTree::Parse
    return result


def callgrind_plain(argv):
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv],
                       capture_output=True, text=True)
    m = re.search(r"refs:\s+([\d,]+)", p.stderr)
    return int(m.group(1).replace(",", "")) if m else None


# --- report --------------------------------------------------------------------------------------
def fmt_wall(r):
    ms = lambda v: f"{v * 1000:.0f}" if v >= 0.1 else f"{v * 1000:.1f}"  # noqa: E731
    return f"{ms(r['wall'])} ({ms(r['wall_min'])}–{ms(r['wall_max'])}, n={r['n']})"


def table(rows, inputs):
    out = ["| input | tool | wall ms (median, range) | MB/s | peak RSS MB | CPU s | references | lines changed: with a mirror reference / other | comment lines kept | rest byte-identical |",
           "|---|---|---:|---:|---:|---:|---|---:|---:|---|"]
    for r in rows:
        if "parse-only" in r["tool"]:
            continue
        inp = inputs[r["input"]]
        changed = f"{r['ref_lines']:,} / {r['other_lines']:,}" if "ref_lines" in r else ""
        comments = f"{r['comments_out']:,} of {r['comments_in']:,}" if "comments_in" in r else ""
        identical = {True: "yes", False: "no"}.get(r.get("surgical"), "")
        if r["tool"].startswith("kubectl"):
            identical = "no (re-serialised)"
        out.append(f"| {inp['short']} | {r['tool']} | {fmt_wall(r)} | {r['mbps']:.1f} | {r['rss_mb']:.1f} | "
                   f"{r['cpu']:.2f} | {r.get('refs_note', '')} | {changed} | {comments} | {identical} |")
    return "\n".join(out)


def baseline_table(rows, inputs):
    base = [r for r in rows if "parse-only" in r["tool"]]
    if not base:
        return ""
    out = ["| input | program (parse only, nothing else) | wall ms (median, range) | MB/s | peak RSS MB |",
           "|---|---|---:|---:|---:|"]
    for r in base:
        out.append(f"| {inputs[r['input']]['short']} | {r['tool'].replace(' (parse-only)', '')} | {fmt_wall(r)} | "
                   f"{r['mbps']:.1f} | {r['rss_mb']:.1f} |")
    return "\n".join(out)


def callgrind_table(cg):
    out = ["| input | binary | instructions | parsing: libyaml's events | parsing: ferry's position tree | rest of the finder (walk, references) | outside the finder (start-up, splitting, threads, output) |",
           "|---|---|---:|---:|---:|---:|---:|"]
    for c in cg:
        t = c["total"]
        pct = lambda v: f"{v / 1e6:,.0f} M ({v / t:.0%})"  # noqa: E731
        rest = c["find_images"] - c["parse"]
        out.append(f"| {c['input']} | {c['binary']} | {t / 1e6:,.0f} M | {pct(c['libyaml'])} | "
                   f"{pct(c['parse'] - c['libyaml'])} | {pct(rest)} | {pct(t - c['find_images'])} |")
    return "\n".join(out)


def targets(rows, inputs):
    def find(inp, tool):
        return next((r for r in rows if r["input"] == inp and r["tool"] == tool), None)

    result = []
    for tool in ("ferry images", "ferry rewrite"):
        r = find("core", tool)
        if r:
            result.append((f"core file ({inputs['core']['bytes'] / 1000:.0f} KB): {tool} < 50 ms",
                           f"{r['wall'] * 1000:.0f} ms (median of {r['n']})", r["wall"] < 0.050))
    for tool in ("ferry images", "ferry rewrite"):
        r = find("large", tool)
        if r:
            result.append((f"large set ({inputs['large']['bytes'] / MB:.0f} MB): {tool} ≥ 50 MB/s",
                           f"{r['mbps']:.1f} MB/s ({r['wall']:.2f} s, median of {r['n']})", r["mbps"] >= 50))
    return result


def versions(args):
    kubectl = subprocess.run([args.kubectl, "version", "--client"], capture_output=True, text=True).stdout
    kv = dict(line.split(": ", 1) for line in kubectl.strip().splitlines() if ": " in line)

    def deb(pkg):
        return subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True).stdout or "?"
    return (f"kubectl {kv.get('Client Version', '?')} (kustomize {kv.get('Kustomize Version', '?')}), "
            f"libyaml {deb('libyaml-0-2')} (ferry's image finder), yaml-cpp {deb('libyaml-cpp0.7')} (parse-only baseline only)")


def build_info(args):
    version = subprocess.run([args.ferry, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", ROOT, "status", "--porcelain", "--", "rewrite"], capture_output=True,
                           text=True).stdout.strip()
    with open(args.ferry, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return (f"{version} ({os.path.relpath(args.ferry_source, ROOT)}, RelWithDebInfo, built from a working tree at commit {commit}"
            f"{' with uncommitted changes in rewrite/' if dirty else ''}, binary sha256 {digest}…)")


def markdown(args, rows, inputs, cg, result, command, elapsed, idle):
    core, large = inputs.get("core"), inputs.get("large")
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: Debian 12, {os.cpu_count()} cores, shared with other "
        "engineers' builds while it ran (see the note on load below). "
        f"{args.build_info}; {versions(args)}.",
        "",
        "**Inputs.** *core*: the Knative Serving 1.23 release file `" + CORE_NAME + "` from the corpus "
        f"({core['bytes'] / 1000:.0f} KB, {core['documents']} documents: 12 CRDs, 12 ConfigMaps, 4 Deployments, a caching "
        "`Image`, RBAC, webhooks; 6 image references). " if core else "",
        (f"*large*: a generated, deterministic set of Knative-shaped documents, {large['bytes'] / MB:.1f} MB in "
         f"{len(large['paths'])} files, {large['documents']:,} documents (`bench/manifest_bench.py` writes it into "
         f"`{args.cache_dir}`, not the repository): per ~40 KB block a CRD with long schema descriptions (URLs, Go "
         "import paths, versions that must not count), 4 Deployments (container images; every second one has image "
         "references in env values, every fourth `-queue-image=REF` and `--proxy-image REF` arguments), a "
         "`config-deployment` ConfigMap (`queue-sidecar-image`, an `_example` block with a commented image), a plain "
         "ConfigMap, a `caching.internal.knative.dev` Image, two Services, a ClusterRole; every second block an "
         "Istio-like sidecar-injector ConfigMap (references inside template text), every third a Knative Service; "
         "license comments above the documents, as in the real files.") if large else "",
        "",
        "**Tools**, on the same input: `ferry images -f INPUT --output list`; `ferry rewrite -f INPUT --to "
        f"{MIRROR} --naming flatten -o OUT --output json`; `kubectl kustomize DIR`, DIR holding the input files and "
        "a `kustomization.yaml` whose `images:` maps every distinct image name in the input, as written, to the name "
        "ferry's flatten naming gives it (`newName`; tags and digests kept) "
        + (f"({', '.join(str(inputs[k]['image_entries']) + ' entries for ' + inputs[k]['short'] for k in inputs if 'image_entries' in inputs[k])})"
           if any('image_entries' in v for v in inputs.values()) else "") + ". "
        "Each command ran once to warm the page cache, then "
        f"{args.repeat_core} times on *core* and {args.repeat_large} times on *large*; wall time is the median (range "
        "and count shown), peak RSS the largest and CPU (user+sys) the median, from `/usr/bin/time`. MB/s = input "
        "bytes / median wall time. *References*: ferry images' occurrences (not counting commented `_example` ones, "
        "which `--output list` leaves out), ferry rewrite's `replaced`, and for kustomize the number of "
        f"`{MIRROR}/` references in its output. *Lines changed*: output lines that no input line matches (compared as "
        "multisets, since kustomize also reorders resources), with and without a mirror reference on them. *Rest "
        "byte-identical*: putting the input's reference texts back at the output's offsets (`ferry images --output "
        "json` on both) gives the input file exactly.",
        "",
        table(rows, inputs),
        "",
    ]
    if any(r["tool"] == "ferry rewrite" for r in rows):
        lines += ["`ferry rewrite` parses every file once: the scan that finds the references to name also keeps "
                  "where each one is (file, byte offset, which spelling: `rewrite/manifest_scan.h`); once every name "
                  "is known it copies each file's bytes with the new references spliced in, checking that each old "
                  "one is still at its offset (a file changed in between is refused). So it costs a `ferry images` "
                  "plus a copy of the files.", ""]
    if args.extra_ferry:
        marks = ", ".join(f"*({label})*" for label, _ in args.extra_ferry)
        lines += [f"Rows marked {marks} ran another ferry binary on the same input"
                  + (f": {args.extra_note}." if args.extra_note else "."), ""]
    krow = {k: next((r for r in rows if r["input"] == k and r["tool"].startswith("kubectl")), None) for k in inputs}
    fr = {k: next((r for r in rows if r["input"] == k and r["tool"] == "ferry rewrite"), None) for k in inputs}
    notes = []
    for k in inputs:
        if krow[k] and fr[k]:
            notes.append(f"on *{inputs[k]['short']}* kustomize rewrote {krow[k]['refs']:,} of the {fr[k]['refs']:,} references "
                         f"ferry rewrote and changed {krow[k]['other_lines']:,} other lines (of {krow[k]['lines_in']:,}), "
                         f"keeping {krow[k]['comments_out']:,} of {krow[k]['comments_in']:,} comment lines")
    if notes:
        lines += ["*kustomize* only looks at `image:` fields of containers: it leaves the caching `Image`'s "
                  "`spec.image`, the `queue-sidecar-image` ConfigMap value, env values, flag arguments and references "
                  "inside text alone. And it re-serialises every document (indentation of sequences, quoting, key "
                  "order in places, comments dropped or moved): " + "; ".join(notes) + ".", ""]
    probe = next((r for r in rows if "scaling probe" in r["tool"]), None)
    if probe:
        ratio = (probe["wall"] / probe["single_wall"]) / (probe["bytes"] / probe["single_bytes"])
        lines += [f"kustomize's time grows faster than its input: the large set's first file alone "
                  f"({probe['single_bytes'] / MB:.1f} MB) took {probe['single_wall']:.1f} s, the first two files in one "
                  f"kustomization ({probe['bytes'] / MB:.1f} MB) {probe['wall']:.1f} s, {ratio:.1f}× the time per byte. "
                  f"So on the large set kustomize ran once per file ({len(inputs['large']['paths'])} kustomizations, "
                  "times added up, "
                  f"{next((r['n'] for r in rows if r['tool'].startswith('kubectl') and r['input'] == 'large'), 1)} "
                  "run); one kustomization of the whole set would take far longer.", ""]
    base = baseline_table(rows, inputs)
    cgt = callgrind_table(cg) if cg else ""
    if base or cgt:
        lines += ["**Where the time goes.** ferry's main thread reads each file and cuts it into documents at "
                  "column-0 `---` lines (`rewrite/yaml_stream.h`); worker threads, one per core it may use (at most "
                  "4, a few documents each in flight), parse each document with libyaml's event parser into a small "
                  "tree whose nodes know their byte ranges (`rewrite/yaml_tree.h`), walk it, and check candidate "
                  "values against the raw bytes; the results come back in file order."
                  + (" Instruction counts under `valgrind --tool=callgrind` (stable under load) of `ferry images "
                     "--output list`:" if cgt else ""), ""]
        if cgt:
            lines += [cgt, ""]
        if any(c["binary"] != "this tree" for c in cg):
            lines += ["(" + ", ".join(sorted({f"*{c['binary']}*" for c in cg if c['binary'] != 'this tree'}))
                      + ": another ferry binary given with `--extra-ferry`, see the note under the first table.)", ""]
        if base:
            lines += ["Parse-only programs on the same inputs, one thread (compiled by the bench with `-O2`, like "
                      "ferry's RelWithDebInfo build): yaml-cpp's `YAML::Load` per document (what ferry's finder used "
                      "before), yaml-cpp's event parser with a handler that does nothing (no tree), and libyaml's "
                      "event parser (what ferry's finder uses now):", "", base, ""]
        bound = []
        for k in inputs:
            fi = next((r for r in rows if r["input"] == k and r["tool"] == "ferry images"), None)
            one = next((r for r in rows if r["input"] == k and r["tool"].startswith("ferry images (one core")), None)
            ly = next((r for r in rows if r["input"] == k and r["tool"].startswith("libyaml events")), None)
            if fi and ly:
                bound.append(f"on *{inputs[k]['short']}* `ferry images` ran at {fi['mbps']:.1f} MB/s"
                             + (f" ({one['mbps']:.1f} MB/s on one core)" if one else "")
                             + f", against {ly['mbps']:.1f} MB/s for libyaml's parse alone on one thread")
        if bound:
            lines += ["Against the parse alone: " + "; ".join(bound) + ".", ""]
    lines += [
        f"Other people work on this machine: before each timed run the bench waited (up to {args.quiet_wait:.0f} s) "
        f"for a second with ≥ 85% of the CPU idle; the idle share in that second was {min(idle):.0%}–{max(idle):.0%} "
        "across runs. Load that starts during a run still shows as noise (hence the medians and ranges); the "
        "callgrind counts are not affected by it.",
        "",
        *targets_table("medians", result),
    ]
    lines += [
        "",
        f"Reproduce (the large set is generated on the first run and cached in `{args.cache_dir}`; this run took "
        f"{elapsed / 60:.0f} min):",
        "",
        "```sh",
        "cmake --build build -j2",
        command,
        "```",
        "",
    ]
    return "\n".join(x for x in lines if x is not None)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferry", default=os.path.join(ROOT, "build", "cli", "ferry"), help="ferry binary")
    p.add_argument("--extra-ferry", action="append", default=[], metavar="LABEL=PATH",
                   help="also time (and callgrind) another ferry binary, e.g. a build before a change (repeatable)")
    p.add_argument("--extra-note", default="", help="what the --extra-ferry binaries are, for the write-up")
    p.add_argument("--corpus", default=os.environ.get("FERRY_CORPUS", os.path.join(ROOT, "..", "shared", "corpus",
                                                                                     "manifests")),
                   help="release corpus directory (default: $FERRY_CORPUS or ../shared/corpus/manifests)")
    p.add_argument("--cache-dir", default="/tmp/ferry-manifest-bench", help="where the generated set is kept")
    p.add_argument("--size-mb", type=float, default=100, help="size of the generated set")
    p.add_argument("--files", type=int, default=10, help="files in the generated set")
    p.add_argument("--inputs", default="core,large", help="comma list: core, large")
    p.add_argument("--tools", default="ferry,kustomize", help="comma list: ferry, kustomize")
    p.add_argument("--kubectl", default="kubectl", help="kubectl binary (for `kubectl kustomize`)")
    p.add_argument("--repeat-core", type=int, default=7, help="measured runs per tool on the core file (≥ 5)")
    p.add_argument("--repeat-large", type=int, default=3, help="measured runs per tool on the large set (≥ 3)")
    p.add_argument("--repeat-kustomize-large", type=int, default=1,
                   help="measured kustomize runs on the large set (each takes minutes)")
    p.add_argument("--kustomize-whole-set", action="store_true",
                   help="one kustomization for the whole large set instead of one per file (very slow)")
    p.add_argument("--no-kustomize-probe", action="store_true",
                   help="skip timing kustomize on the large set's first two files in one kustomization")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each run, wait up to this many seconds for an idle second (other builds)")
    p.add_argument("--no-baselines", action="store_true", help="skip the parse-only programs")
    p.add_argument("--no-callgrind", action="store_true", help="skip the instruction counts")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"), help="markdown file to update")
    p.add_argument("--no-write", action="store_true", help="print the tables only")
    p.add_argument("--json", help="also dump every run as JSON here")
    args = p.parse_args(argv)
    args.tools = args.tools.split(",")
    args.extra_ferry = [tuple(x.split("=", 1)) for x in args.extra_ferry]
    command = "python3 bench/manifest_bench.py" + "".join(
        " " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))

    t_start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ferry-manifest-bench-") as tmp:
        # Run a snapshot of the binary: others may rebuild build/cli/ferry while the bench runs.
        args.ferry_source, args.ferry = args.ferry, snapshot_binary(args.ferry, os.path.join(tmp, "ferry"))
        args.build_info = build_info(args)
        bench = Bench(args, tmp)
        bench.build_baselines()
        inputs = {}
        names = args.inputs.split(",")
        if "core" in names:
            inputs["core"] = prepare_core(args.corpus)
            inputs["core"]["short"] = "core (serving-core.yaml)"
        if "large" in names:
            inputs["large"] = prepare_large(args.cache_dir, args.size_mb, args.files)
            inputs["large"]["short"] = f"large ({inputs['large']['bytes'] / MB:.0f} MB)"
        for key, inp in inputs.items():
            stats = bench.bench_input(inp, args.repeat_core if key == "core" else args.repeat_large)
            inp.update(stats)

        cg = []
        if not args.no_callgrind and shutil.which("valgrind"):
            samples = []
            if "core" in inputs:
                samples.append(("core", "core (serving-core.yaml)", inputs["core"]["paths"]))
            if "large" in inputs:
                sample_dir = os.path.join(args.cache_dir, f"sample-2mb-v{GENERATOR_VERSION}")
                if not os.path.exists(os.path.join(sample_dir, "part-00.yaml")):
                    generate(sample_dir, 2 * MB, files=1)
                samples.append(("large", "2 MB sample of the large set's generator",
                                [os.path.join(sample_dir, "part-00.yaml")]))
            binaries = [("this tree", args.ferry)] + list(args.extra_ferry)
            for key, label, paths in samples:
                for name, binary in binaries:
                    c = callgrind([binary, "images", *sum((["-f", x] for x in paths), []), "--output", "list"], tmp,
                                  f"{key}-{len(cg)}")
                    c.update(input=label, input_key=key, binary=name)
                    cg.append(c)
                    print(f"  callgrind {label} {name}: {c['total'] / 1e6:,.0f} M instructions, "
                          f"parsing {c['parse'] / c['total']:.0%}", flush=True)

    elapsed = time.monotonic() - t_start
    result = targets(bench.rows, inputs)
    print()
    print(table(bench.rows, inputs))
    print()
    print(baseline_table(bench.rows, inputs))
    if cg:
        print()
        print(callgrind_table(cg))
    for name, value, met in result:
        print(f"  {'MET    ' if met else 'NOT MET'}  {name}: {value}")
    print(f"bench wall time {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": bench.rows, "inputs": inputs, "callgrind": cg},
                      f, indent=1, default=str)
    if not args.no_write:
        write_section(args.output, markdown(args, bench.rows, inputs, cg, result, command, elapsed, bench.idle))
        print(f"wrote {os.path.relpath(args.output, os.getcwd())}")
    return 0 if all(r.get("surgical", True) for r in bench.rows if r["tool"] == "ferry rewrite") else 1


if __name__ == "__main__":
    sys.exit(main())
