"""`ferry load` against hey and wrk: the same local server, c=50, 20 s each.

Servers (each on a free 127.0.0.1 port, started by the bench, stopped after):
  nginx       nginx-light serving a 13-byte static file, 1 worker process, access log off,
              keep-alive without a request limit.
  helloworld  the helloworld sample app (samples/apps/helloworld.cc, from the build tree); when it
              is not built, a tiny Python HTTP/1.1 server stands in, and the table says so.
  autoscale   the autoscale sample at ?sleep=20: every answer takes 20 ms, so no tool is the
              bottleneck and the tools' latencies can be compared as measurements.

Tools, each closed-loop with 50 connections for --duration seconds:
  ferry   ferry load -z 20s -c 50 --output json URL        (one event loop: its own HTTP/1.1
                                                           client and http_parser for http://)
  hey     hey -z 20s -c 50 URL                              (Go, GOMAXPROCS = all cores)
  wrk     wrk -t 2 -c 50 -d 20s --latency URL               (C, 2 event-loop threads)
  wrk1    wrk -t 1 -c 50 -d 20s --latency URL               (wrk with one event loop, as ferry)

Per run: requests/s and p50/p99 as the tool itself reports them, the tool's user+sys CPU seconds
(`/usr/bin/time -v`), the server's CPU seconds (/proc), and the machine's idle share just before
the run (after waiting for a quiet second, as mirror_bench.py does) and during it. Runs are
interleaved (ferry, hey, wrk, ferry, ...) so drift in the machine's load hits every tool alike.

    python3 bench/load_bench.py                    # 3 servers x 3 tools x 3 repeats, ~9 min; writes docs/benchmarks.md
    python3 bench/load_bench.py --duration 5 --repeat 1 --no-write   # quick look
"""

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
sys.path.insert(0, HERE)

from ferrytest.util import TempDir, free_port, start_process, stop_process, wait_until  # noqa: E402
from mirror_bench import build_info, snapshot_binary, timed, wait_quiet  # noqa: E402
from benchlib import write_section  # noqa: E402

PACKAGES = {"hey": "hey", "wrk": "wrk", "nginx": "nginx-light"}
STATIC_BODY = b"Hello World!\n"

# The Python stand-in for helloworld when the sample is not built: HTTP/1.1 keep-alive, same body.
PY_HELLOWORLD = r'''
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        body = b"Hello World!\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer.request_queue_size = 128
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
'''


def ensure_tools():
    """Installs hey, wrk and nginx-light from Debian when missing (needs root)."""
    missing = [pkg for tool, pkg in PACKAGES.items() if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin"))]
    if not missing:
        return
    if os.geteuid() != 0:
        sys.exit(f"load_bench: missing {' '.join(missing)}; install them: apt-get install {' '.join(missing)}")
    print(f"installing {' '.join(missing)} (apt-get)", flush=True)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", *missing], check=True, env=env,
                   stdout=subprocess.DEVNULL)


def cpu_seconds(pid):
    """user+sys CPU of a process (all its threads) so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_times():
    """(idle, total) jiffies of all cores, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def http_ready(port):
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        c.request("GET", "/")
        return c.getresponse().status == 200
    finally:
        c.close()


class Server:
    """A server process on a free port; `pids()` lists the processes whose CPU is the server's."""

    def __init__(self, name, argv_for_port, tmp, note="", query=""):
        self.name, self.argv_for_port, self.tmp, self.note, self.query = name, argv_for_port, tmp, note, query
        self.proc = None

    def __enter__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/" + (f"?{self.query}" if self.query else "")
        self.proc = start_process(self.argv_for_port(self.port), self.tmp.sub(f"{self.name}.log"))
        try:
            wait_until(lambda: http_ready(self.port), f"{self.name} answering 200 on port {self.port}", timeout=30,
                       alive=self._alive)
        except BaseException:
            stop_process(self.proc)
            raise
        return self

    def _alive(self):
        if self.proc.poll() is not None:
            with open(self.tmp.sub(f"{self.name}.log")) as f:
                raise RuntimeError(f"{self.name} exited ({self.proc.returncode}): {f.read()[-2000:]}")

    def pids(self):
        pids = [self.proc.pid]
        try:  # nginx: the master's worker processes
            with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children") as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            pass
        return pids

    def cpu(self):
        total = 0.0
        for pid in self.pids():
            try:
                total += cpu_seconds(pid)
            except OSError:
                pass
        return total

    def __exit__(self, *exc):
        stop_process(self.proc)


def nginx_server(tmp):
    root = tmp.sub("nginx", mkdir=True)
    www = tmp.sub("nginx", "www", mkdir=True)
    for d in (tmp.path, root, www):  # nginx's workers run as nobody; mkdtemp makes 0700
        os.chmod(d, 0o755)
    with open(os.path.join(www, "index.html"), "wb") as f:
        f.write(STATIC_BODY)
    os.chmod(os.path.join(www, "index.html"), 0o644)
    conf = os.path.join(root, "nginx.conf")

    def argv(port):
        with open(conf, "w") as f:
            f.write(f"""daemon off;
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 75s;
  client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fcgi;
  uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
  server {{ listen 127.0.0.1:{port}; root {www}; location / {{ index index.html; }} }}
}}
""")
        return [shutil.which("nginx", path="/usr/sbin:/usr/bin"), "-p", root, "-c", conf]
    return Server("nginx", argv, tmp, "nginx-light 1 worker, 13-byte static file")


def autoscale_server(tmp, binary):
    """The autoscale sample answering after 20 ms: a service slower than any of the tools, so none
    of them is the bottleneck and their latencies should agree."""
    if not (binary and os.access(binary, os.X_OK)):
        sys.exit(f"load_bench: the autoscale sample {binary} is not built (cmake --build build --target sample_autoscale)")
    return Server("autoscale", lambda port: ["env", f"PORT={port}", binary], tmp,
                  "autoscale sample, `?sleep=20` (20 ms per request: no tool saturates)", query="sleep=20")


def helloworld_server(tmp, binary):
    if binary and os.access(binary, os.X_OK):
        return Server("helloworld", lambda port: ["env", f"PORT={port}", binary], tmp,
                      "helloworld sample (C++, thread per connection)")
    script = tmp.sub("py_helloworld.py")
    with open(script, "w") as f:
        f.write(PY_HELLOWORLD)
    return Server("helloworld", lambda port: [sys.executable, script, str(port)], tmp,
                  "Python stand-in: the helloworld sample was not built")


# --- the tools and what they print ---------------------------------------------------------------
def wrk_seconds(value, unit):
    return float(value) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def parse_ferry(out):
    doc = json.loads(out)
    pct = {p["percentile"]: p["seconds"] for p in doc["latency_distribution"]}
    s = doc["summary"]
    return {"rps": s["requests_per_second"], "p50": pct.get(50), "p99": pct.get(99),
            "requests": s["requests"], "errors": s["errors"], "connections": s["connections"]}


def parse_hey(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50% in ([\d.]+) secs", out)
    p99 = re.search(r"99% in ([\d.]+) secs", out)
    codes = sum(int(n) for n in re.findall(r"\[\d+\]\s+(\d+) responses", out))
    errors = sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+(?!.*responses)", out, re.M))
    return {"rps": rps, "p50": float(p50.group(1)) if p50 else None, "p99": float(p99.group(1)) if p99 else None,
            "requests": codes + errors, "errors": errors}


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {int(p): wrk_seconds(v, u) for p, v, u in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    n = int(re.search(r"(\d+) requests in", out).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": lat.get(50), "p99": lat.get(99), "requests": n,
            "errors": (sum(int(x) for x in errors.groups()) if errors else 0) + (int(non2xx.group(1)) if non2xx else 0)}


# Why the numbers look as they do; true of every run on a small shared machine, so kept with the code.
READING = """How to read it. At c=50 closed-loop on 2 cores the tool and the server share the two cores,
so requests/s measures how much of the machine each tool leaves to the server; CPU per request is
the steadier comparison of the tools themselves. ferry runs one event loop, as issue 8 asks: for
http:// its own HTTP/1.1 client (one send per request, answers parsed by http_parser out of one
buffer, as wrk does). `wrk -t 2` runs two loops, so against a server that answers in tens of µs it
can keep both cores busy where one loop leaves some idle; the `wrk1` rows (`-t 1`) are the
like-for-like comparison. In a closed loop, latency is mostly waiting: by Little's law the mean is
c / requests per second, so the tool that sends more requests per second also shows the lower p50.
The clocks differ a little: ferry times from its send to the read that completes the answer (one
clock read per read, as wrk), wrk from its write until its loop parses the answer, hey the whole Go
client call. Against a server slower than the tools (the autoscale rows) they agree within a few
per cent.
"""


TOOLS = {
    "ferry": (lambda a, url: [a.ferry, "load", "-z", f"{a.duration}s", "-c", str(a.concurrency), "--output", "json", url],
              parse_ferry),
    "hey": (lambda a, url: ["hey", "-z", f"{a.duration}s", "-c", str(a.concurrency), url], parse_hey),
    "wrk": (lambda a, url: ["wrk", "-t", str(a.wrk_threads), "-c", str(a.concurrency), "-d", f"{a.duration}s",
                            "--latency", url], parse_wrk),
    "wrk1": (lambda a, url: ["wrk", "-t", "1", "-c", str(a.concurrency), "-d", f"{a.duration}s",
                             "--latency", url], parse_wrk),
}


def measure(args, server, tool, tmp, rep):
    idle_before = wait_quiet(args.quiet_wait)
    argv_for, parse = TOOLS[tool]
    server_cpu0, (idle0, total0) = server.cpu(), machine_times()
    run = timed(argv_for(args, server.url), dict(os.environ), tmp.path, f"{server.name}-{tool}-{rep}",
                timeout=args.duration * 4 + 60)
    idle1, total1 = machine_times()
    server_cpu = server.cpu() - server_cpu0
    if run["rc"] not in (0, 1) or not run["out"].strip():
        raise RuntimeError(f"{tool} failed ({run['rc']}): {run['err'][-2000:]}")
    row = {"server": server.name, "tool": tool, "rep": rep, "cpu": run["cpu"], "wall": run["wall"],
           "rss_mb": run["rss_mb"], "server_cpu": server_cpu, "idle_before": idle_before,
           "idle_during": (idle1 - idle0) / max(1, total1 - total0),
           "cores_busy": (1 - (idle1 - idle0) / max(1, total1 - total0)) * os.cpu_count()}
    row.update(parse(run["out"]))
    row["cpu_us_per_request"] = row["cpu"] / max(1, row["rps"] * args.duration) * 1e6
    # What other processes (other people's builds) used meanwhile: busy core-seconds not ours.
    row["others_cpu"] = max(0.0, row["cores_busy"] * run["wall"] - row["cpu"] - server_cpu)
    print(f"  {server.name:10} {tool:5} #{rep}: {row['rps']:9.0f} req/s  cpu {row['cpu']:5.1f} s  "
          f"p50 {row['p50'] * 1e3 if row['p50'] else float('nan'):6.2f} ms  p99 {row['p99'] * 1e3 if row['p99'] else float('nan'):6.2f} ms  "
          f"server cpu {server_cpu:5.1f} s  idle before {idle_before:.0%} during {row['idle_during']:.0%}  "
          f"others {row['others_cpu']:.1f} s", flush=True)
    return row


def aggregate(rows):
    out = {}
    for r in rows:
        out.setdefault((r["server"], r["tool"]), []).append(r)
    agg = {}
    for key, rs in out.items():
        med = lambda k: statistics.median(r[k] for r in rs if r[k] is not None)  # noqa: E731
        agg[key] = {k: med(k) for k in ["rps", "cpu", "cpu_us_per_request", "p50", "p99", "server_cpu",
                                        "idle_before", "idle_during", "others_cpu", "rss_mb"]}
        agg[key]["n"] = len(rs)
        agg[key]["errors"] = sum(r["errors"] for r in rs)
        agg[key]["rps_range"] = (min(r["rps"] for r in rs), max(r["rps"] for r in rs))
    return agg


def table(agg, servers, tools):
    lines = ["| server | tool | requests/s | CPU s (user+sys) | CPU µs/request | p50 ms | p99 ms | server CPU s | "
             "others' CPU s | idle before / during | runs |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    for s in servers:
        for t in tools:
            a = agg.get((s, t))
            if not a:
                continue
            lo, hi = a["rps_range"]
            lines.append(f"| {s} | {t} | {a['rps']:,.0f} ({lo:,.0f}–{hi:,.0f}) | {a['cpu']:.1f} | "
                         f"{a['cpu_us_per_request']:.1f} | {a['p50'] * 1e3:.2f} | {a['p99'] * 1e3:.2f} | "
                         f"{a['server_cpu']:.1f} | {a['others_cpu']:.1f} | {a['idle_before']:.0%} / "
                         f"{a['idle_during']:.0%} | {a['n']} |")
    return "\n".join(lines)


def targets(agg, servers):
    """(server, what, detail, met) for each target of the issue."""
    result = []
    for s in servers:
        f, h, w = agg.get((s, "ferry")), agg.get((s, "hey")), agg.get((s, "wrk"))
        if f and h:
            result.append((s, "requests/s ≥ hey's", f"{f['rps']:,.0f} vs {h['rps']:,.0f}", f["rps"] >= h["rps"]))
            result.append((s, "CPU ≤ hey's", f"{f['cpu']:.1f} s vs {h['cpu']:.1f} s", f["cpu"] <= h["cpu"]))
        if f and w:
            for p in ("p50", "p99"):
                diff = (f[p] - w[p]) / w[p]
                result.append((s, f"{p} within 10% of wrk's", f"{f[p] * 1e3:.2f} ms vs {w[p] * 1e3:.2f} ms "
                               f"({diff:+.0%})", abs(diff) <= 0.10))
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--ferry", default=os.path.join(ROOT, "build", "cli", "ferry"))
    p.add_argument("--helloworld", default=os.path.join(ROOT, "build", "samples", "apps", "helloworld"),
                   help="the helloworld sample binary (a Python stand-in when missing)")
    p.add_argument("--autoscale", default=os.path.join(ROOT, "build", "samples", "apps", "autoscale"),
                   help="the autoscale sample binary (server 'autoscale')")
    p.add_argument("--servers", default="nginx,helloworld,autoscale")
    p.add_argument("--tools", default="ferry,hey,wrk,wrk1")
    p.add_argument("--duration", type=int, default=20, help="seconds per run")
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--wrk-threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quiet-wait", type=float, default=60,
                   help="before each run, wait up to this many seconds for a second with ≥ 85%% idle CPU")
    p.add_argument("--output", default=os.path.join(ROOT, "docs", "benchmarks.md"))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--json", help="also dump every run here")
    args = p.parse_args(argv)
    command = "python3 bench/load_bench.py" + "".join(" " + shlex.quote(a) for a in (sys.argv[1:] if argv is None else argv))
    ensure_tools()
    servers, tools = args.servers.split(","), args.tools.split(",")
    rows, notes = [], {}
    with TempDir("ferry-load-bench-") as tmp:
        if "ferry" in tools:
            source = args.ferry
            args.ferry = snapshot_binary(args.ferry, tmp.sub("ferry"))
            args.build_info = build_info(args).replace("build/cli/ferry", os.path.relpath(source, ROOT))
        for name in servers:
            if name == "nginx":
                server = nginx_server(tmp)
            elif name == "autoscale":
                server = autoscale_server(tmp, args.autoscale)
            else:
                server = helloworld_server(tmp, args.helloworld)
            with server:
                notes[name] = server.note
                print(f"{name}: {server.note}, {server.url}", flush=True)
                for rep in range(args.repeat):
                    for tool in tools:
                        rows.append(measure(args, server, tool, tmp, rep))
    agg = aggregate(rows)
    result = targets(agg, servers)
    print()
    print(table(agg, servers, tools))
    print()
    for s, what, detail, met in result:
        print(f"  {'MET    ' if met else 'NOT MET'}  {s}: {what}: {detail}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"rows": rows}, f, indent=1)
    if args.no_write:
        return
    lines = [
        "## ferry load\n",
        f"`{command}` on {os.cpu_count()} cores shared with other work; "
        f"{args.build_info if 'ferry' in tools else ''}. Each tool ran closed-loop with "
        f"{args.concurrency} connections for {args.duration} s against the same server, {args.repeat} times, "
        "interleaved; the table shows medians (requests/s also the range). CPU is the tool's user+sys from "
        "`/usr/bin/time -v`; server CPU from /proc; \"others' CPU\" is busy core-seconds during the run charged to "
        "neither process: other builds on the machine, and kernel network work (softirq) not charged to a process. "
        "p50/p99 are as each tool reports them: ferry from its histogram (exact below 256 µs, within 0.4% above), "
        "hey from all samples, wrk from its HdrHistogram.\n",
        "Servers: " + "; ".join(f"**{k}**: {v}" for k, v in notes.items()) + ".\n",
        f"Tools: `ferry load -z {args.duration}s -c {args.concurrency}`; `hey -z {args.duration}s -c {args.concurrency}` "
        f"(Debian hey, GOMAXPROCS = all cores); `wrk -t {args.wrk_threads} -c {args.concurrency} -d {args.duration}s "
        "--latency` (Debian wrk); `wrk1`: the same with `-t 1`, one event loop as in ferry.\n",
        table(agg, servers, tools) + "\n",
        "Targets (issue: requests/s ≥ hey's with no more CPU than hey; p50 and p99 within 10% of wrk's):\n",
        "\n".join(f"- {'**met**' if met else '**not met**'} — {s}: {what}: {detail}" for s, what, detail, met in result)
        + "\n",
        READING,
    ]
    write_section(args.output, "\n".join(lines))
    print(f"wrote the 'ferry load' section of {args.output}")


if __name__ == "__main__":
    main()
