#!/usr/bin/env python3
"""`ferry mirror` against skopeo, on a stand-in for the 2019 Knative v0.6 + Istio 1.1.3 stack.

Setup (all on 127.0.0.1):
  upstream   a docker-registry holding 32 images under their real repository names, below
             per-registry prefixes (gcr/knative-releases/..., docker/istio/...), ~500 MB of unique
             incompressible gzip layers, shared base layers (distroless-like for Knative,
             Ubuntu-like for Istio) and three multi-arch indexes. Generated once (deterministically)
             and cached in --cache-dir, so re-runs do not regenerate it.
  shaper     bench/link_shaper.py in front of the upstream: 100 ms RTT, 8 MB/s per connection,
             40 MB/s for the whole link (setting "shaped"); "unshaped" reads the upstream directly.
  target     a fresh, empty docker-registry for every run.

Tools (every tool reads the same names, gcr.io/... and docker.io/..., redirected to the upstream):
  ferry            ferry mirror --images LIST --to TARGET/mirror --naming preserve
                   --source-mirror gcr.io=UP/gcr --source-mirror docker.io=UP/docker
  ferry re-run     the same command again against the now complete target (nothing to do)
  skopeo sync      skopeo --registries-conf R sync --src yaml --dest docker --all --scoped ...
  skopeo copy      one `skopeo --registries-conf R copy --all docker://SRC docker://DST` per image
  skopeo xargs     the same, 8 at once: xargs -P 8 -n 2 skopeo ... copy --all (what an expert does)
  (skopeo reads the upstream through a registries.conf that maps gcr.io -> UP/gcr and
   docker.io -> UP/docker, `insecure = true`; --scoped keeps the many `controller`/`webhook`
   images apart, since unscoped sync names the destination after the last path component only.)

Measured per run: wall time, blob bytes the upstream served (its log's http.response.written for
GET /v2/.../blobs/...; on the shaped link also the shaper's own count), requests to the upstream,
peak RSS and user+sys CPU (`/usr/bin/time -v`; for the copy loop: max RSS, summed CPU). After
every run each target manifest is checked against the source: same digest, same bytes, every
child manifest and every blob present.

Image sets (--image-set): "knative" (above, the default) and "small": 12 single-platform images of
three 2 MB layers, the first a base all share (37 blobs, ~50 MB), mirrored over loopback only, where
per-request costs and not bandwidth decide; it has a section of its own in docs/benchmarks.md.

    python3 bench/mirror_bench.py                     # full run, writes docs/benchmarks.md
    python3 bench/mirror_bench.py --image-set small   # the small release over loopback
    python3 bench/mirror_bench.py --scale 0.02 --no-write   # quick smoke test (~10 MB)
"""

import argparse
import hashlib
import json
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)

from ferrytest import images as fimg  # noqa: E402
from ferrytest.client import RegistryClient, MANIFEST_ACCEPT  # noqa: E402
from ferrytest.registry import Registry, _COMPLETED, _METHOD, _URI, _WRITTEN  # noqa: E402
from ferrytest.util import TempDir  # noqa: E402
from link_shaper import LinkShaper  # noqa: E402

from benchlib import targets_table, write_section

GENERATOR_VERSION = 3   # bump when the image set changes: the cache key includes it
DEFAULT_VARIANTS = ["--jobs 4", "--jobs 16"]  # extra ferry rows (--ferry-variant)
SMALL_VARIANTS = ["--jobs 1"]
MB = 1_000_000
RTT_MS, CONN_BPS, TOTAL_BPS = 100, 8e6, 40e6
PREFIX = {"gcr.io": "gcr", "docker.io": "docker"}
BLOB_GET = re.compile(r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$")

# --- the image set -------------------------------------------------------------------------------
# Layer: (name, megabytes of random file content). Names seed the bytes, so the same name is the
# same layer everywhere (a shared base); sizes are what the gzip'd layer weighs (random data does
# not compress).
KN_BASE = {"amd64": [("distroless-base-amd64-static", 0.65), ("distroless-base-amd64-glibc", 7.4)],
           "arm64": [("distroless-base-arm64-static", 0.64), ("distroless-base-arm64-glibc", 7.0)]}
UBUNTU = {"amd64": [("ubuntu-xenial-amd64-rootfs", 43.0), ("ubuntu-xenial-amd64-apt", 0.52),
                    ("ubuntu-xenial-amd64-etc", 0.01)],
          "arm64": [("ubuntu-xenial-arm64-rootfs", 24.0), ("ubuntu-xenial-arm64-etc", 0.01)]}
ISTIO_DEPS = {"amd64": ("istio-deps-amd64-iptables-certs", 8.5), "arm64": ("istio-deps-arm64-iptables-certs", 2.5)}

KS = "knative-releases/github.com/knative"
# (registry, repository, tag, platforms, {arch: [own layers]}) -- Knative images are ko builds:
# distroless base + kodata + Go binary (OCI media types); Istio ones are Docker schema2.
def _ko(name, binary_mb, archs=("amd64",)):
    return {a: [(f"{name}-{a}-kodata", 0.03), (f"{name}-{a}-binary", binary_mb * (0.93 if a == "arm64" else 1))]
            for a in archs}


KNATIVE = [
    ("serving/cmd/controller", 14.5), ("serving/cmd/webhook", 11.0), ("serving/cmd/activator", 12.0),
    ("serving/cmd/autoscaler", 12.5), ("serving/cmd/queue", 6.0, ("amd64", "arm64")),
    ("serving/cmd/networking/istio", 12.0), ("serving/cmd/networking/certmanager", 13.0),
    ("build/cmd/controller", 12.0), ("build/cmd/creds-init", 5.0, ("amd64", "arm64")),
    ("build/cmd/git-init", 6.0), ("build/cmd/nop", 2.0), ("build/cmd/webhook", 10.0),
    ("eventing/cmd/controller", 13.0), ("eventing/cmd/webhook", 10.0), ("eventing/cmd/in_memory/controller", 10.0),
    ("eventing/cmd/in_memory/dispatcher", 9.0), ("eventing/cmd/broker/ingress", 9.0),
    ("eventing/cmd/broker/filter", 9.0), ("eventing/cmd/sources_controller", 12.0),
    ("eventing/cmd/apiserver_receive_adapter", 10.0), ("eventing/cmd/cronjob_receive_adapter", 9.0),
    ("eventing-sources/cmd/manager", 15.0), ("eventing-sources/cmd/github_receive_adapter", 10.0),
]
ISTIO = [  # (name, own layers (amd64), uses istio-deps, archs)
    ("proxyv2", [("envoy", 38.0), ("pilot-agent", 9.0), ("envoy-bootstrap", 0.2)], True, ("amd64",)),
    ("pilot", [("pilot-discovery", 18.0)], False, ("amd64",)),
    ("mixer", [("mixs", 22.0)], False, ("amd64",)),
    ("galley", [("galley", 16.0)], False, ("amd64",)),
    ("citadel", [("istio_ca", 13.0)], False, ("amd64",)),
    ("sidecar_injector", [("sidecar-injector", 11.0)], False, ("amd64",)),
    ("node-agent-k8s", [("node_agent_k8s", 12.0)], False, ("amd64",)),
    ("kubectl", [("kubectl", 12.0)], False, ("amd64",)),
    ("proxy_init", [("istio-iptables-sh", 0.01)], True, ("amd64", "arm64")),
]


def small_image_specs():
    """The small release: 12 single-platform OCI images of three 2 MB layers, the first shared."""
    return [{"registry": "gcr.io", "repository": f"{KS}/serving/cmd/small-{i:02d}", "tag": "v1.0.0", "docker": False,
             "platforms": {"amd64": [("small-shared-base", 2.0), (f"small-{i:02d}-a", 2.0), (f"small-{i:02d}-b", 2.0)]}}
            for i in range(12)]


def image_specs(image_set="knative"):
    """[{registry, repository, tag, docker, platforms: {arch: [(layer name, MB)]}}] in release order."""
    if image_set == "small":
        return small_image_specs()
    specs = []
    for entry in KNATIVE:
        path, binary = entry[0], entry[1]
        archs = entry[2] if len(entry) > 2 else ("amd64",)
        own = _ko(path.replace("/", "-"), binary, archs)
        specs.append({"registry": "gcr.io", "repository": f"{KS}/{path}", "tag": "v0.6.0", "docker": False,
                      "platforms": {a: KN_BASE[a] + own[a] for a in archs}})
    for name, own, deps, archs in ISTIO:
        platforms = {}
        for a in archs:
            layers = list(UBUNTU[a]) + ([ISTIO_DEPS[a]] if deps else [])
            scale = 1 if a == "amd64" else 0.9
            platforms[a] = layers + [(f"istio-{name}-{a}-{n}", mb * scale) for n, mb in own]
        specs.append({"registry": "docker.io", "repository": f"istio/{name}", "tag": "1.1.3", "docker": True,
                      "platforms": platforms})
    return specs


# --- generation ----------------------------------------------------------------------------------
def write_layer(path, name, size):
    """Writes a tar.gz layer holding one file of `size` deterministic random bytes (seeded by
    `name`) to `path`, streaming. Returns (digest, compressed size, diff_id)."""
    rng = random.Random(f"ferry-bench-layer-{name}")
    gz = zlib.compressobj(1, zlib.DEFLATED, 31)  # gzip wrapper, mtime 0: deterministic
    tar_hash, gz_hash = hashlib.sha256(), hashlib.sha256()
    written = 0
    with open(path, "wb") as out:
        def emit(data):
            nonlocal written
            tar_hash.update(data)
            c = gz.compress(data)
            if c:
                gz_hash.update(c)
                out.write(c)
                written += len(c)

        info = tarfile.TarInfo(f"layer/{name}.bin")
        info.size, info.mode, info.mtime, info.uname, info.gname = size, 0o644, 0, "root", "root"
        emit(info.tobuf(format=tarfile.GNU_FORMAT))
        left = size
        while left:
            n = min(left, 1 << 20)
            emit(rng.randbytes(n))
            left -= n
        emit(b"\0" * ((512 - size % 512) % 512) + b"\0" * 1024)  # padding, end-of-archive
        c = gz.flush()
        gz_hash.update(c)
        out.write(c)
        written += len(c)
    return "sha256:" + gz_hash.hexdigest(), written, "sha256:" + tar_hash.hexdigest()


def mount_blob(client, repo, digest, from_repo):
    r = client.request("POST", f"/v2/{repo}/blobs/uploads/?mount={digest}&from={from_repo}",
                       {"Content-Length": "0"}, b"")
    if r.status != 201:
        raise RuntimeError(f"mount {digest} from {from_repo} into {repo}: HTTP {r.status}")


def generate(client, scale, workdir, image_set="knative", log=print):
    """Pushes the image set to the registry behind `client`; returns the manifest of what was pushed."""
    layer_home = {}   # layer name -> (digest, size, diff_id, first repository)
    repo_blobs = {}   # repository -> {digest}
    out = []
    t0 = time.monotonic()
    for spec in image_specs(image_set):
        types = fimg.DOCKER if spec["docker"] else fimg.OCI
        repo = f"{PREFIX[spec['registry']]}/{spec['repository']}"
        have = repo_blobs.setdefault(repo, set())
        children = []
        for arch, layers in spec["platforms"].items():
            descs, diff_ids = [], []
            for name, mb in layers:
                size = max(1, int(mb * MB * scale))
                if name not in layer_home:
                    path = os.path.join(workdir, "layer.tar.gz")
                    digest, gz_size, diff_id = write_layer(path, name, size)
                    with open(path, "rb") as f:
                        got = client.put_blob_stream(repo, f, gz_size)
                    os.unlink(path)
                    assert got == digest, (got, digest)
                    layer_home[name] = (digest, gz_size, diff_id, repo)
                    have.add(digest)
                digest, gz_size, diff_id, home = layer_home[name]
                if digest not in have:
                    mount_blob(client, repo, digest, home)
                    have.add(digest)
                descs.append({"mediaType": types["layer"], "digest": digest, "size": gz_size})
                diff_ids.append(diff_id)
            platform = {"architecture": arch, "os": "linux"}
            if arch == "arm64":
                platform["variant"] = "v8"
            config_doc = dict(platform, created="2019-05-14T00:00:00Z",
                              config={"Env": ["PATH=/usr/local/bin:/usr/bin:/bin"],
                                      "Entrypoint": [f"/{spec['repository'].rsplit('/', 1)[-1]}"],
                                      "Labels": {"source": f"{spec['registry']}/{spec['repository']}"}},
                              rootfs={"type": "layers", "diff_ids": diff_ids},
                              history=[{"created": "2019-05-14T00:00:00Z", "created_by": n} for n, _ in layers])
            config = fimg.Blob(types["config"], fimg.canonical_json(config_doc))
            client.put_blob(repo, config.digest, config.data)
            manifest = {"schemaVersion": 2, "mediaType": types["manifest"], "config": config.descriptor(),
                        "layers": descs}
            raw = fimg.canonical_json(manifest)
            children.append({"platform": platform, "raw": raw, "digest": fimg.sha256_digest(raw),
                             "blobs": [config.descriptor()] + descs})
        if len(children) == 1:
            c = children[0]
            got = client.put_manifest(repo, spec["tag"], types["manifest"], c["raw"])
            top = {"digest": c["digest"], "mediaType": types["manifest"], "children": [],
                   "blobs": c["blobs"]}
        else:
            for c in children:
                got = client.put_manifest(repo, c["digest"], types["manifest"], c["raw"])
                assert got == c["digest"]
            index = {"schemaVersion": 2, "mediaType": types["index"],
                     "manifests": [{"mediaType": types["manifest"], "digest": c["digest"], "size": len(c["raw"]),
                                    "platform": c["platform"]} for c in children]}
            raw = fimg.canonical_json(index)
            got = client.put_manifest(repo, spec["tag"], types["index"], raw)
            c = {"digest": fimg.sha256_digest(raw)}
            top = {"digest": c["digest"], "mediaType": types["index"],
                   "children": [{"digest": ch["digest"], "blobs": ch["blobs"]} for ch in children], "blobs": []}
        assert got == top["digest"], (got, top["digest"])
        top.update(source=f"{spec['registry']}/{spec['repository']}:{spec['tag']}", registry=spec["registry"],
                   repository=spec["repository"], tag=spec["tag"], upstream_repo=repo)
        out.append(top)
        log(f"  pushed {top['source']} ({len(children)} platform(s)) [{time.monotonic() - t0:.0f} s]")
    return out


def unique_blob_bytes(image_set):
    seen = {}
    for img in image_set:
        for b in img["blobs"] + [b for ch in img["children"] for b in ch["blobs"]]:
            seen[b["digest"]] = b["size"]
    return sum(seen.values()), len(seen)


# --- registries ----------------------------------------------------------------------------------
class CachedRegistry(Registry):
    """A plain-HTTP docker-registry whose storage lives in `root` (kept after stop), logging at
    info level (one `response completed` line per request, with http.response.written)."""

    def __init__(self, root):
        super().__init__()
        self.root = root

    def _config(self):
        text = super()._config().replace("level: debug", "level: info")
        return re.sub(r"rootdirectory: .*", f"rootdirectory: {self.root}", text)

    def log_size(self):
        try:
            return os.path.getsize(self.log_path)
        except FileNotFoundError:
            return 0

    def served_since(self, offset):
        """(GET blob body bytes, number of requests) logged after byte `offset` of the log."""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        blob_bytes = requests = 0
        for line in text.splitlines():
            if not _COMPLETED.search(line):
                continue
            requests += 1
            m, u, w = _METHOD.search(line), _URI.search(line), _WRITTEN.search(line)
            if m and u and w and m.group(1) == "GET":
                uri = u.group(1)
                uri = json.loads(uri) if uri.startswith('"') else uri
                if BLOB_GET.search(uri.split("?")[0]):
                    blob_bytes += int(w.group(1))
        return blob_bytes, requests


class TargetRegistry(Registry):
    """A fresh target registry logging at info level (debug logging costs CPU on 2 cores)."""

    def _config(self):
        return super()._config().replace("level: debug", "level: info")


def prepare_upstream(cache_dir, scale, image_set="knative", log=print):
    """Starts the upstream on its cached storage (generating it first when missing); returns
    (registry, image set)."""
    key = hashlib.sha256(json.dumps([GENERATOR_VERSION, scale, image_specs(image_set)]).encode()).hexdigest()[:12]
    home = os.path.join(cache_dir, f"upstream-{key}")
    done = os.path.join(home, "images.json")
    if not os.path.exists(done):
        shutil.rmtree(home, ignore_errors=True)
        os.makedirs(os.path.join(home, "data"))
        log(f"generating the upstream image set in {home} (once; cached for later runs)")
        reg = CachedRegistry(os.path.join(home, "data"))
        reg.start()
        try:
            image_set = generate(reg.client(), scale, home, image_set)
        finally:
            reg.stop()
        with open(done + ".tmp", "w") as f:
            json.dump(image_set, f, indent=1)
        os.rename(done + ".tmp", done)
    with open(done) as f:
        image_set = json.load(f)
    # Warm the page cache so the first tool does not pay for cold reads.
    for dirpath, _, files in os.walk(os.path.join(home, "data")):
        for name in files:
            with open(os.path.join(dirpath, name), "rb") as f:
                while f.read(1 << 22):
                    pass
    reg = CachedRegistry(os.path.join(home, "data"))
    reg.start()
    return reg, image_set, home


# --- verification --------------------------------------------------------------------------------
def verify(target, image_set, target_repo):
    """Checks every image at the target against the source: manifest digest and bytes by tag,
    children by digest, every blob present. Returns a list of problems (empty: all good)."""
    client = RegistryClient(target.host)
    problems = []
    for img in image_set:
        repo = target_repo(img)
        r = client.get_manifest(repo, img["tag"])
        if r.status != 200:
            problems.append(f"{repo}:{img['tag']}: HTTP {r.status}")
            continue
        got = fimg.sha256_digest(r.body)
        if got != img["digest"] or r.header("docker-content-digest") != img["digest"]:
            problems.append(f"{repo}:{img['tag']}: digest {got}, source has {img['digest']}")
            continue
        blobs = list(img["blobs"])
        for ch in img["children"]:
            if client.manifest_digest(repo, ch["digest"]) != ch["digest"]:
                problems.append(f"{repo}@{ch['digest']}: child manifest missing")
            blobs += ch["blobs"]
        for b in blobs:
            if not client.has_blob(repo, b["digest"]):
                problems.append(f"{repo}: blob {b['digest']} missing")
    return problems


# --- running tools -------------------------------------------------------------------------------
def proc_cpu(proc):
    """user+sys CPU seconds a child process (a registry) has used so far."""
    with open(f"/proc/{proc.pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def idle_fraction(window=1.0):
    """Share of all cores' time spent idle over the next `window` seconds (/proc/stat)."""
    def read():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return v[3] + v[4], sum(v)  # idle + iowait, total
    i0, t0 = read()
    time.sleep(window)
    i1, t1 = read()
    return (i1 - i0) / max(1, t1 - t0)


def wait_quiet(max_wait, threshold=0.85):
    """Waits (up to `max_wait` s) for a second in which the machine is at least `threshold` idle,
    so other people's builds do not land in a measurement. Returns the last idle fraction seen."""
    deadline = time.monotonic() + max_wait
    while True:
        idle = idle_fraction()
        if idle >= threshold or time.monotonic() >= deadline:
            return idle


class LinkSampler:
    """Samples the blob bytes the shaper has relayed, every 0.1 s, to see how long a run spends
    before the link is busy and after it has carried almost everything."""

    def __init__(self, shaper, t0, interval=0.1):
        import threading
        self.shaper, self.t0, self.interval = shaper, t0, interval
        self.samples = []
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        while not self._done.wait(self.interval):
            n = sum(e.response_bytes for e in self.shaper.exchanges(BLOB_GET.pattern, "GET"))
            self.samples.append((time.monotonic() - self.t0, n))

    def stop(self):
        self._done.set()
        self._thread.join()

    def summary(self, total):
        """(first blob byte at, 99% of `total` at) in seconds since the start, None if never."""
        first = next((t for t, n in self.samples if n > 0), None)
        p99 = next((t for t, n in self.samples if n >= 0.99 * total), None)
        return {"first_byte": first, "p99": p99}


def timed(argv, env, workdir, name, timeout):
    """Runs argv under /usr/bin/time -v; returns dict(wall, cpu, rss_mb, rc, out, err)."""
    tlog = os.path.join(workdir, f"{name}.time")
    out_path, err_path = os.path.join(workdir, f"{name}.out"), os.path.join(workdir, f"{name}.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-v", "-o", tlog, *argv], stdout=out, stderr=err, env=env,
                           timeout=timeout)
        wall = time.monotonic() - t0
    with open(tlog) as f:
        t = f.read()
    field = lambda label: float(re.search(re.escape(label) + r":\s*([\d.]+)", t).group(1))  # noqa: E731
    with open(out_path, errors="replace") as f:
        out_text = f.read()
    with open(err_path, errors="replace") as f:
        err_text = f.read()
    return {"wall": wall, "cpu": field("User time (seconds)") + field("System time (seconds)"),
            "rss_mb": field("Maximum resident set size (kbytes)") / 1024, "rc": p.returncode,
            "out": out_text, "err": err_text}


class Bench:
    def __init__(self, args, upstream, image_set, tmp):
        self.args, self.upstream, self.image_set, self.tmp = args, upstream, image_set, tmp
        self.unique_bytes, self.unique_blobs = unique_blob_bytes(image_set)
        self.rows = []
        self.runs = 0
        self.list_path = os.path.join(tmp.path, "images.txt")
        with open(self.list_path, "w") as f:
            f.write("".join(img["source"] + "\n" for img in image_set))

    def workdir(self, name):
        self.runs += 1
        return self.tmp.sub(f"{self.runs:02d}-{name}", mkdir=True)

    def env(self, home):
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update(HOME=home, XDG_CACHE_HOME=os.path.join(home, "cache"),
                   DOCKER_CONFIG=os.path.join(home, "docker"))
        for d in ("cache", "docker"):
            os.makedirs(os.path.join(home, d), exist_ok=True)
        return env

    def registries_conf(self, workdir, source_host):
        path = os.path.join(workdir, "registries.conf")
        with open(path, "w") as f:
            for registry, prefix in PREFIX.items():
                f.write(f'[[registry]]\nprefix = "{registry}"\nlocation = "{source_host}/{prefix}"\n'
                        f"insecure = true\n\n")
        return path

    def measure(self, setting, tool, shaper, target, target_repo, run, note=""):
        """Runs `run()` (returning a timed() dict, or a list of them), measures the source side and
        verifies the target; appends a row."""
        offset = self.upstream.log_size()
        if shaper:
            shaper.reset_counters()
        reg_cpu0 = proc_cpu(self.upstream._proc) + proc_cpu(target._proc)
        bench_cpu0 = sum(os.times()[:2])
        idle = wait_quiet(self.args.quiet_wait)
        load = os.getloadavg()[0]
        t0 = time.monotonic()
        sampler = LinkSampler(shaper, t0) if shaper else None
        try:
            results = run()
        finally:
            wall = time.monotonic() - t0
            if sampler:
                sampler.stop()
        reg_cpu = proc_cpu(self.upstream._proc) + proc_cpu(target._proc) - reg_cpu0
        bench_cpu = sum(os.times()[:2]) - bench_cpu0
        results = results if isinstance(results, list) else [results]
        time.sleep(0.3)  # let the registry flush its last log lines
        src_bytes, src_requests = self.upstream.served_since(offset)
        row = {"setting": setting, "tool": tool, "note": note, "wall": wall,
               "cpu": sum(r["cpu"] for r in results), "rss_mb": max(r["rss_mb"] for r in results),
               "src_bytes": src_bytes, "src_requests": src_requests,
               "shaper_bytes": shaper.bytes_for(BLOB_GET.pattern, "GET") if shaper else None,
               "registry_cpu": reg_cpu, "load": load, "idle_before": idle, "shaper_cpu": bench_cpu if shaper else None,
               "failed": [r for r in results if r["rc"] != 0]}
        if sampler:
            row["timeline"] = sampler.summary(self.unique_bytes)
        problems = verify(target, self.image_set, target_repo)
        row["verified"] = not problems and not row["failed"]
        row["problems"] = problems[:5] + [f"exit {r['rc']}: {r['err'][-800:]}" for r in row["failed"][:2]]
        self.rows.append(row)
        mark = "ok" if row["verified"] else "NOT VERIFIED"
        print(f"  {setting:8} {tool:34} {wall:7.1f} s  src {src_bytes / MB:7.1f} MB  "
              f"rss {row['rss_mb']:6.1f} MB  cpu {row['cpu']:6.1f} s  {mark}", flush=True)
        for p in row["problems"]:
            print(f"      {p}", flush=True)
        return row

    # one tool, one fresh target each ---------------------------------------------------------------
    def ferry_argv(self, source_host, target, workdir, extra):
        argv = [self.args.ferry, "mirror", "--images", self.list_path, "--to", f"{target.host}/mirror",
                "--naming", "preserve", "--lock", os.path.join(workdir, "images.lock"), "--output", "json"]
        for registry, prefix in PREFIX.items():
            argv += ["--source-mirror", f"{registry}={source_host}/{prefix}"]
        return argv + list(extra)

    def run_ferry(self, setting, source_host, shaper, extra=(), rerun=True):
        with TargetRegistry() as target:
            wd = self.workdir("ferry")
            env = self.env(os.path.join(wd, "home"))
            argv = self.ferry_argv(source_host, target, wd, extra)
            repo = lambda img: f"mirror/{img['repository']}"  # noqa: E731
            label = "ferry mirror" + (" " + " ".join(extra) if extra else "")
            row = self.measure(setting, label, shaper, target, repo,
                               lambda: timed(argv, env, wd, "ferry", self.args.timeout))
            row["summary"] = ferry_summary(wd, "ferry")
            row["command"] = argv
            if rerun:
                r2 = self.measure(setting, label + " (re-run, nothing to do)", shaper, target, repo,
                                  lambda: timed(argv, env, wd, "ferry-rerun", self.args.timeout))
                r2["summary"] = ferry_summary(wd, "ferry-rerun")
                r2["rerun"] = True

    def run_skopeo_sync(self, setting, source_host, shaper):
        with TargetRegistry() as target:
            wd = self.workdir("skopeo-sync")
            env = self.env(os.path.join(wd, "home"))
            conf = self.registries_conf(wd, source_host)
            yaml_path = os.path.join(wd, "sync.yaml")
            with open(yaml_path, "w") as f:
                for registry in PREFIX:
                    f.write(f"{registry}:\n  tls-verify: false\n  images:\n")
                    for img in self.image_set:
                        if img["registry"] == registry:
                            f.write(f"    {img['repository']}:\n      - \"{img['tag']}\"\n")
            argv = ["skopeo", "--registries-conf", conf, "sync", "--src", "yaml", "--dest", "docker", "--all",
                    "--scoped", "--dest-tls-verify=false", yaml_path, f"{target.host}/sync"]
            repo = lambda img: f"sync/{img['registry']}/{img['repository']}"  # noqa: E731
            row = self.measure(setting, "skopeo sync --all --scoped", shaper, target, repo,
                               lambda: timed(argv, env, wd, "skopeo-sync", self.args.timeout))
            row["command"] = argv

    def run_skopeo_xargs(self, setting, source_host, shaper):
        """One `skopeo copy --all` per image, 8 at once (xargs -P 8): what an expert does today."""
        with TargetRegistry() as target:
            wd = self.workdir("skopeo-xargs")
            env = self.env(os.path.join(wd, "home"))
            conf = self.registries_conf(wd, source_host)
            pairs = os.path.join(wd, "pairs.txt")
            with open(pairs, "w") as f:
                for img in self.image_set:
                    f.write(f"docker://{img['source']} "
                            f"docker://{target.host}/xargs/{img['registry']}/{img['repository']}:{img['tag']}\n")
            argv = ["xargs", "-P", "8", "-n", "2", "-a", pairs, "skopeo", "--registries-conf", conf, "copy", "--all",
                    "-q", "--dest-tls-verify=false"]
            repo = lambda img: f"xargs/{img['registry']}/{img['repository']}"  # noqa: E731
            row = self.measure(setting, SKOPEO_XARGS, shaper, target, repo,
                               lambda: timed(argv, env, wd, "skopeo-xargs", self.args.timeout))
            row["command"] = argv

    def run_skopeo_copy(self, setting, source_host, shaper):
        with TargetRegistry() as target:
            wd = self.workdir("skopeo-copy")
            env = self.env(os.path.join(wd, "home"))
            conf = self.registries_conf(wd, source_host)

            def loop():
                results = []
                for i, img in enumerate(self.image_set):
                    argv = ["skopeo", "--registries-conf", conf, "copy", "--all", "--dest-tls-verify=false",
                            f"docker://{img['source']}",
                            f"docker://{target.host}/copy/{img['registry']}/{img['repository']}:{img['tag']}"]
                    results.append(timed(argv, env, wd, f"copy-{i:02d}", self.args.timeout))
                return results

            repo = lambda img: f"copy/{img['registry']}/{img['repository']}"  # noqa: E731
            self.measure(setting, "skopeo copy --all (loop)", shaper, target, repo, loop)


def ferry_summary(wd, name):
    try:
        with open(os.path.join(wd, f"{name}.out")) as f:
            lines = [json.loads(line) for line in f if line.strip().startswith("{")]
        return next((x for x in reversed(lines) if x.get("event") == "summary"), None)
    except (OSError, ValueError):
        return None


# --- report --------------------------------------------------------------------------------------
def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def aggregate(rows):
    """One entry per (setting, tool), in first-seen order: median wall/CPU, the worst bytes/RSS,
    verified only if every repetition verified."""
    groups = {}
    for r in rows:
        groups.setdefault((r["setting"], r["tool"]), []).append(r)
    out = []
    for (setting, tool), rs in groups.items():
        walls = [r["wall"] for r in rs]
        shaper = [r["shaper_bytes"] for r in rs if r["shaper_bytes"] is not None]
        out.append({"setting": setting, "tool": tool, "n": len(rs), "wall": median(walls),
                    "wall_min": min(walls), "wall_max": max(walls), "cpu": median([r["cpu"] for r in rs]),
                    "registry_cpu": median([r["registry_cpu"] for r in rs]),
                    "rss_mb": max(r["rss_mb"] for r in rs), "src_bytes": max(r["src_bytes"] for r in rs),
                    "shaper_bytes": max(shaper) if shaper else None,
                    "src_requests": max(r["src_requests"] for r in rs),
                    "verified": all(r["verified"] for r in rs), "rerun": rs[0].get("rerun", False),
                    "timeline": rs[len(rs) // 2].get("timeline")})
    return out


def table(agg, bound):
    sync = {a["setting"]: a["wall"] for a in agg if a["tool"] == SKOPEO_SYNC}
    lines = ["| link | tool | wall s | × skopeo sync | × link bound | blob MB read from source | requests to source "
             "| peak RSS MB | CPU s (user+sys) | registries' CPU s | digests verified |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for a in agg:
        wall = f"{a['wall']:.1f}"
        if a["n"] > 1:
            wall += f" ({a['wall_min']:.1f}–{a['wall_max']:.1f}, n={a['n']})"
        vs_sync = f"{a['wall'] / sync[a['setting']]:.2f}" if a["setting"] in sync and not a["rerun"] else ""
        vs_bound = f"{a['wall'] / bound:.2f}" if a["setting"] == "shaped" and not a["rerun"] else ""
        src = f"{a['src_bytes'] / MB:.1f}"
        if a["shaper_bytes"] is not None:
            src += f" (shaper: {a['shaper_bytes'] / MB:.1f})"
        lines.append(f"| {a['setting']} | {a['tool']} | {wall} | {vs_sync} | {vs_bound} | {src} | {a['src_requests']} "
                     f"| {a['rss_mb']:.1f} | {a['cpu']:.1f} | {a['registry_cpu']:.1f} "
                     f"| {'yes' if a['verified'] else '**NO**'} |")
    return "\n".join(lines)


SKOPEO_SYNC = "skopeo sync --all --scoped"
SKOPEO_XARGS = "xargs -P 8 skopeo copy --all"


def timeline_table(agg, bound):
    """Where the shaped runs lose time against the link bound: before the first blob byte, and
    after 99% of the unique bytes have crossed the link."""
    lines = ["| tool (shaped link) | wall s | first blob byte at s | 99% of unique bytes at s | tail after 99% s "
             "| wall − link bound s |", "|---|---:|---:|---:|---:|---:|"]
    for a in agg:
        tl = a.get("timeline")
        if a["setting"] != "shaped" or a["rerun"] or not tl or tl["first_byte"] is None or tl["p99"] is None:
            continue
        lines.append(f"| {a['tool']} | {a['wall']:.1f} | {tl['first_byte']:.1f} | {tl['p99']:.1f} "
                     f"| {a['wall'] - tl['p99']:.1f} | {a['wall'] - bound:.1f} |")
    return "\n".join(lines)


def targets(agg, unique_bytes, bound):
    """[(target, measured, met)] for the default ferry rows (medians)."""
    def find(setting, tool):
        return next((a for a in agg if a["setting"] == setting and a["tool"] == tool), None)

    out = []
    fs, ss = find("shaped", "ferry mirror"), find("shaped", SKOPEO_SYNC)
    fu, su = find("unshaped", "ferry mirror"), find("unshaped", SKOPEO_SYNC)
    xs = find("shaped", SKOPEO_XARGS)
    if fs and ss:
        out.append(("shaped: ferry wall ≤ 0.5× skopeo sync", f"{fs['wall']:.1f} s vs {ss['wall']:.1f} s = "
                    f"{fs['wall'] / ss['wall']:.2f}×", fs["wall"] <= 0.5 * ss["wall"]))
    if fs and xs:
        out.append((f"shaped: ferry wall ≤ 0.8× {SKOPEO_XARGS}", f"{fs['wall']:.1f} s vs {xs['wall']:.1f} s = "
                    f"{fs['wall'] / xs['wall']:.2f}×", fs["wall"] <= 0.8 * xs["wall"]))
    if fs:
        out.append(("shaped: ferry wall ≤ 1.2× link bound", f"{fs['wall']:.1f} s vs {bound:.1f} s = "
                    f"{fs['wall'] / bound:.2f}×", fs["wall"] <= 1.2 * bound))
        out.append(("shaped: ferry wall ≤ 1.1× link bound (aim)", f"{fs['wall'] / bound:.2f}×", fs["wall"] <= 1.1 * bound))
    if fu and su:
        out.append(("unshaped: ferry wall ≤ 0.7× skopeo sync", f"{fu['wall']:.1f} s vs {su['wall']:.1f} s = "
                    f"{fu['wall'] / su['wall']:.2f}×", fu["wall"] <= 0.7 * su["wall"]))
    for a in (fs, fu):
        if a:
            out.append((f"{a['setting']}: ferry blob bytes read from source ≤ unique bytes",
                        f"{a['src_bytes'] / MB:.1f} MB vs {unique_bytes / MB:.1f} MB", a["src_bytes"] <= unique_bytes))
    for a in (fs, fu):
        if a:
            out.append((f"{a['setting']}: ferry peak RSS ≤ 64 MB", f"{a['rss_mb']:.1f} MB", a["rss_mb"] <= 64))
    for a in agg:
        if a["tool"] == "ferry mirror (re-run, nothing to do)":
            out.append((f"{a['setting']}: ferry re-run with nothing to do ≤ 3 s",
                        f"{a['wall']:.2f} s (worst {a['wall_max']:.2f} s)", a["wall_max"] <= 3))
    ferry = [a for a in agg if a["tool"].startswith("ferry")]
    out.append(("every ferry run digest-exact at the target", f"{sum(a['verified'] for a in ferry)}/{len(ferry)} rows",
                all(a["verified"] for a in ferry)))
    return out


def tool_versions():
    """(skopeo's version line, docker-registry's version)."""
    skopeo = subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
    registry = subprocess.run(["docker-registry", "--version"], capture_output=True, text=True).stdout.strip()
    return skopeo, registry.split(" ")[-1]


def small_targets(agg, unique_bytes):
    """[(target, measured, met)] for the small release over loopback (medians)."""
    def find(tool):
        return next((a for a in agg if a["setting"] == "unshaped" and a["tool"] == tool), None)

    out = []
    f, s, x = find("ferry mirror"), find(SKOPEO_SYNC), find(SKOPEO_XARGS)
    if f and s:
        out.append(("ferry wall ≤ 0.7× skopeo sync", f"{f['wall']:.2f} s vs {s['wall']:.2f} s = {f['wall'] / s['wall']:.2f}×",
                    f["wall"] <= 0.7 * s["wall"]))
    if f and x:
        out.append((f"ferry wall ≤ {SKOPEO_XARGS}", f"{f['wall']:.2f} s vs {x['wall']:.2f} s = {f['wall'] / x['wall']:.2f}×",
                    f["wall"] <= x["wall"]))
    if f:
        out.append(("ferry blob bytes read from source ≤ unique bytes",
                    f"{f['src_bytes'] / MB:.1f} MB vs {unique_bytes / MB:.1f} MB", f["src_bytes"] <= unique_bytes))
        out.append(("ferry peak RSS ≤ 64 MB", f"{f['rss_mb']:.1f} MB", f["rss_mb"] <= 64))
    ferry = [a for a in agg if a["tool"].startswith("ferry")]
    out.append(("every ferry run digest-exact at the target", f"{sum(a['verified'] for a in ferry)}/{len(ferry)} rows",
                all(a["verified"] for a in ferry)))
    return out


def small_markdown(agg, result, bench, image_set, command, elapsed, notes=""):
    skopeo_version, registry_version = tool_versions()
    n = len(image_set)
    lines = [
        "## ferry mirror: a small release over loopback",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: Debian 12, {os.cpu_count()} cores, everything on "
        f"127.0.0.1. {bench.args.build_info}, {skopeo_version}, CNCF docker-registry {registry_version}.",
        "",
        f"**Setup.** {n} single-platform OCI images (`gcr.io/knative-releases/.../small-NN:v1.0.0`), each of three "
        "2 MB layers of incompressible bytes, the first a base all of them share: "
        f"{bench.unique_blobs} distinct blobs, **{bench.unique_bytes / MB:.1f} MB**, read straight from the upstream "
        "docker-registry (no link shaping) into a fresh, empty target docker-registry for every run. Here what "
        "decides is what each blob costs in requests and round trips, not bandwidth. Tools and columns as in the "
        "*ferry mirror* section above.",
        "",
        table(agg, bench.unique_bytes / TOTAL_BPS),
        "",
        *([notes, ""] if notes else []),
        *targets_table("medians", result),
    ]
    lines += ["", f"Reproduce (this run took {elapsed / 60:.0f} min; the image set is generated on the first run "
                  f"and cached in `{bench.args.cache_dir}`):", "", "```sh", "cmake --build build -j2", command, "```", ""]
    return "\n".join(lines)


def markdown(agg, result, bench, image_set, command, elapsed):
    nplat = sum(max(1, len(i["children"])) for i in image_set)
    multi = [i["source"] for i in image_set if i["children"]]
    bound = bench.unique_bytes / TOTAL_BPS
    skopeo_version, registry_version = tool_versions()
    ferry_version = bench.args.build_info
    lines = [
        "## ferry mirror",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: Debian 12, {os.cpu_count()} cores, everything on "
        "127.0.0.1 (tools, registries and link shaper share the 2 cores). "
        f"{ferry_version}, {skopeo_version}, CNCF docker-registry {registry_version}.",
        "",
        "**Setup.** An *upstream* docker-registry holds a deterministic stand-in for the 2019 Knative v0.6 + "
        f"Istio 1.1.3 stack: {len(image_set)} images under their real repository names "
        "(`gcr.io/knative-releases/github.com/knative/{serving,build,eventing,eventing-sources}/cmd/...:v0.6.0`, "
        "`docker.io/istio/{proxyv2,pilot,mixer,galley,citadel,sidecar_injector,node-agent-k8s,kubectl,proxy_init}:1.1.3`), "
        f"stored as `gcr/...` and `docker/...`; {nplat} platform manifests, {len(multi)} multi-arch indexes "
        f"({', '.join('`' + m.split('/')[-1] + '`' for m in multi)}), Knative images OCI, Istio images Docker "
        "schema 2; a distroless-like base (2 layers) shared by all Knative images, an Ubuntu-like base (3 layers) "
        f"shared by all Istio images; {bench.unique_blobs} distinct blobs, **{bench.unique_bytes / MB:.1f} MB** of "
        "unique incompressible gzip layers. Every run mirrors all images into a fresh, empty target "
        "docker-registry. *shaped*: the tools read the upstream through `bench/link_shaper.py` "
        f"({RTT_MS} ms RTT, {CONN_BPS / MB:.0f} MB/s per connection, {TOTAL_BPS / MB:.0f} MB/s for the link; the "
        "target is not shaped); *unshaped*: straight from the upstream. "
        f"Link bound = unique bytes / {TOTAL_BPS / MB:.0f} MB/s = **{bound:.1f} s**.",
        "",
        "Tools: `ferry mirror --images LIST --to TARGET/mirror --naming preserve --source-mirror gcr.io=UP/gcr "
        "--source-mirror docker.io=UP/docker` (default `--jobs 8`, extra rows with other flags); the re-run is the "
        "same command against the complete target; `skopeo sync --src yaml --dest docker --all --scoped "
        "--dest-tls-verify=false SYNC.yaml TARGET/sync` (`tls-verify: false` in the YAML; `--scoped` because "
        "unscoped sync names each destination after the source's last path component, and the set has three "
        "`controller`s and three `webhook`s); a loop of `skopeo copy --all docker://SRC docker://DST`, one per "
        "image; and the same 8 at once (`xargs -P 8 -n 2 skopeo copy --all`, what an expert does today). skopeo reads the `gcr.io/...`/`docker.io/...` names through a `--registries-conf` that maps them "
        "to `UP/gcr`, `UP/docker` (`insecure = true`), so all tools read the same names from the same place.",
        "",
        "Columns: wall time (median, with range and count when repeated); blob bytes read from the source "
        "(the upstream registry's `http.response.written` for `GET /v2/.../blobs/...`; on the shaped link also "
        "the shaper's count); all requests the upstream answered; peak RSS and user+sys CPU of the tool "
        "(`/usr/bin/time -v`; the copy loop and xargs: the largest RSS, the summed CPU); CPU the two registries used "
        "meanwhile. After every run each image at the target was checked against the source: manifest digest "
        "and bytes by tag, child manifests by digest, every blob present (*digests verified*).",
        "",
        table(agg, bound),
        "",
        "Where the shaped runs spend the time beyond the link bound (blob bytes through the shaper, sampled "
        "every 0.1 s):",
        "",
        timeline_table(agg, bound),
        "",
        *reading_notes(agg, image_set, bound),
        "Other people work on this machine: before each run the bench waited (up to "
        f"{bench.args.quiet_wait:.0f} s) for a second with ≥ 85% of the CPU idle; the idle share in that "
        f"second was {min(r['idle_before'] for r in bench.rows):.0%}–{max(r['idle_before'] for r in bench.rows):.0%} "
        "across runs. What other work starts during a run still shows up as noise, mostly in the short "
        "unshaped runs (hence 3 repetitions and medians).",
        "",
        *targets_table("ferry at default flags, medians", result),
    ]
    lines += [
        "",
        "Reproduce (the command that produced this table; the upstream image set is generated on the first "
        f"run, about 20 s, and cached in `{bench.args.cache_dir}`; this run took {elapsed / 60:.0f} min):",
        "",
        "```sh",
        "cmake --build build -j2",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def reading_notes(agg, image_set, bound):
    """A paragraph on where the time goes, from the shaped timeline numbers."""
    def find(tool):
        return next((a for a in agg if a["setting"] == "shaped" and a["tool"] == tool and a.get("timeline")), None)

    sizes = {}
    for img in image_set:
        for b in img["blobs"] + [b for ch in img["children"] for b in ch["blobs"]]:
            sizes[b["digest"]] = b["size"]
    small = sum(1 for v in sizes.values() if v < MB)
    f, s = find("ferry mirror"), find(SKOPEO_SYNC)
    if not f or not f["timeline"]["p99"]:
        return []
    tl = f["timeline"]
    text = (f"*Reading the shaped numbers.* ferry keeps the link at its {TOTAL_BPS / MB:.0f} MB/s cap from "
            f"{tl['first_byte']:.1f} s to {tl['p99']:.1f} s; the {f['wall'] - bound:.1f} s above the bound are the "
            f"{tl['first_byte']:.1f} s before the first blob byte (a ping, then each image's manifest, one "
            f"{RTT_MS} ms round trip each and a new connection per worker; an image's blobs start as soon as it is "
            f"read, its tag list and the target's answer come meanwhile) and the {f['wall'] - tl['p99']:.1f} s tail "
            f"(the last blobs, then the manifests; the {small} blobs under 1 MB, configs and small layers, go on "
            "connections of their own beside the large ones, so they do not wait for the end).")
    x = find(SKOPEO_XARGS)
    if x and x["timeline"]["p99"]:
        text += (f" `{SKOPEO_XARGS}` fills the link too, but reads {x['src_bytes'] / MB:.0f} MB for "
                 f"{sum(sizes.values()) / MB:.0f} MB of distinct blobs (each process reads the base layers its images "
                 f"share again) and its last images run alone: {x['wall'] - x['timeline']['p99']:.1f} s after 99% of "
                 "the distinct bytes have crossed.")
    if s and s["timeline"]["p99"]:
        text += (f" skopeo sync averages {sum(sizes.values()) / s['wall'] / MB:.1f} MB/s over the link: it copies one "
                 "image at a time, so each image's largest layer crosses one connection capped at "
                 f"{CONN_BPS / MB:.0f} MB/s while the rest of the link idles.")
    return [text, ""]


def snapshot_binary(path, dest):
    """Copies the ferry binary to `dest` once it is complete and runs (`--version`)."""
    for _ in range(60):
        try:
            shutil.copy2(path, dest)
            if subprocess.run([dest, "--version"], capture_output=True).returncode == 0:
                return dest
        except OSError:
            pass
        time.sleep(2)  # a rebuild is in progress: wait for the linker to finish
    raise RuntimeError(f"{path} is not a working ferry binary")


def build_info(args):
    """ferry's version, the commit of the source tree, and the binary's sha256 (short)."""
    version = subprocess.run([args.ferry, "--version"], capture_output=True, text=True).stdout.strip()
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    with open(args.ferry, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:12]
    return f"{version} (build/cli/ferry built from a working tree at commit {commit}, binary sha256 {digest}…)"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferry", default=os.path.join(ROOT, "build", "cli", "ferry"), help="ferry binary")
    p.add_argument("--cache-dir", default="/tmp/ferry-bench-cache", help="where the upstream storage is kept")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every layer size (0.02: smoke test)")
    p.add_argument("--image-set", choices=("knative", "small"), default="knative",
                   help="knative: the 32-image stack, shaped and unshaped; small: 12 images over loopback only")
    p.add_argument("--settings", default=None, help="comma list: shaped, unshaped (default: both; small: unshaped)")
    p.add_argument("--tools", default=None,
                   help="comma list of tools to run (default ferry,skopeo-sync,skopeo-xargs,skopeo-copy; small: "
                        "ferry,skopeo-sync,skopeo-xargs)")
    p.add_argument("--ferry-variant", action="append", default=None,
                   help=f"extra ferry run with these flags, repeatable (default: {DEFAULT_VARIANTS}, small: "
                        f"{SMALL_VARIANTS}; '' for none)")
    p.add_argument("--repeat-shaped", type=int, default=1, help="repetitions per tool on the shaped link")
    p.add_argument("--repeat-unshaped", type=int, default=None, help="repetitions per tool without shaping "
                                                                     "(default 3; small: 5)")
    p.add_argument("--timeout", type=float, default=900, help="per command, seconds")
    p.add_argument("--quiet-wait", type=float, default=120,
                   help="before each run, wait up to this many seconds for an idle second (other builds)")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"), help="markdown file to update")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--json", help="also dump every run as JSON here")
    args = p.parse_args(argv)
    small = args.image_set == "small"
    args.settings = args.settings or ("unshaped" if small else "shaped,unshaped")
    args.tools = args.tools or ("ferry,skopeo-sync,skopeo-xargs" if small else "ferry,skopeo-sync,skopeo-xargs,skopeo-copy")
    args.repeat_unshaped = args.repeat_unshaped or (5 if small else 3)
    default_variants = SMALL_VARIANTS if small else DEFAULT_VARIANTS
    variants = [v for v in (default_variants if args.ferry_variant is None else args.ferry_variant) if v.strip()]
    command = "python3 bench/mirror_bench.py" + "".join(" " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))

    t_start = time.monotonic()
    with TempDir("ferry-bench-") as tmp:
        # Run a snapshot of the binary: others may rebuild build/cli/ferry while the bench runs.
        args.ferry_source, args.ferry = args.ferry, snapshot_binary(args.ferry, tmp.sub("ferry"))
        args.build_info = build_info(args)
        upstream, image_set, home = prepare_upstream(args.cache_dir, args.scale, args.image_set)
        try:
            bench = Bench(args, upstream, image_set, tmp)
            nplat = sum(max(1, len(i["children"])) for i in image_set)
            print(f"upstream {upstream.host} ({home}): {len(image_set)} images ({nplat} platform manifests, "
                  f"{sum(1 for i in image_set if i['children'])} multi-arch), {bench.unique_blobs} distinct blobs, "
                  f"{bench.unique_bytes / MB:.1f} MB unique; link bound {bench.unique_bytes / TOTAL_BPS:.1f} s",
                  flush=True)
            tools = args.tools.split(",")
            for setting in args.settings.split(","):
                shaper = None
                if setting == "shaped":
                    shaper = LinkShaper(upstream.host, rtt_ms=RTT_MS, per_conn_bps=CONN_BPS, total_bps=TOTAL_BPS)
                    shaper.start()
                source_host = shaper.host if shaper else upstream.host
                repeat = args.repeat_shaped if shaper else args.repeat_unshaped
                try:
                    for _ in range(repeat):
                        if "ferry" in tools:
                            bench.run_ferry(setting, source_host, shaper)
                        for extra in variants:
                            bench.run_ferry(setting, source_host, shaper, shlex.split(extra), rerun=False)
                        if "skopeo-sync" in tools:
                            bench.run_skopeo_sync(setting, source_host, shaper)
                        if "skopeo-xargs" in tools:
                            bench.run_skopeo_xargs(setting, source_host, shaper)
                        if "skopeo-copy" in tools:
                            bench.run_skopeo_copy(setting, source_host, shaper)
                finally:
                    if shaper:
                        shaper.stop()
        finally:
            upstream.stop()
    elapsed = time.monotonic() - t_start
    bound = bench.unique_bytes / TOTAL_BPS
    agg = aggregate(bench.rows)
    result = small_targets(agg, bench.unique_bytes) if small else targets(agg, bench.unique_bytes, bound)
    print()
    print(table(agg, bound))
    print()
    if not small:
        print(timeline_table(agg, bound))
    print(f"\nunique blob bytes {bench.unique_bytes / MB:.1f} MB; link bound {bound:.1f} s "
          f"(unique bytes / {TOTAL_BPS / MB:.0f} MB/s)")
    for name, value, met in result:
        print(f"  {'MET    ' if met else 'NOT MET'}  {name}: {value}")
    print(f"bench wall time {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": bench.rows, "aggregate": agg, "unique_bytes": bench.unique_bytes, "bound": bound},
                      f, indent=1, default=str)
    if not args.no_write:
        write_section(args.output, (small_markdown if small else markdown)(agg, result, bench, image_set, command,
                                                                           elapsed))
        print(f"wrote {os.path.relpath(args.output, os.getcwd())}")
    return 0 if all(r["verified"] for r in bench.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
