#!/usr/bin/env bash
# make demo REAL_NODE=1: the install on a real Kubernetes v1.24 node instead of the emulator.
# The ferrykube kit (../shared/kube or $FERRYKUBE_KIT) starts a private node on loopback ports;
# Knative's images are replaced by a small stand-in program (tests/standin) that listens on the
# ports the release names, answers probes and admission reviews, and writes its CA into the
# webhook configurations, so the release really comes up. Needs root.
set -euo pipefail
BUILD=$(realpath "${1:-build}")
FERRY=$BUILD/cli/ferry
HERE=$(cd "$(dirname "$0")" && pwd)
KIT=${FERRYKUBE_KIT:-$HERE/../../shared/kube}
CORPUS=${FERRY_CORPUS:-$HERE/../../shared/corpus/manifests}
export PYTHONPATH="$HERE/../tests/lib${PYTHONPATH:+:$PYTHONPATH}"
export FERRY_BIN=$FERRY FERRY_STANDIN=$BUILD/tests/standin FERRY_RELEASE_OBJECTS=$BUILD/tests/release_objects FERRY_CORPUS=$CORPUS
WORK=$(mktemp -d /tmp/ferry-demo-node-XXXXXX)
NODE_DIR=$WORK/node
export XDG_CACHE_HOME="$WORK/cache" DOCKER_CONFIG="$WORK/docker"
cleanup() { "$KIT/kube-down" "$NODE_DIR" --purge >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

[ "$(id -u)" = 0 ] || { echo "the real-node demo needs root (kube-up starts a kubelet and containerd)" >&2; exit 1; }
[ -x "$KIT/kube-up" ] || { echo "no ferrykube kit at $KIT (set FERRYKUBE_KIT)" >&2; exit 1; }

say "Starting a real single-node Kubernetes v1.24 (etcd, API server, controllers, scheduler, kubelet, containerd)"
"$KIT/kube-up" "$NODE_DIR" | tail -n 3
set -a; . "$NODE_DIR/env"; set +a
run kubectl get nodes

say "Standing in for Knative's images: one small program per image, configured from the release's own ports and probes"
python3 - "$WORK" <<'PY'
import sys
from ferrytest.ferry import Ferry
from ferrytest.real_node import Node, Release
release = Release(Node.from_env(), Ferry(), sys.argv[1])
pushed = release.push_standins()
for source, (target, _) in sorted(pushed.items()):
    print(f"{source.split('/')[-1][:60]:60} -> {target.split('/', 1)[1][:70]}")
PY

say "What ferry sees of this cluster"
run "$FERRY" cluster info

say "Installing Knative Serving 1.23 on Kourier from the node's registry (no load balancer on a bare node)"
run "$FERRY" install --profile knative-1.23-kourier --manifests-dir "$CORPUS" --lock "$WORK/images.lock" \
  --no-wait-load-balancer --timeout 5m

say "kubectl agrees: every Deployment available"
run kubectl get deployments -n knative-serving
run kubectl get deployments -n kourier-system

say "Installing again: nothing changes"
run "$FERRY" install --profile knative-1.23-kourier --manifests-dir "$CORPUS" --lock "$WORK/images.lock" \
  --no-wait-load-balancer --timeout 5m

say "The self-test says at once that Knative Serving is not really running (the controllers are stand-ins)"
"$FERRY" selftest || true

say "Uninstalling, CRDs included: no namespace of the release is left"
run "$FERRY" uninstall --delete-crds
run kubectl get namespaces
