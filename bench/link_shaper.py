#!/usr/bin/env python3
"""Link shaper for benchmarks: an HTTP/1.1 reverse proxy (the FaultProxy core from
tests/lib/ferrytest/fault_proxy.py) in front of a plain-HTTP registry that makes loopback look like
a wide-area link:

  latency    the first byte of every response is held back one RTT after the upstream's answer
             (server time + RTT, as on a real link); the first response on a new connection waits
             one more RTT for the TCP handshake (--no-handshake-rtt turns that off)
  bandwidth  each connection is capped at --conn-mbps, all connections together at --total-mbps
             (token buckets, separately per direction: downloads and uploads each get the caps)

Rates are in bytes per second (MB = 10^6 bytes), also for the library's `*_bps` arguments.

Library:  with LinkShaper("127.0.0.1:5000", rtt_ms=100, per_conn_bps=8e6, total_bps=40e6) as s:
              ... use s.host ...
Command:  python3 bench/link_shaper.py --upstream 127.0.0.1:5000 --port 0 --rtt-ms 100 \\
              --conn-mbps 8 --total-mbps 40          (prints the listen address, runs until killed)
Check:    python3 bench/link_shaper.py --self-check   (measures throughput and the shaper's CPU)
"""

import argparse
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "lib"))

from ferrytest.fault_proxy import HttpProxy  # noqa: E402


class TokenBucket:
    """A token bucket that lets takers go into debt: `reserve(n)` takes n tokens at once and returns
    how long the caller must wait for them. Concurrent takers queue up in arrival order and the
    long-run rate is exact. `rate` None or <= 0 means unlimited."""

    def __init__(self, rate, burst):
        self.rate = rate if rate and rate > 0 else None
        self.burst = burst
        self.tokens = burst
        self.stamp = time.monotonic()
        self._lock = threading.Lock()

    def reserve(self, n):
        if self.rate is None:
            return 0.0
        with self._lock:
            now = time.monotonic()
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
            self.tokens -= n
            return 0.0 if self.tokens >= 0 else -self.tokens / self.rate


class LinkShaper(HttpProxy):
    """Adds `rtt_ms` of latency per response and caps bandwidth per connection (`per_conn_bps`) and
    in total (`total_bps`), in bytes per second; None or 0 means no cap."""

    chunk_size = 64 * 1024  # pacing granularity: 8 ms at 8 MB/s

    def __init__(self, upstream, rtt_ms=100, per_conn_bps=8e6, total_bps=40e6, handshake_rtt=True,
                 port=0, listen_host="127.0.0.1"):
        super().__init__(upstream, port=port, listen_host=listen_host)
        self.rtt = rtt_ms / 1000.0
        self.per_conn_bps, self.total_bps = per_conn_bps, total_bps
        self.handshake_rtt = handshake_rtt
        self._total = {d: TokenBucket(total_bps, self._burst(total_bps)) for d in ("down", "up")}

    def _burst(self, rate):
        return max(self.chunk_size, (rate or 0) * 0.02)  # 20 ms worth of bytes

    def connection_opened(self, conn):
        conn.state["buckets"] = {d: TokenBucket(self.per_conn_bps, self._burst(self.per_conn_bps))
                                 for d in ("down", "up")}

    def before_response(self, conn, request, status):
        handshake = self.handshake_rtt and conn.responses == 0
        self._pause(self.rtt * (2 if handshake else 1))

    def pace(self, conn, direction, nbytes):
        wait = max(conn.state["buckets"][direction].reserve(nbytes),
                   self._total[direction].reserve(nbytes))
        self._pause(wait)


# --- self-check --------------------------------------------------------------------------------------
def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def self_check(args):
    """Serves a blob from a local HTTP server, runs the shaper as a separate process in front of it
    (so its CPU can be measured alone), pulls through it from --clients connections for
    --seconds, and prints the aggregate rate and the shaper's CPU use."""
    import http.client
    import subprocess
    from http.server import BaseHTTPRequestHandler

    from ferrytest.util import QuietHTTPServer

    blob = os.urandom(16 << 20)
    piece = memoryview(blob)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            for i in range(0, len(blob), 1 << 20):
                self.wfile.write(piece[i:i + (1 << 20)])

        def log_message(self, *a):
            pass

    server = QuietHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"127.0.0.1:{server.server_address[1]}"
    proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--upstream", upstream,
                             "--port", "0", "--rtt-ms", str(args.rtt_ms), "--conn-mbps",
                             str(args.conn_mbps), "--total-mbps", str(args.total_mbps)],
                            stdout=subprocess.PIPE, text=True)
    try:
        host = proc.stdout.readline().strip()
        total = [0]
        lock = threading.Lock()
        start_at = time.monotonic() + args.warmup  # count after the RTTs and the bursts
        stop_at = start_at + args.seconds

        def client():
            conn = http.client.HTTPConnection(host, timeout=60)
            while time.monotonic() < stop_at:
                conn.request("GET", "/blob")
                r = conn.getresponse()
                while time.monotonic() < stop_at:
                    data = r.read(64 * 1024)
                    if not data:
                        break
                    if time.monotonic() >= start_at:
                        with lock:
                            total[0] += len(data)
                if time.monotonic() >= stop_at:
                    break
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(max(0.0, start_at - time.monotonic()))  # a benchmark's measuring window
        cpu0, t0 = _cpu_seconds(proc.pid), time.monotonic()
        for t in threads:
            t.join()
        elapsed, cpu = time.monotonic() - t0, _cpu_seconds(proc.pid) - cpu0
        print(f"clients={args.clients} rtt={args.rtt_ms}ms conn-cap={args.conn_mbps}MB/s "
              f"total-cap={args.total_mbps}MB/s: {total[0] / elapsed / 1e6:.1f} MB/s over "
              f"{elapsed:.1f}s, shaper CPU {100 * cpu / elapsed:.0f}% of one core")
    finally:
        proc.terminate()
        proc.wait(10)
        server.shutdown()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--upstream", help="HOST:PORT of the plain-HTTP registry to shape")
    p.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port)")
    p.add_argument("--listen", default="127.0.0.1", help="address to listen on")
    p.add_argument("--rtt-ms", type=float, default=100, help="added round-trip time (ms)")
    p.add_argument("--conn-mbps", type=float, default=8, help="per-connection cap, MB/s (0: none)")
    p.add_argument("--total-mbps", type=float, default=40, help="cap for all connections, MB/s (0: none)")
    p.add_argument("--no-handshake-rtt", action="store_true",
                   help="do not add an RTT to the first response of each connection")
    p.add_argument("--self-check", action="store_true",
                   help="measure throughput and CPU against a built-in upstream, then exit")
    p.add_argument("--clients", type=int, default=8, help="self-check: parallel connections")
    p.add_argument("--seconds", type=float, default=5, help="self-check: measured duration")
    p.add_argument("--warmup", type=float, default=1, help="self-check: seconds before measuring")
    args = p.parse_args(argv)
    if args.self_check:
        return self_check(args)
    if not args.upstream:
        p.error("--upstream is required")
    shaper = LinkShaper(args.upstream, rtt_ms=args.rtt_ms, per_conn_bps=args.conn_mbps * 1e6,
                        total_bps=args.total_mbps * 1e6, handshake_rtt=not args.no_handshake_rtt,
                        port=args.port, listen_host=args.listen)
    shaper.start()
    print(shaper.host, flush=True)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    shaper.stop()


if __name__ == "__main__":
    sys.exit(main())
