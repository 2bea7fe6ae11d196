#!/usr/bin/env python3
"""`ferry bundle save` / `ferry bundle load` against skopeo's oci-archive round trip, on the image set
of bench/mirror_bench.py (a stand-in for Knative v0.6 + Istio 1.1.3: 32 images, ~490 MB of unique
incompressible layers, generated once and cached; see that file).

Setup (all on 127.0.0.1, no link shaping: this is about the archive, not the network):
  upstream   mirror_bench's cached docker-registry (gcr/..., docker/...)
  target     a fresh, empty docker-registry for every load

Tools:
  ferry save    ferry bundle save --images LIST -o OUT/bundle.tar (and .tar.zst)
                --source-mirror gcr.io=UP/gcr --source-mirror docker.io=UP/docker
  ferry load    ferry bundle load OUT/bundle.tar --to TARGET/bundle --naming preserve
  skopeo save   one `skopeo copy --all docker://UP/... oci-archive:OUT/NN.tar:NAME` per image: skopeo
                1.9 replaces an existing oci-archive instead of adding to it (the bench checks this
                every run), so one archive holds one image
  skopeo load   one `skopeo copy --all oci-archive:OUT/NN.tar:NAME docker://TARGET/skopeo/REPO:TAG` per image

Measured per run: wall time; peak RSS and user+sys CPU (/usr/bin/time -v; for the skopeo loops the
largest RSS and the summed CPU); CPU the registries used; temporary disk: every tool runs with
TMPDIR, HOME and its working directory pointing at fresh empty directories, and a thread samples,
every 50 ms, the allocated size of everything in them, of every file in the output (save) or input
(load) directory that is not the archive itself (ferry's temporary .NAME.ferry-PID-…, renamed into place at
the end, counts as the archive), and of files the tool's processes hold open for writing anywhere
else or that were deleted while open (/proc/PID/fd). After every load the target is checked image
by image against the source: manifest digest and bytes, child manifests, every blob; for skopeo
also against what its archives hold (it converts Docker schema 2 to OCI on the way in).

    python3 bench/bundle_bench.py                          # full run (~4 min), writes docs/benchmarks.md
    python3 bench/bundle_bench.py --scale 0.02 --no-write --repeat 1   # quick smoke test
"""

import argparse
import hashlib
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tarfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import mirror_bench as mb  # noqa: E402  (also puts tests/lib on sys.path)
from ferrytest import images as fimg  # noqa: E402
from ferrytest.client import RegistryClient  # noqa: E402
from ferrytest.util import TempDir  # noqa: E402

from benchlib import targets_table, write_section

MB = mb.MB
SECTION = "## ferry bundle"
SKOPEO = "skopeo"


# --- temporary disk ------------------------------------------------------------------------------
def _allocated(st):
    return st.st_blocks * 512


def _children(pids):
    """`pids` and all their descendants (by scanning /proc: no /proc/PID/task/TID/children here)."""
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    parent[int(name)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, grew = set(pids), True
    while grew:
        grew = False
        for pid, ppid in parent.items():
            if ppid in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return tree


class DiskWatch:
    """Samples, every `interval` s, the disk a tool uses besides its output: the allocated bytes of
    every file below `dirs` for which `is_output(path)` is false; of new entries in `shared` dirs
    (e.g. /var/tmp: only what appears after the watch was made); and of regular files the watched
    processes hold open for writing anywhere else (except below `ignore`, the bench's own logs) or
    that were deleted while open. At the end it splits what it saw into *scratch* (files gone by the
    end: the peak of their sum over the samples) and *kept* (files still there: what they grew by)."""

    def __init__(self, dirs, is_output, shared=(), ignore=(), interval=0.05):
        self.dirs = [os.path.realpath(d) for d in dirs]
        self.shared = {os.path.realpath(d): set(os.listdir(d)) for d in shared if os.path.isdir(d)}
        self.ignore = [os.path.realpath(d) for d in ignore]
        self.is_output, self.interval = is_output, interval
        self.pids = set()
        self.history = []   # per sample: {path: allocated bytes}; "deleted:DEV:INO" for deleted open files
        self.first_size = {}
        self.attributed = set()  # entries of `shared` dirs the tool's processes had files open in
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def attach(self, pid):
        self.pids = {pid}

    @staticmethod
    def _under(path, dirs):
        return any(path == d or path.startswith(d + "/") for d in dirs)

    def _walk(self, top, files):
        for dirpath, _, names in os.walk(top):
            for name in names:
                path = os.path.join(dirpath, name)
                if self.is_output(path):
                    continue
                try:
                    files[path] = _allocated(os.lstat(path))
                except FileNotFoundError:
                    pass

    def sample(self):
        files = {}
        for d in self.dirs:
            self._walk(d, files)
        for d, before in self.shared.items():
            try:
                names = os.listdir(d)
            except OSError:
                continue
            for name in set(names) - before:
                path = os.path.join(d, name)
                if os.path.isdir(path) and not os.path.islink(path):
                    self._walk(path, files)
                else:
                    try:
                        files[path] = _allocated(os.lstat(path))
                    except FileNotFoundError:
                        pass
        watched = self.dirs + list(self.shared) + self.ignore
        for pid in _children(self.pids) if self.pids else ():
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    target = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if not target.startswith("/"):
                        continue  # sockets, pipes, anon inodes
                    deleted = target.endswith(" (deleted)")
                    for d in self.shared:
                        if self._under(target, [d]) and target != d:
                            self.attributed.add(os.path.join(d, os.path.relpath(target, d).split("/")[0]))
                    with open(f"/proc/{pid}/fdinfo/{fd}") as f:
                        flags = int(re.search(r"flags:\s*([0-7]+)", f.read()).group(1), 8)
                    if not deleted and not (flags & 3 in (1, 2) and not self._under(target, watched)):
                        continue
                    st = os.stat(f"/proc/{pid}/fd/{fd}")
                except (OSError, AttributeError):
                    continue
                if not stat.S_ISREG(st.st_mode) or (not deleted and self.is_output(target)):
                    continue
                files[f"deleted:{st.st_dev}:{st.st_ino}" if deleted else target] = _allocated(st)
        for path, size in files.items():
            self.first_size.setdefault(path, size)
        self.history.append(files)

    def _loop(self):
        while not self._done.wait(self.interval):
            self.sample()

    def stop(self):
        """Stops sampling after one last sample (taken after the tool exited); returns
        {scratch_peak, kept, kept_files, files, samples}."""
        self._done.set()
        self._thread.join()
        self.pids = set()
        self.sample()
        seen = set(self.first_size)
        final = {}
        for path in seen:
            if path.startswith("deleted:"):
                continue
            try:
                final[path] = _allocated(os.lstat(path))
            except FileNotFoundError:
                pass
        # New entries of shared directories count only if the tool had a file open below them (others
        # may use /var/tmp meanwhile).
        ours = lambda p: not self._under(p, list(self.shared)) or self._under(p, list(self.attributed))  # noqa: E731
        scratch = max(sum(v for p, v in files.items() if p not in final and ours(p)) for files in self.history)
        # Files outside the watched directories existed before (e.g. a cache the tool updates):
        # count what they grew by.
        inside = self.dirs + list(self.shared)
        grown = {p: v if self._under(p, inside) else max(0, v - self.first_size[p]) for p, v in final.items()
                 if ours(p)}
        return {"scratch_peak": scratch, "kept": sum(grown.values()), "samples": len(self.history),
                "kept_files": sorted(self.short(p) for p, v in grown.items() if v),
                "files": sorted(self.short(p) for p in seen if ours(p))}

    def short(self, path):
        for d in self.dirs:
            if self._under(path, [d]):
                return os.path.relpath(path, os.path.dirname(d))
        return path


# --- running tools -------------------------------------------------------------------------------
def parse_time(path):
    with open(path) as f:
        t = f.read()
    field = lambda label: float(re.search(re.escape(label) + r":\s*([\d.]+)", t).group(1))  # noqa: E731
    return {"cpu": field("User time (seconds)") + field("System time (seconds)"),
            "rss_mb": field("Maximum resident set size (kbytes)") / 1024}


def run_timed(argv, env, cwd, logdir, name, timeout, watch):
    """Runs argv under /usr/bin/time -v with `watch` following its processes; returns
    dict(wall, cpu, rss_mb, rc, out, err)."""
    tlog = os.path.join(logdir, f"{name}.time")
    out_path, err_path = os.path.join(logdir, f"{name}.out"), os.path.join(logdir, f"{name}.err")
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        t0 = time.monotonic()
        p = subprocess.Popen(["/usr/bin/time", "-v", "-o", tlog, *argv], stdout=out, stderr=err, env=env, cwd=cwd)
        watch.attach(p.pid)
        try:
            rc = p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        wall = time.monotonic() - t0
    r = {"wall": wall, "rc": rc, "argv": argv}
    r.update(parse_time(tlog))
    with open(out_path, errors="replace") as f:
        r["out"] = f.read()
    with open(err_path, errors="replace") as f:
        r["err"] = f.read()
    return r


def tool_env(home, tmpdir):
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env.update(HOME=home, TMPDIR=tmpdir, XDG_CACHE_HOME=os.path.join(home, "cache"),
               XDG_CONFIG_HOME=os.path.join(home, "config"), XDG_RUNTIME_DIR=os.path.join(home, "run"),
               DOCKER_CONFIG=os.path.join(home, "docker"))
    return env


# --- verification --------------------------------------------------------------------------------
def walk_target(client, repo, ref):
    """(top digest, manifest bytes, [layer digests], [problems]) of repo:ref at the target: every
    child manifest and blob it names must be there."""
    r = client.get_manifest(repo, ref)
    if r.status != 200:
        return None, None, [], [f"{repo}:{ref}: HTTP {r.status}"]
    top, doc = fimg.sha256_digest(r.body), json.loads(r.body)
    problems, layers = [], []
    manifests = [(top, doc)]
    for child in doc.get("manifests", []):
        c = client.get_manifest(repo, child["digest"])
        if c.status != 200 or fimg.sha256_digest(c.body) != child["digest"]:
            problems.append(f"{repo}@{child['digest']}: child manifest missing")
            continue
        manifests.append((child["digest"], json.loads(c.body)))
    for _, m in manifests:
        layers += [b["digest"] for b in m.get("layers", [])]
        for b in ([m["config"]] if "config" in m else []) + m.get("layers", []):
            if not client.has_blob(repo, b["digest"]):
                problems.append(f"{repo}: blob {b['digest']} missing")
    return top, r.body, layers, problems


def source_layers(img):
    """The layer digests of an image_set entry (each blob list is [config] + layers)."""
    return sorted(b["digest"] for blobs in [img["blobs"]] + [ch["blobs"] for ch in img["children"]]
                  for b in blobs[1:])


def archive_index(path):
    """{ref name: top manifest digest} from an OCI archive's index.json."""
    with tarfile.open(path) as tar:
        for info in tar:
            if info.name.lstrip("./") == "index.json":
                doc = json.load(tar.extractfile(info))
                return {m.get("annotations", {}).get("org.opencontainers.image.ref.name"): m["digest"]
                        for m in doc["manifests"]}
    return {}


# --- the bench -----------------------------------------------------------------------------------
class Bench:
    def __init__(self, args, upstream, image_set, tmp):
        self.args, self.upstream, self.image_set, self.tmp = args, upstream, image_set, tmp
        self.unique_bytes, self.unique_blobs = mb.unique_blob_bytes(image_set)
        self.manifest_bytes, self.manifest_count = self.count_manifests()
        self.rows, self.runs, self.notes = [], 0, {}
        self.quiet_left = args.quiet_budget
        self.list_path = tmp.sub("images.txt")
        with open(self.list_path, "w") as f:
            f.write("".join(img["source"] + "\n" for img in image_set))
        self.archives = {}      # label -> path (or list of paths) of the latest save
        self.skopeo_index = {}  # image source -> top digest in skopeo's archive

    def count_manifests(self):
        client = RegistryClient(self.upstream.host)
        seen = {}
        for img in self.image_set:
            body = client.get_manifest(img["upstream_repo"], img["tag"]).body
            seen[fimg.sha256_digest(body)] = len(body)
            for ch in img["children"]:
                seen[ch["digest"]] = len(client.get_manifest(img["upstream_repo"], ch["digest"]).body)
        return sum(seen.values()), len(seen)

    def workdir(self, name):
        self.runs += 1
        wd = self.tmp.sub(f"{self.runs:02d}-{name}", mkdir=True)
        for d in ("home", "tmp", "cwd", "logs"):
            os.makedirs(os.path.join(wd, d))
        for d in ("cache", "config", "run", "docker"):
            os.makedirs(os.path.join(wd, "home", d))
        return wd

    def watch(self, wd, archive_dir, is_output):
        """A DiskWatch over the run's fresh HOME, TMPDIR and working directory and the directory the
        archive is written to or read from; the bench's own logs are not the tool's."""
        return DiskWatch([os.path.join(wd, d) for d in ("home", "tmp", "cwd")] + [archive_dir], is_output,
                         shared=["/var/tmp"], ignore=[os.path.join(wd, "logs")],
                         interval=self.args.sample_ms / 1000)

    def quiet(self):
        """Waits for an idle second (other people build on this machine), within the overall budget."""
        t0 = time.monotonic()
        idle = mb.wait_quiet(max(0.0, min(self.args.quiet_wait, self.quiet_left)))
        self.quiet_left -= time.monotonic() - t0
        return idle

    def measure(self, step, tool, fmt, run, watch, target=None):
        """Runs `run()` (a dict or a list of them from run_timed) under `watch`; appends a row."""
        regs = [self.upstream] + ([target] if target else [])
        reg_cpu0 = sum(mb.proc_cpu(r._proc) for r in regs)
        idle = self.quiet()
        t0 = time.monotonic()
        watch.start()
        try:
            results = run()
        finally:
            wall = time.monotonic() - t0
            disk = watch.stop()
        results = results if isinstance(results, list) else [results]
        row = {"step": step, "tool": tool, "format": fmt, "wall": wall, "idle_before": idle,
               "cpu": sum(r["cpu"] for r in results), "rss_mb": max(r["rss_mb"] for r in results),
               "registry_cpu": sum(mb.proc_cpu(r._proc) for r in regs) - reg_cpu0,
               "temp_peak": disk["scratch_peak"], "kept": disk["kept"], "kept_files": disk["kept_files"][:10],
               "temp_files": disk["files"][:20], "temp_samples": disk["samples"],
               "failed": [{"argv": r["argv"], "rc": r["rc"], "err": r["err"][-800:]} for r in results if r["rc"]],
               "processes": len(results)}
        self.rows.append(row)
        return row

    def report(self, row, extra=""):
        ok = "FAILED" if row["failed"] else "ok"
        print(f"  {row['step']:4} {row['tool']:6} {row['format']:16} {row['wall']:6.1f} s  rss {row['rss_mb']:5.1f} MB  "
              f"cpu {row['cpu']:5.1f} s  temp peak {row['temp_peak'] / MB:7.1f} MB  {ok}{extra}", flush=True)
        for f in row["failed"][:2]:
            print(f"      exit {f['rc']}: {' '.join(f['argv'][-2:])}: {f['err'].strip()[-400:]}", flush=True)
        if row["temp_files"]:
            print(f"      files besides the archive: {', '.join(row['temp_files'][:4])}"
                  f"{' …' if len(row['temp_files']) > 4 else ''}; still there at the end: "
                  f"{row['kept']} bytes {' '.join(row['kept_files'][:3])}", flush=True)

    # ferry -----------------------------------------------------------------------------------------
    def ferry_save(self, fmt):
        wd = self.workdir(f"ferry-save-{fmt}")
        out = os.path.join(wd, "out")
        os.makedirs(out)
        archive = os.path.join(out, f"bundle.{fmt}")
        argv = [self.args.ferry, "bundle", "save", "--images", self.list_path, "-o", archive]
        for registry, prefix in mb.PREFIX.items():
            argv += ["--source-mirror", f"{registry}={self.upstream.host}/{prefix}"]
        # The archive, or its temporary file (common/atomic_file: .NAME.ferry-PID-N-RANDOM beside it).
        partial = re.compile(re.escape(archive) + "$|" + re.escape(os.path.join(out, "." + os.path.basename(archive))) +
                             r"\.ferry-\d+-\d+-\w+$")
        watch = self.watch(wd, out, lambda p: bool(partial.match(p)))
        env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))
        row = self.measure("save", "ferry", f".{fmt}", lambda: run_timed(
            argv, env, os.path.join(wd, "cwd"), os.path.join(wd, "logs"), "save", self.args.timeout, watch), watch)
        row["command"] = argv
        if not row["failed"] and os.path.exists(archive):
            row["archive_bytes"] = os.path.getsize(archive)
            h = hashlib.sha256()
            with open(archive, "rb") as f:
                while chunk := f.read(1 << 22):
                    h.update(chunk)
            row["sha256"] = h.hexdigest()
            with open(os.path.join(wd, "logs", "save.out")) as f:
                printed = re.findall(r"\b[0-9a-f]{64}\b", f.read())
            row["sha256_printed_matches"] = row["sha256"] in printed
            self.drop_archive(f"ferry .{fmt}")
            self.archives[f"ferry .{fmt}"] = archive
        row["verified"] = not row["failed"] and row.get("sha256_printed_matches", False)
        self.report(row, f"  {row.get('archive_bytes', 0) / MB:.1f} MB")
        return row

    def ferry_load(self, fmt):
        archive = self.archives[f"ferry .{fmt}"]
        with mb.TargetRegistry() as target:
            wd = self.workdir(f"ferry-load-{fmt}")
            indir = os.path.dirname(archive)
            before = set(os.listdir(indir))
            argv = [self.args.ferry, "bundle", "load", archive, "--to", f"{target.host}/bundle", "--naming", "preserve",
                    "--lock", os.path.join(wd, "logs", "images.lock")]
            watch = self.watch(wd, indir, lambda p: os.path.dirname(p) == indir and os.path.basename(p) in before)
            env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))
            row = self.measure("load", "ferry", f".{fmt}", lambda: run_timed(
                argv, env, os.path.join(wd, "cwd"), os.path.join(wd, "logs"), "load", self.args.timeout, watch),
                watch, target)
            row["command"] = argv
            with open(os.path.join(wd, "logs", "load.out"), errors="replace") as f:
                m = re.search(r"(\d+) pass(?:es)? over", f.read())
            row["passes"] = int(m.group(1)) if m else None
            row["requests"] = len(target.requests())  # every request the target completed
            problems, row["source_exact"] = [], 0
            for img in self.image_set:
                wrong = mb.verify(target, [img], lambda i: f"bundle/{i['repository']}")
                row["source_exact"] += not wrong
                problems += wrong
            row["archive_exact"] = row["source_exact"]
            row["layers_same"] = row["source_exact"]
            row["problems"] = problems[:5]
            row["verified"] = not problems and not row["failed"]
            self.report(row, f"  digests {row['source_exact']}/{len(self.image_set)}"
                        + ("" if row["verified"] else "  NOT VERIFIED"))
            for p in problems[:5]:
                print(f"      {p}")
        return row

    # skopeo ----------------------------------------------------------------------------------------
    def skopeo_save(self):
        wd = self.workdir("skopeo-save")
        out = os.path.join(wd, "out")
        os.makedirs(out)
        paths = [os.path.join(out, f"{i:02d}.tar") for i in range(len(self.image_set))]
        watch = self.watch(wd, out, lambda p: p in paths)
        env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))

        def loop():
            results = []
            for i, img in enumerate(self.image_set):
                argv = ["skopeo", "--tmpdir", os.path.join(wd, "tmp"), "copy", "--all", "--src-tls-verify=false",
                        f"docker://{self.upstream.host}/{img['upstream_repo']}:{img['tag']}",
                        f"oci-archive:{paths[i]}:{img['source']}"]
                results.append(run_timed(argv, env, os.path.join(wd, "cwd"), os.path.join(wd, "logs"),
                                         f"save-{i:02d}", self.args.timeout, watch))
            return results

        row = self.measure("save", SKOPEO, "oci-archive × 32", loop, watch)
        if not row["failed"]:
            row["archive_bytes"] = sum(os.path.getsize(p) for p in paths)
            size, name = max((os.path.getsize(p), img["source"]) for img, p in zip(self.image_set, paths))
            row["largest"] = {"bytes": size, "image": name}
            index = {}
            for img, p in zip(self.image_set, paths):
                index.update(archive_index(p))
            self.skopeo_index = {img["source"]: index.get(img["source"]) for img in self.image_set}
            self.drop_archive("skopeo")
            self.archives["skopeo"] = paths
        row["verified"] = not row["failed"]
        row["converted"] = sum(1 for img in self.image_set if self.skopeo_index.get(img["source"]) != img["digest"])
        self.report(row, f"  {row.get('archive_bytes', 0) / MB:.1f} MB, {row['converted']} images re-encoded")
        return row

    def skopeo_load(self):
        paths = self.archives["skopeo"]
        with mb.TargetRegistry() as target:
            wd = self.workdir("skopeo-load")
            indir = os.path.dirname(paths[0])
            before = set(os.listdir(indir))
            watch = self.watch(wd, indir, lambda p: os.path.dirname(p) == indir and os.path.basename(p) in before)
            env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))

            def loop():
                results = []
                for i, img in enumerate(self.image_set):
                    argv = ["skopeo", "--tmpdir", os.path.join(wd, "tmp"), "copy", "--all", "--dest-tls-verify=false",
                            f"oci-archive:{paths[i]}:{img['source']}",
                            f"docker://{target.host}/skopeo/{img['repository']}:{img['tag']}"]
                    results.append(run_timed(argv, env, os.path.join(wd, "cwd"), os.path.join(wd, "logs"),
                                             f"load-{i:02d}", self.args.timeout, watch))
                return results

            row = self.measure("load", SKOPEO, "oci-archive × 32", loop, watch, target)
            self.check_skopeo_target(row, target)
            self.report(row, f"  digests = source {row['source_exact']}/{len(self.image_set)}, "
                        f"= archive {row['archive_exact']}/{len(self.image_set)}"
                        + ("" if row["verified"] else "  NOT VERIFIED"))
            for p in row["problems"]:
                print(f"      {p}")
        return row

    def check_skopeo_target(self, row, target):
        """Counts images whose target digest equals the source's, and equals the archive's (what
        skopeo wrote); every child and blob must be present; layers must be the source's."""
        client = RegistryClient(target.host)
        row["source_exact"] = row["archive_exact"] = row["layers_same"] = 0
        problems = []
        for img in self.image_set:
            repo = f"skopeo/{img['repository']}"
            top, _, layers, missing = walk_target(client, repo, img["tag"])
            problems += missing
            if not missing and top == img["digest"]:
                strict = mb.verify(target, [img], lambda _i: repo)
                row["source_exact"] += not strict
                problems += strict
            if not missing and top == self.skopeo_index.get(img["source"]):
                row["archive_exact"] += 1
            elif not missing:
                problems.append(f"{repo}:{img['tag']}: {top}, skopeo's archive has {self.skopeo_index.get(img['source'])}")
            if sorted(layers) == source_layers(img):
                row["layers_same"] += 1
        row["problems"] = problems[:5]
        n = len(self.image_set)
        # skopeo's own round trip counts as verified when the target holds exactly what its archives
        # hold (the re-encoding on the way in is reported separately).
        row["verified"] = not row["failed"] and row["archive_exact"] == n and row["layers_same"] == n

    def drop_archive(self, label):
        old = self.archives.pop(label, None)
        for p in ([old] if isinstance(old, str) else old or []):
            try:
                os.remove(p)
            except FileNotFoundError:
                pass

    def skopeo_reads_ferry(self, archive):
        """Whether skopeo reads an OCI image and a Docker schema 2 image of ferry's archive by name."""
        wd = self.workdir("skopeo-reads-ferry")
        env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))
        by_name = {img["source"].split("/")[-1]: img for img in self.image_set}
        out = {}
        for kind, name in (("oci", "queue:v0.6.0"), ("docker", "pilot:1.1.3")):
            img = by_name[name]
            r = subprocess.run(["skopeo", "--tmpdir", os.path.join(wd, "tmp"), "copy", "--all", "-q",
                                f"oci-archive:{archive}:{img['source']}", f"dir:{os.path.join(wd, kind)}"],
                               env=env, capture_output=True, text=True)
            out[kind] = {"image": name, "rc": r.returncode, "error": (r.stderr.strip().splitlines() or [""])[-1][-200:]}
            print(f"  probe: skopeo reads {name} from ferry's archive by name -> exit {r.returncode} "
                  f"{out[kind]['error'][-90:]}", flush=True)
        self.notes["skopeo_reads_ferry"] = out
        shutil.rmtree(wd, ignore_errors=True)

    # skopeo behaviour probes (small images, not timed) -----------------------------------------------
    def probes(self):
        """Checks three skopeo 1.9 behaviours the comparison relies on: a second image written to an
        existing oci-archive replaces the first; --preserve-digests with a Docker manifest list;
        where an oci-archive write puts its scratch files when only TMPDIR is set."""
        wd = self.workdir("skopeo-probes")
        env = tool_env(os.path.join(wd, "home"), os.path.join(wd, "tmp"))
        by_name = {img["source"].split("/")[-1]: img for img in self.image_set}

        def copy(img, dest, *flags):
            return subprocess.run(["skopeo", "--tmpdir", os.path.join(wd, "tmp"), "copy", "--all", "-q",
                                   "--src-tls-verify=false", *flags,
                                   f"docker://{self.upstream.host}/{img['upstream_repo']}:{img['tag']}", dest],
                                  env=env, capture_output=True, text=True)

        a, b = by_name["nop:v0.6.0"], by_name["git-init:v0.6.0"]
        two = os.path.join(wd, "two.tar")
        r1, r2 = copy(a, f"oci-archive:{two}:{a['source']}"), copy(b, f"oci-archive:{two}:{b['source']}")
        refs = sorted(archive_index(two)) if r1.returncode == 0 and r2.returncode == 0 else []
        self.notes["append"] = {"refs_after_two_writes": refs, "replaced": refs == [b["source"]]}
        lst = by_name["proxy_init:1.1.3"]
        r = copy(lst, f"oci-archive:{os.path.join(wd, 'list.tar')}:x", "--preserve-digests")
        self.notes["preserve_list"] = {"rc": r.returncode, "error": (r.stderr.strip().splitlines() or [""])[-1][:300]}
        single = by_name["pilot:1.1.3"]
        kept = os.path.join(wd, "kept.tar")
        w = copy(single, f"oci-archive:{kept}:{single['source']}", "--preserve-digests")
        r4 = subprocess.run(["skopeo", "--tmpdir", os.path.join(wd, "tmp"), "copy", "-q",
                             f"oci-archive:{kept}:{single['source']}", f"dir:{os.path.join(wd, 'dir')}"],
                            env=env, capture_output=True, text=True)
        self.notes["preserve_single"] = {"write_rc": w.returncode, "kept": archive_index(kept).get(single["source"])
                                         == single["digest"] if w.returncode == 0 else False,
                                         "read_by_name_rc": r4.returncode,
                                         "error": (r4.stderr.strip().splitlines() or [""])[-1][:300]}
        # TMPDIR points at a directory that does not exist: if skopeo used it, the write would fail.
        before = set(os.listdir("/var/tmp"))
        p = subprocess.Popen(["skopeo", "copy", "--all", "-q", "--src-tls-verify=false",
                              f"docker://{self.upstream.host}/{a['upstream_repo']}:{a['tag']}",
                              f"oci-archive:{os.path.join(wd, 'tmpdir.tar')}:x"],
                             env=tool_env(os.path.join(wd, "home"), os.path.join(wd, "no-such-dir")),
                             stderr=subprocess.PIPE, text=True)
        var_tmp = False
        while p.poll() is None:
            var_tmp = var_tmp or any(n.startswith("oci") for n in set(os.listdir("/var/tmp")) - before)
            time.sleep(0.005)
        self.notes["tmpdir"] = {"rc": p.returncode, "var_tmp": var_tmp, "error": p.stderr.read()[-300:]}
        print(f"  probe: two images written to one oci-archive -> it holds {refs}", flush=True)
        print(f"  probe: oci-archive write with TMPDIR pointing nowhere -> exit {p.returncode}, a new /var/tmp/oci* "
              f"entry seen: {var_tmp}", flush=True)
        ps = self.notes["preserve_single"]
        print(f"  probe: --preserve-digests, Docker schema 2 image -> written as is: {ps['kept']}; read back by "
              f"name: exit {ps['read_by_name_rc']} {ps['error'][-100:]}", flush=True)
        print(f"  probe: --preserve-digests, Docker manifest list -> exit {r.returncode}: "
              f"{self.notes['preserve_list']['error'][:160]}", flush=True)


# --- report --------------------------------------------------------------------------------------
def aggregate(rows):
    groups = {}
    for r in rows:
        groups.setdefault((r["step"], r["tool"], r["format"]), []).append(r)
    out = []
    for (step, tool, fmt), rs in groups.items():
        walls = [r["wall"] for r in rs]
        out.append({"step": step, "tool": tool, "format": fmt, "n": len(rs), "wall": mb.median(walls),
                    "wall_min": min(walls), "wall_max": max(walls), "cpu": mb.median([r["cpu"] for r in rs]),
                    "registry_cpu": mb.median([r["registry_cpu"] for r in rs]),
                    "rss_mb": max(r["rss_mb"] for r in rs), "temp_peak": max(r["temp_peak"] for r in rs),
                    "kept": max(r["kept"] for r in rs),
                    "kept_files": sorted({f for r in rs for f in r["kept_files"]})[:10],
                    "temp_files": sorted({f for r in rs for f in r["temp_files"]})[:10],
                    "archive_bytes": max((r.get("archive_bytes", 0) for r in rs), default=0),
                    "sha256s": sorted({r["sha256"] for r in rs if r.get("sha256")}),
                    "source_exact": min((r["source_exact"] for r in rs if "source_exact" in r), default=None),
                    "archive_exact": min((r["archive_exact"] for r in rs if "archive_exact" in r), default=None),
                    "layers_same": min((r["layers_same"] for r in rs if "layers_same" in r), default=None),
                    "converted": max((r["converted"] for r in rs if "converted" in r), default=None),
                    "largest": next((r["largest"] for r in rs if r.get("largest")), None),
                    "passes": sorted({r["passes"] for r in rs if r.get("passes") is not None}),
                    "requests": sorted({r["requests"] for r in rs if r.get("requests") is not None}),
                    "verified": all(r["verified"] for r in rs), "processes": rs[0]["processes"],
                    "idle": [r["idle_before"] for r in rs]})
    return out


def cache_name(path):
    """home/cache/... (the run's fresh HOME and XDG_CACHE_HOME) as $XDG_CACHE_HOME/..."""
    return "$XDG_CACHE_HOME/" + path[len("home/cache/"):] if path.startswith("home/cache/") else path


def find(agg, step, tool, fmt=None):
    return next((a for a in agg if a["step"] == step and a["tool"] == tool and (fmt is None or a["format"] == fmt)), None)


def mb_(n):
    return f"{n / MB:.1f}"


def table(agg, n_images):
    lines = ["| step | tool | archive | wall s | skopeo ÷ this | peak RSS MB | CPU s (user+sys) | registries' CPU s "
             "| temporary disk, peak MB | other files left, kB | archive MB | digests at target = source |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for a in agg:
        sk = find(agg, a["step"], SKOPEO)
        wall = f"{a['wall']:.1f}" + (f" ({a['wall_min']:.1f}–{a['wall_max']:.1f}, n={a['n']})" if a["n"] > 1 else "")
        ratio = f"{sk['wall'] / a['wall']:.2f}×" if sk and a["tool"] != SKOPEO else ""
        if a["step"] == "save":
            digests = "(checked by the loads)" if a["verified"] else "**save failed**"
        elif a["tool"] == SKOPEO:
            digests = (f"{a['source_exact']}/{n_images} (the other {n_images - a['source_exact']} re-encoded as OCI; "
                       f"= archive {a['archive_exact']}/{n_images}, layers {a['layers_same']}/{n_images})")
        else:
            digests = f"{a['source_exact']}/{n_images}" + ("" if a["verified"] else " **NOT VERIFIED**")
        archive = mb_(a["archive_bytes"]) if a["archive_bytes"] else ""
        name = f"{a['tool']} (loop of {a['processes']})" if a["processes"] > 1 else a["tool"]
        lines.append(f"| {a['step']} | {name} | {a['format']} | {wall} | {ratio} | {a['rss_mb']:.1f} | {a['cpu']:.1f} "
                     f"| {a['registry_cpu']:.1f} | {a['temp_peak'] / MB:.1f} | {a['kept'] / 1000:.0f} | {archive} | {digests} |")
    return "\n".join(lines)


def ratio_range(ferry, skopeo):
    """' (x–y over the ranges)' when repeated: skopeo's fastest over ferry's slowest run, and back."""
    if ferry["n"] < 2:
        return ""
    return (f" ({skopeo['wall_min'] / ferry['wall_max']:.2f}–{skopeo['wall_max'] / ferry['wall_min']:.2f}× "
            "between the extremes)")


def targets(agg, bench):
    out = []
    fl, sl = find(agg, "load", "ferry", ".tar"), find(agg, "load", SKOPEO)
    if fl and sl:
        out.append(("load ≥ 2× faster than skopeo (.tar)", f"{fl['wall']:.1f} s vs {sl['wall']:.1f} s = "
                    f"{sl['wall'] / fl['wall']:.2f}×{ratio_range(fl, sl)}", sl["wall"] >= 2 * fl["wall"]))
    fz = find(agg, "load", "ferry", ".tar.zst")
    if fz and sl:
        out.append(("load ≥ 2× faster than skopeo (.tar.zst)", f"{fz['wall']:.1f} s vs {sl['wall']:.1f} s = "
                    f"{sl['wall'] / fz['wall']:.2f}×{ratio_range(fz, sl)}", sl["wall"] >= 2 * fz["wall"]))
    ferry = [a for a in agg if a["tool"] == "ferry"]
    if ferry:
        worst = max(ferry, key=lambda a: a["temp_peak"])
        kept = max(ferry, key=lambda a: a["kept"])
        out.append(("zero temporary disk for ferry (save and load, both formats)",
                    f"peak {worst['temp_peak']} bytes" + (f" ({worst['step']} {worst['format']})" if worst["temp_peak"] else "")
                    + (f"; besides the archive it leaves {kept['kept']:,} bytes in "
                       f"{', '.join('`' + cache_name(f) + '`' for f in kept['kept_files'])}, a cache ({kept['step']})"
                       if kept["kept"] else ""),
                    worst["temp_peak"] == 0))
        worst = max(ferry, key=lambda a: a["rss_mb"])
        out.append(("ferry peak RSS ≤ 64 MB", f"{worst['rss_mb']:.1f} MB ({worst['step']} {worst['format']})",
                    worst["rss_mb"] <= 64))
    fs = find(agg, "save", "ferry", ".tar")
    if fs and fs["archive_bytes"]:
        blobs = bench.unique_bytes + bench.manifest_bytes
        dev = (fs["archive_bytes"] - blobs) / blobs
        out.append(("ferry .tar size within 1% of the unique blob bytes",
                    f"{mb_(fs['archive_bytes'])} MB vs {mb_(blobs)} MB = {dev:+.3%}", abs(dev) <= 0.01))
    loads = [r for r in bench.rows if r["tool"] == "ferry" and r["step"] == "load"]
    if loads:
        out.append(("every ferry load digest-exact at the target",
                    f"{sum(r['verified'] for r in loads)}/{len(loads)} loads", all(r["verified"] for r in loads)))
    return out


def markdown(agg, result, bench, command, elapsed):
    args, n = bench.args, len(bench.image_set)
    nplat = sum(max(1, len(i["children"])) for i in bench.image_set)
    docker = [i for i in bench.image_set if i["mediaType"].startswith("application/vnd.docker")]
    skopeo_version = subprocess.run(["skopeo", "--version"], capture_output=True, text=True).stdout.strip()
    registry_version = subprocess.run(["docker-registry", "--version"], capture_output=True,
                                      text=True).stdout.strip().split(" ")[-1]
    fs, fz, ss = find(agg, "save", "ferry", ".tar"), find(agg, "save", "ferry", ".tar.zst"), find(agg, "save", SKOPEO)
    fl, flz, sl = find(agg, "load", "ferry", ".tar"), find(agg, "load", "ferry", ".tar.zst"), find(agg, "load", SKOPEO)
    blobs = bench.unique_bytes + bench.manifest_bytes
    notes = bench.notes
    append, plist = notes.get("append", {}), notes.get("preserve_list", {})
    psingle, tmpdir = notes.get("preserve_single", {}), notes.get("tmpdir", {})
    err = lambda e: e.split("msg=", 1)[-1].strip().replace('\\"', "'").strip('"')[:200]  # noqa: E731
    lines = [
        SECTION,
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine: Debian 12, {os.cpu_count()} cores, everything on "
        f"127.0.0.1 (tools and registries share the 2 cores). {args.build_info}, {skopeo_version}, "
        f"CNCF docker-registry {registry_version}.",
        "",
        f"**Setup.** The image set of the *ferry mirror* section ({n} images, {nplat} platform manifests, the "
        f"Knative images OCI, the {len(docker)} Istio images Docker schema 2, one of them a manifest list; "
        f"{bench.unique_blobs} distinct config and layer blobs, **{mb_(bench.unique_bytes)} MB** of incompressible "
        f"gzip layers, plus {bench.manifest_count} manifests, {bench.manifest_bytes / 1000:.1f} kB), in the same cached "
        "upstream docker-registry, read directly (no link shaping: this compares archives, not networks). Every "
        "load goes into a fresh, empty docker-registry; archives are written to and read from the same disk.",
        "",
        "Tools: `ferry bundle save --images LIST -o OUT/bundle.tar` (and `-o OUT/bundle.tar.zst`) `--source-mirror "
        "gcr.io=UP/gcr --source-mirror docker.io=UP/docker`, then `ferry bundle load OUT/bundle.tar --to "
        "TARGET/bundle --naming preserve`. skopeo: a loop of `skopeo --tmpdir T copy --all --src-tls-verify=false "
        "docker://UP/REPO:TAG oci-archive:OUT/NN.tar:NAME`, **one archive per image**, and back a loop of "
        "`skopeo --tmpdir T copy --all --dest-tls-verify=false oci-archive:OUT/NN.tar:NAME "
        "docker://TARGET/skopeo/REPO:TAG`. One archive per image because skopeo 1.9 cannot add an image to an "
        "oci-archive: writing a second image into an existing one replaces it (checked every run: after two writes "
        "the file holds only "
        f"{', '.join('`' + r.split('/')[-1] + '`' for r in append.get('refs_after_two_writes', [])) or '(nothing)'}). "
        "The per-image archives repeat the shared base layers, hence their larger total. `--tmpdir` because skopeo "
        "1.9 does not use `TMPDIR` for the OCI layout it builds or unpacks but /var/tmp (checked every run: with "
        "`TMPDIR` pointing at a directory that does not exist an oci-archive write "
        + ("still succeeded" if tmpdir.get("rc") == 0 else f"failed (exit {tmpdir.get('rc')})")
        + (", and a new `/var/tmp/oci*` directory appeared meanwhile)." if tmpdir.get("var_tmp") else ")."),
        "",
        "Columns: wall time (median, range and count); *skopeo ÷ this*: how many times faster than skopeo's loop at "
        "the same step; peak RSS and user+sys CPU (`/usr/bin/time -v`; skopeo's loops: the largest RSS, the summed "
        "CPU); CPU both registries used meanwhile; *temporary disk*: every tool ran with `TMPDIR`, `HOME` (so "
        "`~/.cache`) and its working directory pointing at fresh empty directories (skopeo also `--tmpdir`), and a "
        f"thread sampled every {args.sample_ms:.0f} ms the allocated size of everything in them, of every file next "
        "to the archive that is not the archive (ferry writes a temporary `.NAME.ferry-PID-…` and renames it: that counts as the "
        "archive), of new entries in /var/tmp the tool had files open in, and of files the tool's processes held "
        "open for writing anywhere else or had deleted while open (`/proc/PID/fd`); the column is the largest sum "
        "of what was gone again by the end; *other files left*: what the run added to files that stay (caches). "
        "After every load each image at the target was checked against the source: manifest digest and bytes, "
        "child manifests, every blob.",
        "",
        table(agg, n),
        "",
    ]
    text = []
    if ss and sl and ss.get("converted") is not None:
        t = (f"*Digests.* ferry keeps every manifest byte for byte, so every load was digest-exact. skopeo's "
             f"oci-archive writer re-encodes Docker schema 2 as OCI ({ss['converted']} of {n} images: new manifest, "
             f"list and config digests; the layers stay, {sl['layers_same']}/{n} images have the source's layer "
             "digests at the target), so references by digest in the release no longer resolve after the round "
             f"trip; what skopeo pushes back is what its archives hold ({sl['archive_exact']}/{n}).")
        if plist and psingle:
            t += (" `--preserve-digests` does not rescue it: for a single Docker schema 2 image skopeo then writes "
                  f"the manifest as it is ({'checked' if psingle.get('kept') else 'not so here'}), but cannot read "
                  f"it back by name (exit {psingle.get('read_by_name_rc')}: `{err(psingle.get('error', '').rsplit(': ', 1)[-1])}`; skopeo "
                  "1.9 finds a name only among index entries with OCI media types), and it refuses the Docker manifest list "
                  f"(exit {plist.get('rc')}: "
                  f"`{err(plist.get('error', ''))}`). The rows use the plain command.")
        text.append(t)
    rf = notes.get("skopeo_reads_ferry")
    if rf:
        o, d = rf["oci"], rf["docker"]
        text.append(
            "*skopeo reading ferry's archive.* `ferry bundle save --help` says skopeo reads the archive with "
            f"`oci-archive:FILE:REFERENCE`. Checked every run: `{o['image']}` (OCI) "
            + ("is read" if o["rc"] == 0 else f"fails (exit {o['rc']}: `{err(o['error'])}`)") + f", `{d['image']}` "
            "(Docker schema 2) " + ("is read" if d["rc"] == 0 else f"fails (exit {d['rc']}: "
                                    f"`{err(d['error'].rsplit(': ', 1)[-1])}`)")
            + ("; so with skopeo 1.9 that holds for the OCI images of the set only." if o["rc"] == 0 and d["rc"] else "."))
    if fs and ss and fl and sl:
        largest = ss.get("largest") or {}
        text.append(
            "*Where the time and disk go.* ferry saves in one process, 8 images resolved at once, every unique blob "
            f"streamed from the registry into the archive once ({mb_(fs['archive_bytes'])} MB written, against "
            f"{mb_(ss['archive_bytes'])} MB of skopeo archives); skopeo builds each image as an OCI layout in its "
            "temporary directory and then tars that into the archive, so every byte is written twice, and on the "
            f"way back it unpacks each archive before pushing: a peak of {ss['temp_peak'] / MB:.1f} MB saving and "
            f"{sl['temp_peak'] / MB:.1f} MB loading, the size of the largest image "
            f"(`{largest.get('image', '?').split('/')[-1]}`, {largest.get('bytes', 0) / MB:.1f} MB). ferry's load "
            f"reads the archive front to back, in {'/'.join(str(x) for x in fl['passes']) or '?'} pass (its own "
            "count). Once it has read the manifests (they come first) it asks the target which blobs it already "
            "has, 4 requests at once; then it hands each blob, as it reads it, to one of 4 uploads running at once "
            "(POST, then a single PUT carrying the bytes and the digest; at most 16 MiB read ahead in all, the last "
            "bytes of each blob held back until its digest matched) and finally pushes the manifests, 4 images at "
            f"once: {'/'.join(str(x) for x in fl.get('requests', [])) or '?'} requests to the target per load. The "
            f"registry is most of its cost (registries' CPU {fl['registry_cpu']:.1f} s against ferry's "
            f"{fl['cpu']:.1f} s): with uploads overlapping, it works on both cores. skopeo pushes each image's layers "
            "in parallel, one image after another. The `.tar.zst` load costs about the same: zstd decompresses far "
            "faster than the registry ingests.")
    if fs and fz:
        same = len(fs["sha256s"]) == 1 and len(fz["sha256s"]) == 1
        text.append(
            f"*Archive size.* The uncompressed archive is {fs['archive_bytes']:,} bytes for {blobs:,} bytes of unique "
            f"blobs (configs, layers and the {bench.manifest_count} manifests; {bench.unique_bytes:,} without the "
            f"manifests): {fs['archive_bytes'] - blobs:,} bytes of tar headers and padding, `index.json`, `oci-layout` "
            "and `ferry/bundle.json`. The layers are random data, so zstd gains nothing "
            f"(`.tar.zst`: {fz['archive_bytes']:,} bytes)"
            + ("; every repetition wrote a byte-identical archive (one sha256 per format, the one ferry printed)."
               if same else "."))
    kept = list({(a["tool"], a["step"]): a for a in agg if a["kept"]}.values())
    if kept:
        text.append("*Files left besides the archive.* " + "; ".join(
            f"{a['tool']} {a['step']}: {a['kept']:,} bytes in {', '.join('`' + cache_name(f) + '`' for f in a['kept_files'][:2])}"
            for a in kept) + ". These are caches that outlive the run (ferry's: where each blob was last seen, for "
            "cross-repository mounts; skopeo's: the containers blob-info cache), not scratch space.")
    for t in text:
        lines += [t, ""]
    idle = [i for a in agg for i in a["idle"]]
    lines += [
        f"Other people work on this machine: before each run the bench waited (up to {args.quiet_wait:.0f} s, "
        f"{args.quiet_budget:.0f} s in all) for a second with ≥ 85% of the CPU idle; the idle share in that second "
        f"was {min(idle):.0%}–{max(idle):.0%} across runs ({sum(i >= 0.85 for i in idle)} of {len(idle)} runs "
        "started on a quiet machine).",
        "",
        *targets_table("medians", result),
    ]
    straddle = [f"`{a['format']}`" for a in (fl, flz) if a and sl and a["n"] > 1
                and sl["wall_min"] / a["wall_max"] < 2 <= sl["wall_max"] / a["wall_min"]]
    if straddle:
        lines += ["", f"The load target is close: for {' and '.join(straddle)} the medians "
                  + ("meet it" if all(sl["wall"] >= 2 * a["wall"] for a in (fl, flz) if a) else "miss it in part")
                  + ", but single pairs of runs fall on both sides of 2×, so it is not met with a margin."]
    lines += [
        "",
        "Reproduce (the command that produced this table; the image set is generated on the first run of either "
        f"bench, about 20 s, and cached in `{args.cache_dir}`; this run took {elapsed / 60:.0f} min):",
        "",
        "```sh",
        "cmake --build build -j2",
        command,
        "```",
        "",
    ]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferry", default=os.path.join(ROOT, "build", "cli", "ferry"), help="ferry binary")
    p.add_argument("--cache-dir", default="/tmp/ferry-bench-cache", help="where the upstream storage is kept")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every layer size (0.02: smoke test)")
    p.add_argument("--tools", default="ferry,skopeo", help="comma list: ferry, skopeo")
    p.add_argument("--formats", default="tar,tar.zst", help="ferry archive formats: comma list of tar, tar.zst")
    p.add_argument("--repeat", type=int, default=5, help="repetitions of every save and load")
    p.add_argument("--sample-ms", type=float, default=50, help="temporary-disk sampling interval")
    p.add_argument("--timeout", type=float, default=600, help="per command, seconds")
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each run, wait up to this many seconds for an idle second (other builds)")
    p.add_argument("--quiet-budget", type=float, default=420, help="at most this many seconds of such waiting in all")
    p.add_argument("--no-probes", action="store_true", help="skip the two skopeo behaviour checks")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"), help="markdown file to update")
    p.add_argument("--no-write", action="store_true", help="print the table only")
    p.add_argument("--json", help="also dump every run as JSON here")
    args = p.parse_args(argv)
    command = "python3 bench/bundle_bench.py" + "".join(" " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    tools, formats = args.tools.split(","), [f for f in args.formats.split(",") if f]

    t_start = time.monotonic()
    with TempDir("ferry-bundle-bench-") as tmp:
        # Run a snapshot of the binary: others may rebuild build/cli/ferry while the bench runs.
        args.ferry_source, args.ferry = args.ferry, mb.snapshot_binary(args.ferry, tmp.sub("ferry"))
        args.build_info = mb.build_info(args)
        upstream, image_set, home = mb.prepare_upstream(args.cache_dir, args.scale)
        try:
            bench = Bench(args, upstream, image_set, tmp)
            print(f"upstream {upstream.host} ({home}): {len(image_set)} images, {bench.unique_blobs} distinct blobs, "
                  f"{bench.unique_bytes / MB:.1f} MB unique (+ {bench.manifest_count} manifests, "
                  f"{bench.manifest_bytes / 1000:.1f} kB); scratch in {tmp.path}", flush=True)
            if "skopeo" in tools and not args.no_probes:
                bench.probes()
            for rep in range(args.repeat):
                if "ferry" in tools:
                    for fmt in formats:
                        bench.ferry_save(fmt)
                if "skopeo" in tools:
                    bench.skopeo_save()
                if rep == 0 and "skopeo" in tools and "ferry .tar" in bench.archives and not args.no_probes:
                    bench.skopeo_reads_ferry(bench.archives["ferry .tar"])
            for _ in range(args.repeat):
                if "ferry" in tools:
                    for fmt in formats:
                        if f"ferry .{fmt}" in bench.archives:
                            bench.ferry_load(fmt)
                if "skopeo" in tools and "skopeo" in bench.archives:
                    bench.skopeo_load()
        finally:
            upstream.stop()
    elapsed = time.monotonic() - t_start
    agg = aggregate(bench.rows)
    result = targets(agg, bench)
    print()
    print(table(agg, len(image_set)))
    print()
    for name, value, met in result:
        print(f"  {'MET    ' if met else 'NOT MET'}  {name}: {value}")
    print(f"bench wall time {elapsed:.0f} s")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": bench.rows, "aggregate": agg, "notes": bench.notes, "unique_bytes": bench.unique_bytes,
                       "manifest_bytes": bench.manifest_bytes}, f, indent=1, default=str)
    if not args.no_write:
        write_section(args.output, markdown(agg, result, bench, command, elapsed))
        print(f"wrote {os.path.relpath(args.output, os.getcwd())}")
    ok = all(a["verified"] for a in agg if a["tool"] == "ferry") and all(not r["failed"] for r in bench.rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
