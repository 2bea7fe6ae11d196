"""`Containerd`: a private containerd (its own root, state and socket under a temp dir) so tests can
check that a real client pulls and unpacks what ferry pushed, with `ctr images pull`."""

import os
import subprocess

from .util import Service, TempDir, start_process, stop_process, wait_until

# Plugins that need kernel features, external binaries or a CRI setup we do not have or want.
_DISABLED = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
             "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
             "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing",
             "io.containerd.tracing.processor.v1.otlp"]


class Containerd(Service):
    def __init__(self, snapshotter=None):
        self._snapshotter = snapshotter
        self._tmp = None
        self._proc = None

    def start(self):
        # Unix socket paths must stay short (< 108 bytes): TempDir lives in /tmp.
        self._tmp = TempDir("ferrytest-ctd-")
        self.address = self._tmp.sub("c.sock")
        self.log_path = self._tmp.sub("containerd.log")
        config = self._tmp.sub("config.toml")
        with open(config, "w") as f:
            f.write("version = 2\n"
                    f"root = \"{self._tmp.sub('root')}\"\n"
                    f"state = \"{self._tmp.sub('state')}\"\n"
                    f"disabled_plugins = {_DISABLED!r}\n".replace("'", '"') +
                    f"[grpc]\n  address = \"{self.address}\"\n"
                    f"[ttrpc]\n  address = \"{self.address}.ttrpc\"\n"
                    f"[debug]\n  address = \"{self._tmp.sub('debug.sock')}\"\n"
                    "[metrics]\n  address = \"\"\n")
        self._proc = start_process(["containerd", "--config", config], self.log_path)
        wait_until(lambda: self.ctr("version").returncode == 0, "containerd to answer `ctr version`",
                   alive=self._check_alive)
        if self._snapshotter is None:
            self._snapshotter = "overlayfs" if self._overlay_works() else "native"
        self.snapshotter = self._snapshotter

    def stop(self):
        stop_process(self._proc)
        self._proc = None
        if self._tmp:
            subprocess.run(["umount", "-R", self._tmp.sub("root")], capture_output=True)
            self._tmp.cleanup()

    def _check_alive(self):
        if self._proc.poll() is not None:
            with open(self.log_path, errors="replace") as f:
                raise RuntimeError(f"containerd exited with {self._proc.returncode}:\n{f.read()}")

    def _overlay_works(self):
        out = self.ctr("plugins", "ls").stdout
        return any(line.split()[1:2] == ["overlayfs"] and line.split()[-1] == "ok"
                   for line in out.splitlines() if line.strip())

    def ctr(self, *args, timeout=120):
        return subprocess.run(["ctr", "--address", self.address, *args], capture_output=True,
                              text=True, timeout=timeout)

    def pull(self, ref, plain_http=False, ca_cert=None, skip_verify=False, user=None, hosts_dir=None,
             platform=None):
        """`ctr images pull` (fetch + unpack) of `ref`; returns (exit code, stdout+stderr).
        `user` is "name:password". For a loopback host, ctr 1.6 speaks plain HTTP unless a hosts
        dir says otherwise, and ignores --tlscacert; so `ca_cert` writes a hosts.toml for it."""
        args = ["images", "pull", "--snapshotter", self.snapshotter]
        if plain_http:
            args.append("--plain-http")
        if ca_cert and not hosts_dir:
            host = ref.split("/", 1)[0]
            hosts_dir = self._tmp.sub("hosts.d")
            os.makedirs(os.path.join(hosts_dir, host), exist_ok=True)
            with open(os.path.join(hosts_dir, host, "hosts.toml"), "w") as f:
                f.write(f'server = "https://{host}"\n[host."https://{host}"]\n  ca = "{ca_cert}"\n')
        if skip_verify:
            args.append("--skip-verify")
        if user:
            args += ["--user", user]
        if hosts_dir:
            args += ["--hosts-dir", hosts_dir]
        if platform:
            args += ["--platform", platform]
        r = self.ctr(*args, ref)
        return r.returncode, r.stdout + r.stderr

    def image_names(self):
        return self.ctr("images", "ls", "-q").stdout.split()
