"""`Ferry`: runs the ferry binary (path from $FERRY_BIN) with XDG_CACHE_HOME, DOCKER_CONFIG and HOME
pointing into a temp dir, so the user's own cache and credentials are never read nor written."""

import base64
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass

from .util import TempDir


def ferry_bin():
    path = os.environ.get("FERRY_BIN")
    if not path:
        raise RuntimeError("FERRY_BIN is not set: point it at the ferry binary (ctest sets it)")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"FERRY_BIN={path} is not an executable file (build ferry first)")
    return path


@dataclass
class Result:
    code: int
    out: str
    err: str
    max_rss_kb: int = None  # only from Ferry.run(measure=True)

    def json(self):
        return json.loads(self.out)

    def __str__(self):
        return f"exit {self.code}\n--- stdout\n{self.out}\n--- stderr\n{self.err}"


class Ferry:
    """One ferry "user": a cache and a docker config that persist across its runs."""

    def __init__(self):
        self.bin = ferry_bin()
        self._tmp = TempDir("ferrytest-ferry-")
        self.cache_home = self._tmp.sub("cache", mkdir=True)
        self.docker_config = self._tmp.sub("docker", mkdir=True)
        self.home = self._tmp.sub("home", mkdir=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    def cleanup(self):
        self._tmp.cleanup()

    def path(self, name):
        """A path for scratch files (e.g. --digestfile) in this runner's temp dir."""
        return self._tmp.sub(name)

    def write_docker_config(self, auths):
        """Writes $DOCKER_CONFIG/config.json with {host: (user, password)} as base64 `auth` entries."""
        doc = {"auths": {host: {"auth": base64.b64encode(f"{u}:{p}".encode()).decode()}
                         for host, (u, p) in auths.items()}}
        with open(os.path.join(self.docker_config, "config.json"), "w") as f:
            json.dump(doc, f)

    def env(self, extra=None):
        env = {k: v for k, v in os.environ.items()
               if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
        env.update(XDG_CACHE_HOME=self.cache_home, DOCKER_CONFIG=self.docker_config, HOME=self.home)
        env.update(extra or {})
        return env

    def run(self, *args, env=None, timeout=300, measure=False, input=None):
        """Runs `ferry ARGS`; returns Result(code, out, err). With measure=True the peak RSS of the
        ferry process is read from GNU time (`/usr/bin/time -v`). `input` (text) is its standard
        input; without it, standard input is inherited."""
        argv = [self.bin, *args]
        time_log = None
        if measure:
            time_bin = shutil.which("time", path="/usr/bin:/bin")
            if time_bin is None:
                raise RuntimeError("measure=True needs GNU time at /usr/bin/time")
            time_log = self._tmp.sub("time.log")
            argv = [time_bin, "-v", "-o", time_log, *argv]
        p = subprocess.run(argv, capture_output=True, text=True, env=self.env(env), timeout=timeout, input=input)
        result = Result(p.returncode, p.stdout, p.stderr)
        if measure:
            with open(time_log) as f:
                m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", f.read())
            result.max_rss_kb = int(m.group(1)) if m else None
        return result
