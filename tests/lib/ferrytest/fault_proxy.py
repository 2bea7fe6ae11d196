"""`FaultProxy`: an HTTP/1.1 reverse proxy in front of a plain-HTTP registry that injects faults
chosen by a seeded random generator: connection resets mid-body, 5xx answers, 429 throttling,
truncated bodies, stalls. Counts requests, faults and the body bytes clients got, per path.

`HttpProxy` is the faithful core (also used by bench/link_shaper.py): one thread per client
connection, one upstream connection per client connection, keep-alive on both sides, request bodies
by Content-Length or chunked (with `Expect: 100-continue`), responses by Content-Length, chunked or
close, HEAD/204/304 without body. It changes nothing but the Host header (set to the upstream),
hop-by-hop headers, and Location headers that point at the upstream (rewritten to the proxy).

    with Registry() as reg, FaultProxy(reg.host, seed=7, faults={"reset": 0.3}, max_faults=5,
                                       methods=("GET",), path_regex=BLOBS_AND_MANIFESTS) as proxy:
        ... point the code under test at proxy.host ...
        proxy.faults["reset"], proxy.bytes_for(r"/blobs/sha256:")
"""

import http
import json
import random
import re
import select
import socket
import struct
import threading
import time
import urllib.parse
from dataclasses import dataclass

# Request targets a registry client pulls: GET/HEAD /v2/<name>/blobs/<digest>, /manifests/<ref>.
BLOBS_AND_MANIFESTS = r"^/v2/.+/(blobs|manifests)/[^/?]+$"
BLOBS = r"^/v2/.+/blobs/sha256:[0-9a-f]{64}$"
MANIFESTS = r"^/v2/.+/manifests/[^/?]+$"

FAULT_KINDS = ("reset", "status", "throttle", "truncate", "stall")

_HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "upgrade"}
_MAX_LINE = 64 * 1024
_MAX_HEADERS = 200


class _PeerClosed(Exception):
    """The peer closed the connection (EOF) where more bytes were expected."""


class _BadMessage(Exception):
    """The peer sent something that is not HTTP/1.1 we understand."""


class _SendFailed(Exception):
    """Sending a request body to the upstream failed (it closed or reset the connection)."""


class _Abort(Exception):
    """Drop the client connection now: with an RST (`reset`) or a plain close."""

    def __init__(self, reset):
        super().__init__("reset" if reset else "close")
        self.reset = reset


class _Reader:
    """Buffered reads from a socket that never read past what was asked for (bodies)."""

    def __init__(self, sock, bufsize=256 * 1024):
        self.sock, self.bufsize, self.buf = sock, bufsize, bytearray()

    def _recv(self, n):
        data = self.sock.recv(n)
        if not data:
            raise _PeerClosed("connection closed by peer")
        return data

    def readline(self):
        start = 0
        while True:
            i = self.buf.find(b"\n", start)
            if i >= 0:
                line = bytes(self.buf[:i + 1])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > _MAX_LINE:
                raise _BadMessage("header line too long")
            start = len(self.buf)
            self.buf += self._recv(_MAX_LINE)

    def read_some(self, n):
        """Up to `n` (> 0) bytes, at least one; raises _PeerClosed at EOF."""
        if self.buf:
            data = bytes(self.buf[:n])
            del self.buf[:n]
            return data
        return self._recv(min(n, self.bufsize))

    def read_exact(self, n):
        parts = []
        while n:
            data = self.read_some(n)
            parts.append(data)
            n -= len(data)
        return b"".join(parts)


def _read_headers(reader):
    headers = []
    while True:
        line = reader.readline()
        if line in (b"\r\n", b"\n"):
            return headers
        if len(headers) >= _MAX_HEADERS:
            raise _BadMessage("too many headers")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise _BadMessage(f"bad header line {line[:80]!r}")
        headers.append((name, value.strip()))


def _header(headers, name):
    """The last value of header `name` (case-insensitive), or None."""
    name = name.lower()
    value = None
    for n, v in headers:
        if n.lower() == name:
            value = v
    return value


def _tokens(headers, name):
    return {t.strip().lower() for n, v in headers if n.lower() == name for t in v.split(",") if t.strip()}


def _body_framing(headers):
    """("chunked", None), ("length", n) or (None, None) from Transfer-Encoding / Content-Length."""
    if "chunked" in _tokens(headers, "transfer-encoding"):
        return "chunked", None
    cl = _header(headers, "content-length")
    if cl is not None:
        if not cl.isdigit():
            raise _BadMessage(f"bad Content-Length {cl!r}")
        return "length", int(cl)
    return None, None


@dataclass
class Request:
    method: str
    target: str       # origin form: path and query, as the client sent it
    version: str
    headers: list     # [(name, value)] in order, names as sent
    framing: str      # None (no body), "length" or "chunked"
    length: int

    def header(self, name):
        return _header(self.headers, name)

    @property
    def expects_continue(self):
        return (self.header("expect") or "").lower() == "100-continue"

    @property
    def wants_close(self):
        tokens = _tokens(self.headers, "connection")
        return "close" in tokens or (self.version == "HTTP/1.0" and "keep-alive" not in tokens)


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list
    framing: str = None   # None (no body), "length", "chunked" or "close"
    length: int = None

    def header(self, name):
        return _header(self.headers, name)

    @property
    def wants_close(self):
        tokens = _tokens(self.headers, "connection")
        return ("close" in tokens or self.framing == "close"
                or (self.version == "HTTP/1.0" and "keep-alive" not in tokens))


@dataclass
class Exchange:
    """One request as the proxy saw it. `response_bytes` counts body bytes relayed from the upstream
    to the client (not headers, not chunk framing, not the bodies of injected error answers)."""
    connection: int
    method: str
    target: str
    status: int = None
    fault: str = None
    request_bytes: int = 0
    response_bytes: int = 0


@dataclass
class Fault:
    """What to do to one request. `kind` is one of FAULT_KINDS or "always_fail". `position` in
    [0, 1) picks the body offset for reset/truncate/stall (scaled by the Content-Length)."""
    kind: str
    status: int = None
    position: float = 0.0
    stall_seconds: float = 2.0


class _Connection:
    """A client connection and its own upstream connection."""

    def __init__(self, cid, sock):
        self.id, self.sock, self.reader = cid, sock, _Reader(sock)
        self.up_sock = self.up_reader = None
        self.responses = 0     # responses started on this client connection
        self.state = {}        # for subclasses (e.g. per-connection token buckets)


class _BodySink:
    """Writes a body to `dst`, pacing it, counting payload bytes into `exchange` and carrying out a
    reset/truncate/stall `fault` when the payload reaches the fault's offset."""

    def __init__(self, proxy, conn, dst, direction, exchange, fault=None, offset=None):
        self.proxy, self.conn, self.dst, self.direction = proxy, conn, dst, direction
        self.exchange, self.fault, self.offset, self.sent = exchange, fault, offset, 0

    def framing(self, data):
        self._sendall(data)

    def _sendall(self, data):
        if self.direction == "down":
            self.dst.sendall(data)
            return
        try:
            self.dst.sendall(data)
        except OSError as e:
            raise _SendFailed(str(e)) from e

    def payload(self, data):
        if self.fault is not None and self.sent + len(data) > self.offset:
            cut = self.offset - self.sent
            self._send(data[:cut])
            self.trigger()
            data = data[cut:]
        self._send(data)

    def _send(self, data):
        if not data:
            return
        self.proxy.pace(self.conn, self.direction, len(data))
        # Counted before sending: a client that has read the bytes may look at the counter at once.
        self.sent += len(data)
        if self.direction == "down":
            self.exchange.response_bytes += len(data)
        else:
            self.exchange.request_bytes += len(data)
        self._sendall(data)

    def trigger(self):
        """Carries out a pending fault (also at the end of a body shorter than the offset)."""
        fault, self.fault = self.fault, None
        if fault is None:
            return
        if fault.kind == "stall":
            self.proxy._pause(fault.stall_seconds)
        elif fault.kind in ("reset", "truncate"):
            raise _Abort(reset=fault.kind == "reset")


class _DiscardSink:
    """Drops a body (the request body of a request answered without the upstream)."""

    def framing(self, data):
        pass

    payload = framing

    def trigger(self):
        pass


class HttpProxy:
    """The proxy core: forwards every request to `upstream` ("host:port", plain HTTP). Subclasses
    override `decide` (faults), `before_response` (latency) and `pace` (bandwidth)."""

    chunk_size = 256 * 1024
    continue_timeout = 1.0     # wait this long for the upstream's 100 Continue, then send the body
    idle_timeout = 300.0       # client and upstream socket timeout
    unknown_length_window = 64 * 1024  # fault offsets for bodies without Content-Length
    linger_seconds = 2.0       # how long a closing connection drains what the client still sends

    def __init__(self, upstream, port=0, listen_host="127.0.0.1"):
        self.upstream = upstream
        up_host, _, up_port = upstream.rpartition(":")
        self._up_addr = (up_host.strip("[]"), int(up_port))
        self._listen = (listen_host, port)
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._sockets = set()
        self._threads = set()
        self._exchanges = []
        self._requests = 0
        self._connections = 0
        self._listener = None

    # --- lifecycle -------------------------------------------------------------------------------
    def start(self):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(self._listen)
        self._listener.listen(1024)
        self.port = self._listener.getsockname()[1]
        self.host = f"{self._listen[0]}:{self.port}"
        self.url = f"http://{self.host}"
        t = threading.Thread(target=self._accept_loop, name=f"proxy-accept-{self.port}", daemon=True)
        self._accept_thread = t
        t.start()
        return self

    def stop(self):
        """Stops accepting, drops every open connection and waits (briefly) for the threads."""
        if self._stopping.is_set() or self._listener is None:
            return
        self._stopping.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        self._accept_thread.join(5)
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for t in threads:
            t.join(5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # --- counters --------------------------------------------------------------------------------
    @property
    def requests(self):
        """How many requests the proxy has received (all of them, faulted or not)."""
        return self._requests

    @property
    def connections(self):
        """How many client connections the proxy has accepted."""
        return self._connections

    def exchanges(self, path_regex=None, method=None):
        """The Exchanges so far (live objects: counts grow while a body is in flight), optionally
        only those whose request target matches `path_regex` (re.search) and `method`."""
        with self._lock:
            out = list(self._exchanges)
        rx = re.compile(path_regex) if path_regex else None
        return [e for e in out if (rx is None or rx.search(e.target))
                and (method is None or e.method == method)]

    def bytes_for(self, path_regex, method=None):
        """Response body bytes relayed from the upstream to clients for matching requests."""
        return sum(e.response_bytes for e in self.exchanges(path_regex, method))

    def request_bytes_for(self, path_regex, method=None):
        """Request body bytes relayed from clients to the upstream for matching requests."""
        return sum(e.request_bytes for e in self.exchanges(path_regex, method))

    def requests_for(self, path_regex, method=None):
        return len(self.exchanges(path_regex, method))

    def reset_counters(self):
        with self._lock:
            self._exchanges = []
            self._requests = 0

    # --- hooks -----------------------------------------------------------------------------------
    def connection_opened(self, conn):
        """Called once per client connection, before its first request."""

    def decide(self, conn, request):
        """Returns a Fault for this request, or None to forward it untouched."""
        return None

    def before_response(self, conn, request, status):
        """Called just before the first byte of a (final) response goes to the client."""

    def pace(self, conn, direction, nbytes):
        """Called before `nbytes` of body go "down" (to the client) or "up" (to the upstream)."""

    def _pause(self, seconds):
        """Sleeps `seconds` (a modelled delay, not synchronisation); returns early on stop()."""
        if seconds > 0:
            self._stopping.wait(seconds)

    # --- connections -----------------------------------------------------------------------------
    def _accept_loop(self):
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                if self._stopping.is_set():
                    sock.close()
                    return
                self._connections += 1
                cid = self._connections
                self._sockets.add(sock)
                t = threading.Thread(target=self._serve, args=(cid, sock),
                                     name=f"proxy-{self.port}-conn-{cid}", daemon=True)
                self._threads.add(t)
            t.start()

    def _track(self, sock, add):
        with self._lock:
            (self._sockets.add if add else self._sockets.discard)(sock)

    def _serve(self, cid, sock):
        conn = _Connection(cid, sock)
        reset = False
        try:
            sock.settimeout(self.idle_timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.connection_opened(conn)
            while not self._stopping.is_set():
                request = self._read_request(conn)
                if request is None or not self._handle(conn, request):
                    break
        except _Abort as a:
            reset = a.reset
        except (_PeerClosed, _BadMessage, OSError):
            pass
        finally:
            self._close_upstream(conn)
            try:
                if reset:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                else:
                    self._lingering_close(sock)
            except OSError:
                pass
            sock.close()
            with self._lock:
                self._sockets.discard(sock)
                self._threads.discard(threading.current_thread())

    def _lingering_close(self, sock):
        """Half-closes, then drops what the client still sends (e.g. a body the upstream refused)
        for a moment, so that closing with unread data does not RST away the answer it is reading."""
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(self.linger_seconds)
        deadline = time.monotonic() + self.linger_seconds
        while time.monotonic() < deadline and sock.recv(65536):
            pass

    def _read_request(self, conn):
        """The next request head, or None when the client closed the connection between requests."""
        try:
            line = conn.reader.readline()
            while line in (b"\r\n", b"\n"):
                line = conn.reader.readline()
        except (_PeerClosed, ConnectionError):
            return None
        except socket.timeout:
            return None
        parts = line.decode("latin-1").rstrip("\r\n").split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadMessage(f"bad request line {line[:80]!r}")
        method, target, version = parts
        if target.startswith(("http://", "https://")):  # absolute form
            u = urllib.parse.urlsplit(target)
            target = (u.path or "/") + ("?" + u.query if u.query else "")
        headers = _read_headers(conn.reader)
        framing, length = _body_framing(headers)
        with self._lock:
            self._requests += 1
        return Request(method, target, version, headers, framing, length)

    def _ensure_upstream(self, conn):
        """Connects to the upstream if this client connection has no live upstream connection;
        returns True if the connection is new."""
        if conn.up_sock is not None:
            if not select.select([conn.up_sock], [], [], 0)[0]:
                return False
            self._close_upstream(conn)  # readable while idle: the upstream closed it
        s = socket.create_connection(self._up_addr, timeout=self.idle_timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.up_sock, conn.up_reader = s, _Reader(s)
        self._track(s, True)
        if self._stopping.is_set():
            self._close_upstream(conn)
            raise _PeerClosed("proxy stopping")
        return True

    def _close_upstream(self, conn):
        if conn.up_sock is not None:
            self._track(conn.up_sock, False)
            conn.up_sock.close()
            conn.up_sock = conn.up_reader = None

    # --- one request -----------------------------------------------------------------------------
    def _handle(self, conn, request):
        """Serves one request; returns whether the client connection stays open."""
        exchange = Exchange(conn.id, request.method, request.target)
        with self._lock:
            self._exchanges.append(exchange)
        fault = self.decide(conn, request)
        if fault is not None:
            exchange.fault = fault.kind
            if fault.kind in ("status", "throttle", "always_fail"):
                return self._answer_fault(conn, request, exchange, fault)
        return self._forward(conn, request, exchange, fault)

    def _answer_fault(self, conn, request, exchange, fault):
        status = 429 if fault.kind == "throttle" else fault.status
        code = {429: "TOOMANYREQUESTS", 503: "UNAVAILABLE"}.get(status, "UNKNOWN")
        body = json.dumps({"errors": [{"code": code, "message": f"fault injected by proxy: {fault.kind}",
                                       "detail": None}]}).encode()
        extra = [("Retry-After", "1")] if status == 429 else []
        return self._answer_locally(conn, request, exchange, status, body, extra)

    def _answer_locally(self, conn, request, exchange, status, body, extra_headers=(), close=False):
        """Answers without the upstream. Reads (and drops) the request body first, unless the client
        is waiting for 100 Continue: then the connection is closed after the answer."""
        if request.framing is not None and not close:
            if request.expects_continue:
                close = True
            else:
                self._copy_body(conn.reader, request.framing, request.length, _DiscardSink())
        close = close or request.wants_close
        self.before_response(conn, request, status)
        conn.responses += 1
        head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}",
                "Content-Type: application/json; charset=utf-8",
                f"Content-Length: {len(body)}"]
        head += [f"{n}: {v}" for n, v in extra_headers]
        if close:
            head.append("Connection: close")
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1")
        if request.method != "HEAD":
            data += body
        exchange.status = status
        conn.sock.sendall(data)
        return not close

    def _send_request_head(self, conn, request):
        skip = _HOP_BY_HOP | _tokens(request.headers, "connection") | {"host"}
        lines = [f"{request.method} {request.target} HTTP/1.1", f"Host: {self.upstream}"]
        lines += [f"{n}: {v}" for n, v in request.headers if n.lower() not in skip]
        conn.up_sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _read_response_head(self, conn, request):
        line = conn.up_reader.readline()
        parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise _BadMessage(f"bad status line from upstream {line[:80]!r}")
        headers = _read_headers(conn.up_reader)
        r = Response(parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers)
        if request.method == "HEAD" or r.status < 200 or r.status in (204, 304):
            r.framing = None
        else:
            r.framing, r.length = _body_framing(headers)
            r.framing = r.framing or "close"
        return r

    def _relay_interim(self, conn, response):
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        lines += [f"{n}: {v}" for n, v in response.headers if n.lower() not in _HOP_BY_HOP]
        conn.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

    def _final_response(self, conn, request):
        """Reads the upstream's response, relaying interim (1xx) responses to the client."""
        while True:
            r = self._read_response_head(conn, request)
            if r.status >= 200:
                return r
            self._relay_interim(conn, r)

    def _upstream_failed(self, conn, request, exchange, error):
        self._close_upstream(conn)
        body = json.dumps({"errors": [{"code": "UNAVAILABLE", "detail": None,
                                       "message": f"proxy: upstream {self.upstream}: {error}"}]}).encode()
        return self._answer_locally(conn, request, exchange, 502, body, close=True)

    def _forward(self, conn, request, exchange, fault):
        # Send the head; a reused upstream connection may have been closed while idle: retry once
        # on a fresh one when the request has no body (so nothing can have been half-sent).
        response = None
        for attempt in (0, 1):
            try:
                fresh = self._ensure_upstream(conn)
            except OSError as e:
                return self._upstream_failed(conn, request, exchange, e)
            try:
                self._send_request_head(conn, request)
                if request.framing is None:
                    response = self._final_response(conn, request)
                break
            except (_PeerClosed, ConnectionError) as e:
                self._close_upstream(conn)
                if fresh or attempt or request.framing is not None:
                    return self._upstream_failed(conn, request, exchange, e)
            except (_BadMessage, OSError) as e:
                return self._upstream_failed(conn, request, exchange, e)
        early = False
        if request.framing is not None:
            try:
                if request.expects_continue:
                    ready, _, _ = select.select([conn.up_sock], [], [], self.continue_timeout)
                    if ready:
                        response = self._read_response_head(conn, request)
                        if response.status < 200:
                            self._relay_interim(conn, response)
                            response = None
                        else:
                            early = True  # answered before the body: the client may not send it
            except (_PeerClosed, _BadMessage, OSError) as e:
                return self._upstream_failed(conn, request, exchange, e)
            if response is None:
                # Errors reading the client's body propagate (the client is gone); errors sending
                # to the upstream mean it stopped reading, but it may still have answered.
                sink = _BodySink(self, conn, conn.up_sock, "up", exchange)
                try:
                    self._copy_body(conn.reader, request.framing, request.length, sink)
                except _SendFailed:
                    early = True
                try:
                    response = self._final_response(conn, request)
                except (_PeerClosed, _BadMessage, OSError) as e:
                    return self._upstream_failed(conn, request, exchange, e)

        close_client = early or request.wants_close or response.framing == "close"
        close_upstream = early or response.wants_close
        offset = None
        if fault is not None:
            known = response.length if response.framing == "length" else self.unknown_length_window
            offset = int(fault.position * known) if response.framing else 0
        self.before_response(conn, request, response.status)
        conn.responses += 1
        exchange.status = response.status
        if fault is not None and response.framing is None:
            # No body to cut: reset or close before the head; a stall delays the head.
            _BodySink(self, conn, conn.sock, "down", exchange, fault, 0).trigger()
        conn.sock.sendall(self._response_head(response, close_client))
        if response.framing is not None:
            sink = _BodySink(self, conn, conn.sock, "down", exchange, fault, offset)
            try:
                self._copy_body(conn.up_reader, response.framing, response.length, sink)
            except (_PeerClosed, socket.timeout) as e:
                if response.framing != "close" or not isinstance(e, _PeerClosed):
                    raise _Abort(reset=False)  # upstream died mid-body: so does the client's copy
            sink.trigger()  # a fault offset beyond a short body happens at its end
        if close_upstream:
            self._close_upstream(conn)
        return not close_client

    def _response_head(self, response, close):
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in response.headers:
            low = name.lower()
            if low in _HOP_BY_HOP:
                continue
            if low == "location":
                value = self._rewrite_location(value)
            lines.append(f"{name}: {value}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _rewrite_location(self, value):
        """Absolute URLs pointing at the upstream point at the proxy instead; others stay."""
        u = urllib.parse.urlsplit(value)
        if u.scheme in ("http", "") and u.netloc and u.netloc.lower() == self.upstream.lower():
            return urllib.parse.urlunsplit(("http" if u.scheme else "", self.host, u.path, u.query,
                                            u.fragment))
        return value

    def _copy_body(self, src, framing, length, sink):
        """Copies one message body from reader `src` to `sink`, chunk framing verbatim."""
        chunk = self.chunk_size
        if framing == "length":
            left = length
            while left:
                data = src.read_some(min(chunk, left))
                left -= len(data)
                sink.payload(data)
        elif framing == "chunked":
            while True:
                line = src.readline()
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise _BadMessage(f"bad chunk size line {line[:40]!r}")
                if size == 0:
                    sink.trigger()
                    while line not in (b"\r\n", b"\n"):  # last chunk, then trailers
                        sink.framing(line)
                        line = src.readline()
                    sink.framing(line)
                    return
                sink.framing(line)
                left = size
                while left:
                    data = src.read_some(min(chunk, left))
                    left -= len(data)
                    sink.payload(data)
                sink.framing(src.read_exact(2))
        elif framing == "close":
            while True:
                try:
                    data = src.read_some(chunk)
                except _PeerClosed:
                    return
                sink.payload(data)


class FaultProxy(HttpProxy):
    """Injects faults into eligible requests (method in `methods` and target matching
    `path_regex`; None means any), each drawn from random.Random(seed):

      reset     RST the client connection at a random offset of the response body
      status    answer 500, 502 or 503 (small JSON body) without asking the upstream
      throttle  answer 429 with Retry-After: 1 without asking the upstream
      truncate  send the head (full Content-Length), part of the body, then close
      stall     pause `stall_seconds` at a random offset of the body, then carry on

    `faults` maps kinds to probabilities (summing to at most 1). At most `max_faults` random faults
    are injected in total (None: no bound). `always_fail=STATUS` answers every eligible request with
    STATUS (429 adds Retry-After: 1), ignoring `faults` and `max_faults`. A response without a body
    (HEAD, 204, 304) is reset, truncated (closed) or stalled before its head. Each eligible request
    draws the same amount of randomness, so a seed gives the same faults for the same sequence of
    requests. `configure(...)` changes any of these on the fly (e.g. heal an always-failing proxy).
    """

    def __init__(self, upstream, seed=0, faults=None, methods=None, path_regex=None, max_faults=None,
                 always_fail=None, stall_seconds=2.0, port=0):
        super().__init__(upstream, port=port)
        self._rng = random.Random(seed)
        self._counts = {k: 0 for k in FAULT_KINDS + ("always_fail",)}
        self._random_faults = 0
        self._config = {}
        self.configure(faults=faults or {}, methods=methods, path_regex=path_regex,
                       max_faults=max_faults, always_fail=always_fail, stall_seconds=stall_seconds)

    def configure(self, **changes):
        """Changes any of faults, methods, path_regex, max_faults, always_fail, stall_seconds."""
        allowed = {"faults", "methods", "path_regex", "max_faults", "always_fail", "stall_seconds"}
        unknown = set(changes) - allowed
        if unknown:
            raise TypeError(f"unknown settings: {sorted(unknown)}")
        config = dict(self._config, **changes)
        faults = dict(config["faults"])
        bad = set(faults) - set(FAULT_KINDS)
        if bad:
            raise ValueError(f"unknown fault kinds {sorted(bad)}; known: {FAULT_KINDS}")
        if any(p < 0 for p in faults.values()) or sum(faults.values()) > 1 + 1e-9:
            raise ValueError(f"fault probabilities must be >= 0 and sum to <= 1: {faults}")
        if config["always_fail"] is not None and not 400 <= config["always_fail"] <= 599:
            raise ValueError(f"always_fail must be an HTTP error status, not {config['always_fail']}")
        config["methods"] = None if config["methods"] is None else {m.upper() for m in config["methods"]}
        config["path_rx"] = re.compile(config["path_regex"]) if config["path_regex"] else None
        with self._lock:
            self._config = config

    @property
    def faults(self):
        """{kind: how many injected}, for every kind in FAULT_KINDS plus "always_fail"."""
        with self._lock:
            return dict(self._counts)

    @property
    def faults_injected(self):
        """Random faults injected so far (what `max_faults` bounds; always_fail not included)."""
        return self._random_faults

    def reset_counters(self):
        super().reset_counters()
        with self._lock:
            self._counts = {k: 0 for k in self._counts}

    def decide(self, conn, request):
        with self._lock:
            c = self._config
            if c["methods"] is not None and request.method not in c["methods"]:
                return None
            if c["path_rx"] is not None and not c["path_rx"].search(request.target):
                return None
            if c["always_fail"] is not None:
                self._counts["always_fail"] += 1
                return Fault("always_fail", status=c["always_fail"])
            draw, position = self._rng.random(), self._rng.random()
            status = self._rng.choice((500, 502, 503))
            if c["max_faults"] is not None and self._random_faults >= c["max_faults"]:
                return None
            edge = 0.0
            for kind in FAULT_KINDS:
                edge += c["faults"].get(kind, 0.0)
                if draw < edge:
                    self._counts[kind] += 1
                    self._random_faults += 1
                    return Fault(kind, status=status, position=position,
                                 stall_seconds=c["stall_seconds"])
            return None


class HoldingProxy(HttpProxy):
    """Forwards everything, but holds the answer to a GET of any blob in `held` (every blob if
    None) until the proxy stops; `reached` is set when the first such request arrives."""

    def __init__(self, upstream, held=None):
        super().__init__(upstream)
        self.held = held
        self.reached = threading.Event()

    def before_response(self, conn, request, status):
        digest = request.target.rsplit("/", 1)[-1]
        if request.method == "GET" and re.match(BLOBS, request.target) and (self.held is None or digest in self.held):
            self.reached.set()
            self._stopping.wait()
