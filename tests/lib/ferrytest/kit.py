"""The real Kubernetes node for the `kube-real:` tests: the ferrykube kit (../shared/kube, or
$FERRYKUBE_KIT) started once per ctest run by a fixture (`python3 -m ferrytest.kit up STATE`) and
stopped by another (`... down STATE`). STATE is a small JSON file in the build directory: the
node's directory and env, or why the tier is skipped (no kit, not root), so every test of the
tier skips with that one line.

A test module uses `node()`: the node's settings, or a skip (exit status 77, which ctest shows as
skipped) when the tier cannot run here."""

import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77  # ctest's SKIP_RETURN_CODE for this tier
HERE = os.path.dirname(os.path.abspath(__file__))


def kit_dir():
    return os.environ.get("FERRYKUBE_KIT") or os.path.normpath(os.path.join(HERE, "../../../../shared/kube"))


def _skip_reason():
    kit = kit_dir()
    if not os.access(os.path.join(kit, "kube-up"), os.X_OK):
        return f"no ferrykube kit at {kit} (set FERRYKUBE_KIT to its directory to run the real-node tests)"
    if os.geteuid() != 0:
        return "the real-node tests need root (kube-up starts containerd, a kubelet and a CNI bridge)"
    return None


def _read_env(path):
    env = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.strip().partition("=")
            if key:
                env[key] = value
    return env


def up(state_path, extra_registries=()):
    reason = _skip_reason()
    if reason:
        print(f"real-node tier skipped: {reason}")
        _write(state_path, {"skip": reason})
        return 0
    down(state_path)
    directory = tempfile.mkdtemp(prefix="ferryrk-", dir="/tmp")
    os.rmdir(directory)  # kube-up wants it absent or empty, and makes it itself
    env = dict(os.environ)
    if extra_registries:
        env["FERRYKUBE_EXTRA_REGISTRIES"] = " ".join(extra_registries)
    _write(state_path, {"dir": directory})
    proc = subprocess.run([os.path.join(kit_dir(), "kube-up"), directory, "--timeout", "240"], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], sep="\n")
        return 1
    _write(state_path, {"dir": directory, "env": _read_env(os.path.join(directory, "env"))})
    ready = [l for l in (proc.stdout + proc.stderr).splitlines() if "Ready; start-up took" in l]
    print(ready[-1] if ready else f"node up in {directory}")
    return 0


def down(state_path):
    state = _read(state_path)
    directory = state.get("dir")
    if directory and os.path.exists(os.path.join(directory, ".ferrykube")):
        subprocess.run([os.path.join(kit_dir(), "kube-down"), directory, "--purge"], capture_output=True)
    elif directory and os.path.isdir(directory):
        shutil.rmtree(directory, ignore_errors=True)
    if os.path.exists(state_path) and not state.get("skip"):
        os.remove(state_path)
    return 0


def node():
    """The running node's env (KUBECONFIG, FERRYKUBE_REGISTRY, ...), or exits with SKIP."""
    state_path = os.environ.get("FERRY_REAL_NODE_STATE", "")
    state = _read(state_path)
    if state.get("skip"):
        print(f"skipped: {state['skip']}")
        sys.exit(SKIP)
    if not state.get("env"):
        raise RuntimeError(f"no real node: {state_path} names none (did the `kube-real: node up` fixture run?)")
    return state["env"]


def _read(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _write(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)


if __name__ == "__main__":
    verb, state_file = sys.argv[1], sys.argv[2]
    sys.exit(up(state_file) if verb == "up" else down(state_file))
