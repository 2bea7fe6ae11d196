"""Integration tests for `ferry load` (hey's flags and report), against a small HTTP server each test
starts on a free loopback port. The server counts what arrives (requests, TCP connections, the most
requests it held at once) and records each request's method, path, headers and body; it can answer
with a rotating list of status codes, hold requests until a number of them are in flight, delay
answers, close every connection after one answer (saying so, or not), answer in chunks or as an
HTTP/1.0 server that ends the body by closing, cut some answers short, redirect, send a malformed
answer, and serve over TLS. http:// URLs exercise ferry's own HTTP/1.1 transport, https:// libcurl.

Everything is asserted from the server's side or from ferry's report; nothing asserts on time."""

import json
import re
import ssl
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler

from ferrytest.ferry import Ferry
from ferrytest.testcase import ServerTestCase
from ferrytest.util import HttpService, QuietHTTPServer, free_port

BODY = b"hello from the load target\n"


class _Server(QuietHTTPServer):
    request_queue_size = 128  # c connections arrive at once; the default backlog of 5 would stall them


class LoadTarget(HttpService):
    """The server `ferry load` is pointed at. `codes` rotate by arrival order; `gate` holds each
    request until that many are in flight at once (then lets every request through); `delay` makes
    every answer that many seconds late; `close` ends each connection after one answer with
    `Connection: close`, `silent_close` without saying so (the client finds out when it reuses the
    connection); `chunked` sends the body in chunks; `http10` answers as HTTP/1.0 without a length,
    closing to end the body; `truncate` cuts every n-th answer short and closes; `redirects` maps a
    path to a Location answered with 302; `raw` is sent verbatim instead of any answer; `tls` (a
    Pki) serves https."""

    def __init__(self, codes=(200,), gate=0, delay=0.0, close=False, silent_close=False, chunked=False,
                 http10=False, truncate=0, redirects=None, raw=None, tls=None):
        self.codes, self.gate, self.delay, self.close = list(codes), gate, delay, close
        self.silent_close, self.chunked, self.http10, self.truncate = silent_close, chunked, http10, truncate
        self.redirects, self.raw, self.tls = redirects or {}, raw, tls
        self.cond = threading.Condition()
        self.requests = []  # (method, path, headers {lower-case name: value}, body)
        self.connections = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.released = False

    def start(self):
        self._httpd = _Server(("127.0.0.1", 0), self._handler())
        self.port = self._httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if self.tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(self.tls.cert, self.tls.key)
            self._httpd.socket = ctx.wrap_socket(self._httpd.socket, server_side=True)
            self.url = f"https://127.0.0.1:{self.port}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def count(self):
        with self.cond:
            return len(self.requests)

    def _handler(self):
        target = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0" if target.http10 else "HTTP/1.1"  # 1.1: keep-alive

            def setup(self):
                super().setup()
                with target.cond:
                    target.connections += 1

            def log_message(self, *args):
                pass

            def serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with target.cond:
                    index = len(target.requests)
                    target.requests.append((self.command, self.path,
                                            {k.lower(): v for k, v in self.headers.items()}, body))
                    target.in_flight += 1
                    target.max_in_flight = max(target.max_in_flight, target.in_flight)
                    if target.gate and target.in_flight >= target.gate:
                        target.released = True
                        target.cond.notify_all()
                    if target.gate:
                        target.cond.wait_for(lambda: target.released, timeout=15)
                    target.in_flight -= 1  # before answering: the client may send its next request at once
                if target.delay:
                    time.sleep(target.delay)  # a slow server, not synchronisation
                if target.raw is not None:
                    self.wfile.write(target.raw)
                    self.close_connection = True
                    return
                location = target.redirects.get(self.path)
                self.send_response(302 if location else target.codes[index % len(target.codes)])
                if location:
                    self.send_header("Location", location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                cut = target.truncate and index % target.truncate == target.truncate - 1
                if target.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                elif not target.http10:
                    self.send_header("Content-Length", str(len(BODY) + (100 if cut else 0)))
                if target.close:
                    self.send_header("Connection", "close")
                self.close_connection = target.close or target.silent_close or cut or target.http10
                self.end_headers()
                if self.command == "HEAD":
                    return
                if target.chunked:
                    half = len(BODY) // 2
                    for part in (BODY[:half], BODY[half:]):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                    self.wfile.write(b"0\r\n\r\n")
                else:
                    self.wfile.write(BODY)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = serve

        return Handler


class LoadTestCase(ServerTestCase):
    def setUp(self):
        super().setUp()
        self.ferry = self.use(Ferry())

    def load(self, *args, expect=0):
        r = self.ferry.run("load", *args, timeout=120)
        self.assertEqual(r.code, expect, str(r))
        return r

    def load_json(self, *args, expect=0):
        return json.loads(self.load("--output", "json", *args, expect=expect).out)


class TestCounts(LoadTestCase):
    def test_n_sends_exactly_n_requests_even_when_not_a_multiple_of_c(self):
        server = self.use(LoadTarget())
        r = self.load("-n", "37", "-c", "5", server.url + "/count")
        self.assertEqual(server.count(), 37)
        self.assertIn("Status code distribution:\n  [200]\t37 responses\n", r.out)

    def test_c_workers_are_in_flight_together_and_never_more(self):
        server = self.use(LoadTarget(gate=8))
        doc = self.load_json("-n", "40", "-c", "8", server.url)
        self.assertEqual(server.count(), 40)
        self.assertEqual(server.max_in_flight, 8)
        self.assertEqual(doc["summary"]["max_in_flight"], 8)

    def test_status_codes_are_counted_as_the_server_sent_them(self):
        server = self.use(LoadTarget(codes=(200, 200, 404, 503)))
        r = self.load("-n", "40", "-c", "4", server.url)
        self.assertIn("Status code distribution:\n  [200]\t20 responses\n  [404]\t10 responses\n"
                      "  [503]\t10 responses\n", r.out)
        self.assertNotIn("Error distribution", r.out)  # an HTTP error status is an answer, not a failure

    def test_z_runs_for_a_duration_and_stops(self):
        server = self.use(LoadTarget())
        doc = self.load_json("-z", "1s", "-c", "2", server.url)
        self.assertGreater(doc["summary"]["requests"], 0)
        self.assertEqual(server.count(), doc["summary"]["requests"])
        self.assertEqual(doc["summary"]["responses"], doc["summary"]["requests"])

    def test_a_refused_port_is_reported_as_errors_with_exit_status_1(self):
        port = free_port()
        r = self.load("-n", "6", "-c", "2", f"http://127.0.0.1:{port}/", expect=1)
        self.assertRegex(r.out, rf"Error distribution:\n  \[6\]\trequest to 127\.0\.0\.1:{port}: .+\n")
        self.assertNotIn("Status code distribution", r.out)
        self.assertRegex(r.err, r"ferry: error: 6 of 6 requests failed")

    def test_a_server_slower_than_t_gives_timeout_errors(self):
        server = self.use(LoadTarget(delay=3))
        r = self.load("-n", "2", "-c", "2", "-t", "0.3", server.url, expect=1)
        self.assertIn("[2]\trequest to 127.0.0.1:", r.out)
        self.assertIn("(timeout)", r.out)


class TestRequestShape(LoadTestCase):
    def test_method_headers_body_and_content_type_reach_the_server(self):
        server = self.use(LoadTarget())
        self.load("-n", "3", "-c", "1", "-m", "PUT", "-H", "X-Test: one", "-H", "X-Other: two",
                  "-d", '{"a": 1}', "-T", "application/json", server.url + "/put?x=1")
        self.assertEqual(server.count(), 3)
        for method, path, headers, body in server.requests:
            self.assertEqual((method, path, body), ("PUT", "/put?x=1", b'{"a": 1}'))
            self.assertEqual(headers["x-test"], "one")
            self.assertEqual(headers["x-other"], "two")
            self.assertEqual(headers["content-type"], "application/json")
            self.assertNotIn("expect", headers)

    def test_a_body_larger_than_the_socket_buffer_arrives_whole(self):
        server = self.use(LoadTarget())
        body = bytes(range(256)) * (16 * 1024)  # 4 MiB: written in several pieces
        path = self.tmp.sub("body.bin")
        with open(path, "wb") as f:
            f.write(body)
        self.load("-n", "3", "-c", "1", "-m", "POST", "-D", path, server.url + "/upload")
        self.assertEqual([(m, len(b)) for m, _, _, b in server.requests], [("POST", len(body))] * 3)
        self.assertTrue(all(b == body for _, _, _, b in server.requests))

    def test_host_overrides_the_host_header_with_hey_spelling_and_double_dash(self):
        server = self.use(LoadTarget())
        self.load("-n", "2", "-c", "1", "-host", "helloworld.default.example.com", server.url)
        self.load("-n", "2", "-c", "1", "--host", "autoscale.default.example.com", server.url)
        hosts = [h["host"] for _, _, h, _ in server.requests]
        self.assertEqual(hosts, ["helloworld.default.example.com"] * 2 + ["autoscale.default.example.com"] * 2)

    def test_head_sends_no_body_and_reads_none(self):
        server = self.use(LoadTarget())
        doc = self.load_json("-n", "3", "-c", "1", "-m", "HEAD", server.url)
        self.assertEqual([m for m, _, _, _ in server.requests], ["HEAD"] * 3)
        self.assertEqual(doc["summary"]["total_bytes"], 0)

    def test_bad_flags_are_refused_before_anything_is_sent(self):
        server = self.use(LoadTarget())
        for args, needle in [(["-H", "no-colon"], "Name: value"), (["-z", "ten"], "-z"),
                             (["-c", "0"], "-c"), (["-m", "GET X"], "-m")]:
            r = self.ferry.run("load", *args, server.url)
            self.assertNotEqual(r.code, 0, str(r))
            self.assertIn(needle, r.err)
        r = self.ferry.run("load", "127.0.0.1:1/")
        self.assertNotEqual(r.code, 0)
        self.assertIn("http://", r.err)
        self.assertEqual(server.count(), 0)


class TestConnections(LoadTestCase):
    def test_keep_alive_opens_at_most_c_connections(self):
        server = self.use(LoadTarget())
        doc = self.load_json("-n", "200", "-c", "5", server.url)
        self.assertEqual(server.count(), 200)
        self.assertLessEqual(server.connections, 5)
        self.assertEqual(doc["summary"]["connections"], server.connections)

    def test_disable_keepalive_opens_one_connection_per_request(self):
        server = self.use(LoadTarget())
        self.load("-n", "20", "-c", "2", "-disable-keepalive", server.url)
        self.assertEqual(server.count(), 20)
        self.assertEqual(server.connections, 20)

    def test_a_server_that_closes_every_connection_still_gets_every_request(self):
        server = self.use(LoadTarget(close=True))
        doc = self.load_json("-n", "30", "-c", "3", server.url)
        self.assertEqual(server.count(), 30)
        self.assertEqual(doc["summary"]["responses"], 30)
        self.assertEqual(doc["summary"]["errors"], 0)
        self.assertEqual(server.connections, 30)


class TestReport(LoadTestCase):
    def test_text_report_has_heys_sections(self):
        server = self.use(LoadTarget())
        r = self.load("-n", "50", "-c", "5", server.url)
        for section in ["Summary:\n  Total:\t", "  Requests/sec:\t", "Response time histogram:\n",
                        "Latency distribution:\n  10% in ", "  99% in ", "Details (average, fastest, slowest):\n",
                        "Status code distribution:\n  [200]\t50 responses\n"]:
            self.assertIn(section, r.out)
        self.assertIn(f"  Total data:\t{50 * len(BODY)} bytes\n", r.out)
        bars = re.findall(r"^  \d+\.\d{3} \[(\d+)\]\t\|", r.out, re.M)
        self.assertEqual(len(bars), 11)
        self.assertEqual(sum(int(b) for b in bars), 50)

    def test_json_output_shape(self):
        server = self.use(LoadTarget(codes=(200, 500)))
        doc = self.load_json("-n", "20", "-c", "2", server.url)
        self.assertEqual(set(doc), {"summary", "histogram", "latency_distribution", "details",
                                    "status_codes", "errors", "timeline"})
        s = doc["summary"]
        self.assertEqual((s["requests"], s["responses"], s["errors"]), (20, 20, 0))
        self.assertEqual(doc["status_codes"], {"200": 10, "500": 10})
        self.assertEqual([p["percentile"] for p in doc["latency_distribution"]], [10, 25, 50, 75, 90, 95, 99])
        latencies = [p["seconds"] for p in doc["latency_distribution"]]
        self.assertEqual(latencies, sorted(latencies))
        self.assertTrue(s["fastest_seconds"] <= latencies[0] and latencies[-1] <= s["slowest_seconds"])
        self.assertEqual(sum(b["count"] for b in doc["histogram"]), 20)
        self.assertEqual(set(doc["details"]), {"dns_dialup", "dns_lookup", "resp_wait", "resp_read", "queued"})
        # Every finished request lands in exactly one timeline window.
        self.assertEqual(sum(w["completed"] for w in doc["timeline"]), 20)
        for w in doc["timeline"]:
            self.assertEqual(set(w), {"end_seconds", "length_seconds", "in_flight", "max_in_flight", "completed",
                                      "errors", "requests_per_second", "p50_seconds", "p95_seconds", "p99_seconds"})

    def test_timeline_of_a_duration_run_accounts_for_every_request(self):
        server = self.use(LoadTarget())
        doc = self.load_json("-z", "2s", "-c", "3", server.url)
        self.assertGreaterEqual(len(doc["timeline"]), 1)
        self.assertEqual(sum(w["completed"] for w in doc["timeline"]), doc["summary"]["requests"])
        self.assertTrue(all(w["max_in_flight"] <= 3 for w in doc["timeline"]))
        ends = [w["end_seconds"] for w in doc["timeline"]]
        self.assertEqual(ends, sorted(ends))


class TestHttpFraming(LoadTestCase):
    """ferry's own HTTP/1.1 transport (http:// URLs) against the framings servers use."""

    def test_a_chunked_body_is_counted_and_the_connection_reused(self):
        server = self.use(LoadTarget(chunked=True))
        doc = self.load_json("-n", "40", "-c", "4", server.url)
        self.assertEqual(server.count(), 40)
        self.assertEqual(doc["summary"]["total_bytes"], 40 * len(BODY))
        self.assertEqual(server.connections, 4)
        self.assertEqual(doc["summary"]["connections"], 4)

    def test_an_http10_server_that_ends_each_body_by_closing(self):
        server = self.use(LoadTarget(http10=True))
        doc = self.load_json("-n", "20", "-c", "2", server.url)
        self.assertEqual(server.count(), 20)
        self.assertEqual((doc["summary"]["responses"], doc["summary"]["errors"]), (20, 0))
        self.assertEqual(doc["summary"]["total_bytes"], 20 * len(BODY))
        self.assertEqual(server.connections, 20)

    def test_a_server_that_drops_kept_alive_connections_unannounced_still_gets_every_request(self):
        # The server advertises keep-alive but closes after each answer: ferry finds the connection
        # dead when it reuses it and sends the request again on a new one, once.
        server = self.use(LoadTarget(silent_close=True))
        doc = self.load_json("-n", "30", "-c", "3", server.url)
        self.assertEqual(server.count(), 30)
        self.assertEqual((doc["summary"]["responses"], doc["summary"]["errors"]), (30, 0))

    def test_an_answer_cut_short_is_an_error_and_the_others_complete(self):
        server = self.use(LoadTarget(truncate=5))
        r = self.load("-n", "30", "-c", "3", server.url, expect=1)
        self.assertEqual(server.count(), 30)
        self.assertIn("Status code distribution:\n  [200]\t24 responses\n", r.out)
        self.assertIn(f"[6]\trequest to 127.0.0.1:{server.port}: connection closed before the response "
                      "was complete\n", r.out)

    def test_a_malformed_status_line_is_an_error_that_says_so(self):
        server = self.use(LoadTarget(raw=b"HTTP/1.1 OK\r\nContent-Length: 0\r\n\r\n"))
        r = self.load("-n", "4", "-c", "2", server.url, expect=1)
        self.assertIn(f"[4]\trequest to 127.0.0.1:{server.port}: malformed response: invalid HTTP status code\n",
                      r.out)


class TestRedirects(LoadTestCase):
    def test_a_same_origin_redirect_is_followed(self):
        server = self.use(LoadTarget(redirects={"/old?x=1": "/new"}))
        doc = self.load_json("-n", "6", "-c", "2", server.url + "/old?x=1")
        self.assertEqual(sorted(p for _, p, _, _ in server.requests), ["/new"] * 6 + ["/old?x=1"] * 6)
        self.assertEqual(doc["status_codes"], {"200": 6})
        self.assertEqual(doc["summary"]["total_bytes"], 6 * len(BODY))
        self.assertEqual(server.connections, 2)  # the second hop rides the same kept-alive connection

    def test_disable_redirects_counts_the_redirect_itself(self):
        server = self.use(LoadTarget(redirects={"/old": "/new"}))
        doc = self.load_json("-n", "3", "-c", "1", "-disable-redirects", server.url + "/old")
        self.assertEqual([p for _, p, _, _ in server.requests], ["/old"] * 3)
        self.assertEqual(doc["status_codes"], {"302": 3})

    def test_a_redirect_to_another_port_is_an_error_naming_the_origin(self):
        other = free_port()
        server = self.use(LoadTarget(redirects={"/": f"http://127.0.0.1:{other}/elsewhere?token=s3cret"}))
        r = self.load("-n", "4", "-c", "2", server.url + "/", expect=1)
        self.assertIn(f"[4]\trequest to 127.0.0.1:{server.port}: redirect to another origin "
                      f"(http://127.0.0.1:{other}) not followed\n", r.out)
        self.assertNotIn("s3cret", r.out + r.err)
        self.assertEqual(server.count(), 4)


class TestHttps(LoadTestCase):
    def test_https_goes_through_libcurl_with_the_given_ca(self):
        server = self.use(LoadTarget(tls=self.pki()))
        doc = self.load_json("-n", "30", "-c", "3", "--cacert", self.pki().ca_cert, server.url)
        self.assertTrue(server.url.startswith("https://"))
        self.assertEqual(server.count(), 30)
        self.assertEqual((doc["summary"]["responses"], doc["summary"]["errors"]), (30, 0))
        self.assertEqual(doc["summary"]["total_bytes"], 30 * len(BODY))
        self.assertLessEqual(server.connections, 3)

    def test_https_without_the_ca_fails_verification(self):
        server = self.use(LoadTarget(tls=self.pki()))
        r = self.load("-n", "2", "-c", "1", server.url, expect=1)
        self.assertIn("[2]\trequest to 127.0.0.1:", r.out)
        self.assertEqual(server.count(), 0)


if __name__ == "__main__":
    unittest.main()
