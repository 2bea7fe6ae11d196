"""The data plane's pods: each running pod of a Knative revision is one sample-app process on a free
loopback port, started with PORT and the container's env, watched until it answers HTTP, and
stopped with SIGTERM (SIGKILL if it lingers) and reaped when its pod goes away."""

import http.client
import logging
import os
import subprocess
import threading
import time

from ..util import free_port

log = logging.getLogger("ferrytest.kube")

READY_TIMEOUT = 10.0  # seconds an app gets to answer its first request
STOP_TIMEOUT = 5.0


class AppProcess:
    def __init__(self, pod_key, uid, executable, env):
        self.pod_key, self.uid = pod_key, uid
        self.port = free_port()
        self.proc = subprocess.Popen([executable], env=dict(env, PORT=str(self.port)),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)

    def wait_answering(self, stopped):
        """True once the app answers an HTTP request; False if it exits, times out or we stop."""
        deadline = time.monotonic() + READY_TIMEOUT
        while not stopped.is_set() and time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log.warning("dataplane: app for pod %s exited with %s", self.pod_key[-1], self.proc.returncode)
                return False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                try:
                    conn.request("GET", "/")
                    conn.getresponse().read()
                    return True
                finally:
                    conn.close()
            except (OSError, http.client.HTTPException):
                stopped.wait(0.02)  # readiness probe period
        return False

    def stop(self):
        """SIGTERM, then SIGKILL after STOP_TIMEOUT; waits for the exit (reaps)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.proc.wait()


def container_env(container):
    """The container's literal env values (valueFrom is not simulated) over a minimal base."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for item in container.get("env") or []:
        if "name" in item and "value" in item:
            env[item["name"]] = str(item["value"])
    return env


def stop_in_background(app):
    threading.Thread(target=app.stop, name=f"stop-{app.pod_key[-1]}", daemon=True).start()
