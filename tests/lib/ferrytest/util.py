"""Small helpers shared by the test harness: free ports, temporary directories, polling, processes."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import tempfile
import time
import unittest
from http.server import ThreadingHTTPServer


def free_port():
    """Returns a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TempDir:
    """A temporary directory removed on exit (also on failure). Use `.path` or `/`-join via `.sub()`."""

    def __init__(self, prefix="ferrytest-"):
        self.path = tempfile.mkdtemp(prefix=prefix)

    def sub(self, *parts, mkdir=False):
        p = os.path.join(self.path, *parts)
        if mkdir:
            os.makedirs(p, exist_ok=True)
        return p

    def cleanup(self):
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()


class Service:
    """Base for servers used as context managers: start() on entry (stopping whatever half-started
    if it fails), stop() on exit. Subclasses define start() and stop()."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()


def wait_until(condition, what, timeout=20.0, interval=0.05, alive=None):
    """Polls `condition()` until it returns a truthy value, which is returned.

    Raises TimeoutError naming `what` after `timeout` seconds. `alive`, if given, is called on
    each round and may raise to abort early (e.g. when a server process has exited)."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        if alive is not None:
            alive()
        try:
            result = condition()
            if result:
                return result
        except Exception as e:  # the condition may fail until the thing is ready
            last_error = e
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout}s waiting for {what} (last error: {last_error})")
        time.sleep(interval)  # polling interval, not synchronisation


def start_process(argv, log_path, env=None):
    """Starts a server process in its own process group with stdout/stderr going to `log_path`."""
    log = open(log_path, "ab")
    try:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env=env, start_new_session=True)
    finally:
        log.close()


def stop_process(proc, timeout=10.0):
    """Stops a process started by start_process: SIGTERM to its group, then SIGKILL."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def run(argv, check=True, timeout=120, **kw):
    """Runs a command, capturing text output; raises with the output if `check` and it fails."""
    kw.setdefault("text", True)
    r = subprocess.run(argv, capture_output=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(argv)}\n{r.stdout}\n{r.stderr}")
    return r


class QuietHTTPServer(ThreadingHTTPServer):
    """A threaded http.server that stays silent when a client drops a connection (as ferry does
    when it refuses an oversized manifest), instead of printing a traceback into the test output."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class HttpService(Service):
    """A QuietHTTPServer on a free loopback port, served from a thread. Subclasses define
    `_handler()` (returning a request handler class); `.port`, `.host` and `.url` are set on start."""

    _httpd = None

    def start(self):
        self._httpd = QuietHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._httpd.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"http://{self.host}"
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self):
        if self._httpd:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None


# Where the release files used as test data come from, in this order (tests/corpus.h looks the same way):
# $FERRY_CORPUS, the shared corpus beside the checkout, the copy tests/fetch_corpus.py made with
# `ferry manifests fetch` ($FERRY_CORPUS_FETCHED, complete once its SHA256SUMS exists).
SHARED_CORPUS = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "../../../../shared/corpus/manifests"))
CORPUS_HOW_TO = ("set FERRY_CORPUS=DIR, put them in ../shared/corpus/manifests, or run `make test` where "
                 "GitHub can be reached (it fetches them once)")
CORPUS_UNAVAILABLE = "UNAVAILABLE"  # in $FERRY_CORPUS_FETCHED: why the fetch failed, one line


def find_corpus():
    """(directory, where it came from), or (None, why there is none). A FERRY_CORPUS that is not a
    directory is an error: the user named it."""
    env = os.environ.get("FERRY_CORPUS")
    if env:
        if not os.path.isdir(env):
            raise RuntimeError(f"FERRY_CORPUS={env} is not a directory")
        return env, "FERRY_CORPUS"
    if os.path.isdir(SHARED_CORPUS):
        return SHARED_CORPUS, "the shared corpus"
    fetched = os.environ.get("FERRY_CORPUS_FETCHED")
    if fetched and os.path.isfile(os.path.join(fetched, "SHA256SUMS")):
        return fetched, "fetched with ferry manifests fetch"
    try:
        with open(os.path.join(fetched or "", CORPUS_UNAVAILABLE)) as f:
            why = "none here, and fetching failed: " + f.read().strip()
    except OSError:
        why = "none here, and none fetched"
    return None, why


_corpus_skip_said = False


def corpus_dir():
    """The release files used as test data. Without any, the calling test is skipped (one line on
    stderr says why and how to provide them): it must never pass by finding nothing."""
    global _corpus_skip_said
    path, why = find_corpus()
    if path:
        return path
    line = f"skipped: needs Knative's release files ({why}); {CORPUS_HOW_TO}"
    if not _corpus_skip_said:
        print(line, file=sys.stderr)
        _corpus_skip_said = True
    raise unittest.SkipTest(line)
