#!/usr/bin/env bash
# make demo: the furthest ferry can go today, on local stand-ins, narrated for a newcomer.
# Two CNCF registries on free loopback ports play gcr.io and the mirror (say, Alibaba ACR).
set -euo pipefail
FERRY=$(realpath "${1:-build/cli/ferry}")
HERE=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH="$HERE/../tests/lib${PYTHONPATH:+:$PYTHONPATH}"
WORK=$(mktemp -d /tmp/ferry-demo-XXXXXX)
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}"  # the release files are fetched once, into the user's own cache
export XDG_CACHE_HOME="$WORK/cache" DOCKER_CONFIG="$WORK/docker"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_registry() {  # name port
  cat > "$WORK/$1.yml" <<YAML
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $WORK/$1}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$2}
YAML
  docker-registry serve "$WORK/$1.yml" > "$WORK/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$2/v2/" >/dev/null && return; sleep 0.1; done
  echo "registry $1 did not start; see $WORK/$1.log" >&2; exit 1
}

GCR_PORT=$(free_port); MIRROR_PORT=$(free_port)
say "Starting two local registries: a stand-in for gcr.io (127.0.0.1:$GCR_PORT) and the mirror (127.0.0.1:$MIRROR_PORT)"
start_registry gcr "$GCR_PORT"
start_registry mirror "$MIRROR_PORT"

SRC="127.0.0.1:$GCR_PORT/knative-releases/knative.dev/serving/cmd/queue:v1.23.0"
say "Publishing a small multi-arch image (linux/amd64 + linux/arm64) as Knative's queue-proxy on the gcr.io stand-in"
python3 - "$GCR_PORT" <<'PY'
import sys
from ferrytest import client, images
registry = client.RegistryClient(f"127.0.0.1:{sys.argv[1]}")
index = images.make_index("demo-queue")
print("published", images.push(registry, "knative-releases/knative.dev/serving/cmd/queue", "v1.23.0", index))
PY

DST="127.0.0.1:$MIRROR_PORT/knative-mirror/queue:v1.23.0"
say "Copying it to the mirror with ferry: every platform, manifests byte for byte, digest checked at the end"
run "$FERRY" copy "$SRC" "$DST" --digestfile "$WORK/digest"

say "The digest at the mirror, read back independently with skopeo, equals the source's"
src_digest=$(skopeo inspect --tls-verify=false --raw "docker://$SRC" | sha256sum | cut -d' ' -f1)
dst_digest=$(skopeo inspect --tls-verify=false --raw "docker://$DST" | sha256sum | cut -d' ' -f1)
echo "source:      sha256:$src_digest"
echo "mirror:      sha256:$dst_digest"
echo "digestfile:  $(cat "$WORK/digest")"
[ "$src_digest" = "$dst_digest" ] || { echo "digests differ" >&2; exit 1; }

say "Copying again: every blob is already there, so nothing is transferred"
run "$FERRY" copy --output json "$SRC" "$DST"

say "Copying to a second repository of the mirror: blobs are mounted across repositories, not uploaded"
run "$FERRY" copy --output json "$SRC" "127.0.0.1:$MIRROR_PORT/knative-mirror/queue-proxy:v1.23.0"

say "A source that does not exist fails clearly, and nothing is written at the mirror"
run "$FERRY" copy "127.0.0.1:$GCR_PORT/knative-releases/missing:v1" "127.0.0.1:$MIRROR_PORT/knative-mirror/missing:v1" 2>&1 || echo "(exit code $?)"

# Knative 1.23's real release files: $FERRY_CORPUS, the shared corpus beside the checkout, or
# fetched once into ferry's cache; without them the steps that need them are skipped.
CORPUS="${FERRY_CORPUS:-$HERE/../../shared/corpus/manifests}"
if [ ! -d "$CORPUS" ]; then
  CORPUS="$USER_CACHE/ferry/manifests/knative-1.23-kourier"
  say "Fetching Knative 1.23's release files once into ferry's cache (each checked against its sha256)"
  if ! run "$FERRY" manifests fetch --profile knative-1.23-kourier -o "$CORPUS" | tail -n 1; then
    echo "(no release files, so the steps that read them are skipped: set FERRY_CORPUS to a directory holding them, or run where GitHub can be reached)"
    CORPUS=""
  fi
fi
if [ -d "$CORPUS" ]; then
  say "Which images does Knative Serving 1.23 on Kourier need? ferry reads the real release files"
  echo "(including the queue-proxy image that hides in the config-deployment ConfigMap)"
  run "$FERRY" images --profile knative-1.23-kourier --manifests-dir "$CORPUS" --output list
fi

say "Publishing a Knative-like release on the stand-in: 10 images under gcr.io, docker.io and quay.io names"
python3 - "$GCR_PORT" "$WORK/release.yaml" <<'PY'
import sys
from ferrytest import client, release
images = release.knative_like_release(client.RegistryClient(f"127.0.0.1:{sys.argv[1]}"))
# A release file shaped like Knative's: Deployments pinned by digest, the queue-proxy image in
# config-deployment and in a caching Image, Istio images by tag.
docs = []
for image in images:
    name = image.source.split(":")[0]
    ref = f"{name}@{image.artifact.digest}" if name.startswith("gcr.io") else image.source
    short = name.rsplit("/", 1)[-1]
    if short == "queue":
        docs.append(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-deployment\n"
                    f"  namespace: knative-serving\ndata:\n  # the image Knative injects into every app pod\n"
                    f"  queue-sidecar-image: {ref}\n")
        docs.append(f"apiVersion: caching.internal.knative.dev/v1alpha1\nkind: Image\nmetadata:\n"
                    f"  name: queue-proxy\n  namespace: knative-serving\nspec:\n  image: {ref}\n")
        continue
    docs.append(f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {short}\n  namespace: knative-serving\n"
                f"spec:\n  template:\n    spec:\n      containers:\n      - name: {short}\n        image: \"{ref}\"\n")
with open(sys.argv[2], "w") as f:
    f.write("# A stand-in release file\n" + "---\n".join(docs))
PY
run "$FERRY" images -f "$WORK/release.yaml"

SOURCES=(--source-mirror "gcr.io=127.0.0.1:$GCR_PORT/gcr" --source-mirror "docker.io=127.0.0.1:$GCR_PORT/docker"
         --source-mirror "quay.io=127.0.0.1:$GCR_PORT/quay")
say "Mirroring every image the file names in one run, flattened to one level for an ACR Personal-style registry"
echo "(--source-mirror makes gcr.io, docker.io and quay.io resolve to the local stand-in)"
run "$FERRY" mirror -f "$WORK/release.yaml" --to "127.0.0.1:$MIRROR_PORT/knative-mirror" --naming flatten \
    "${SOURCES[@]}" --lock "$WORK/images.lock"

say "The lock file records where each image went, pinned to its digest (first entry)"
head -n 10 "$WORK/images.lock"

say "Running it again: everything is already there, nothing is transferred"
run "$FERRY" mirror -f "$WORK/release.yaml" --to "127.0.0.1:$MIRROR_PORT/knative-mirror" --naming flatten \
    "${SOURCES[@]}" --lock "$WORK/images.lock" | tail -n 2

say "Rewriting the release file to the mirror: only the references change"
run "$FERRY" rewrite -f "$WORK/release.yaml" --lock "$WORK/images.lock" --pin-digests -o "$WORK/rewritten"
diff "$WORK/release.yaml" "$WORK/rewritten/release.yaml" | head -n 12 || true

say "A CI gate: nothing in the rewritten file still points outside the mirror (the original fails it)"
run "$FERRY" rewrite -f "$WORK/rewritten" --check --allow "127.0.0.1:$MIRROR_PORT/knative-mirror/"
run "$FERRY" rewrite -f "$WORK/release.yaml" --check --allow "127.0.0.1:$MIRROR_PORT/knative-mirror/" 2>&1 | tail -n 3 || true

say "For an air gap: pack the release (images and file) into one archive, split for small media"
run "$FERRY" bundle save -f "$WORK/release.yaml" "${SOURCES[@]}" -o "$WORK/knative.tar.zst" --split-size 50K
ls -l "$WORK"/knative.tar.zst.* | awk '{print $5, $9}'
run "$FERRY" bundle verify "$WORK/knative.tar.zst.000"

say "On the inside: load the archive into another registry, no extraction, every digest checked"
INSIDE_PORT=$(free_port)
start_registry inside "$INSIDE_PORT"
run "$FERRY" bundle load "$WORK/knative.tar.zst.000" --to "127.0.0.1:$INSIDE_PORT/knative" --naming flatten \
    --lock "$WORK/inside.lock" | tail -n 3

if [ -d "$CORPUS" ]; then
  KUBE="$WORK/kube"
  say "Starting a stand-in Kubernetes API server (the emulator from tests/; kubectl works against it)"
  echo "(CRDs take 1 s to be established, the webhook 3 s to come up: the delays that make naive installs fail)"
  echo "(its data plane runs the sample apps as the pods of Knative revisions, behind a gateway, with the KPA's rule)"
  APPS=$(dirname "$FERRY")/../samples/apps
  python3 -m ferrytest.kube serve --dir "$KUBE" --controllers --image-registry "127.0.0.1:$MIRROR_PORT" \
      --crd-established-delay 1 --workload-ready-delay 1 --workload-delay webhook=3 \
      --dataplane-app "helloworld=$APPS/helloworld" --dataplane-app "autoscale=$APPS/autoscale" \
      --kpa-stable-window 2 --scale-to-zero-grace 2 > "$WORK/kube.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do [ -f "$KUBE/state.json" ] && break; sleep 0.1; done
  [ -f "$KUBE/state.json" ] || { echo "the emulator did not start; see $WORK/kube.log" >&2; exit 1; }
  K=(--kubeconfig "$KUBE/kubeconfig" --context admin)
  run "$FERRY" cluster info "${K[@]}"

  say "Standing in for Knative 1.23's real images at the mirror (small images, one per reference), with their lock"
  python3 - "$FERRY" "$MIRROR_PORT" "$CORPUS" "$WORK/kourier.lock" <<'PY'
import sys
from ferrytest import client, kube_release
refs = kube_release.release_images(sys.argv[1], "knative-1.23-kourier", sys.argv[3])
kube_release.mirror_release(client.RegistryClient(f"127.0.0.1:{sys.argv[2]}"), refs, sys.argv[4])
print(len(refs), "images at the mirror")
PY
  INSTALL=(--profile knative-1.23-kourier --manifests-dir "$CORPUS" --lock "$WORK/kourier.lock" --registry-plain-http)
  say "The install plan: waves by dependency, and what is waited for after each (no cluster needed)"
  run "$FERRY" install "${INSTALL[@]}" --plan | grep -v '^    '

  say "Installing Knative Serving 1.23 on Kourier from the mirror: preflight, waves, readiness"
  run "$FERRY" install "${INSTALL[@]}" "${K[@]}" --domain demo.example.com

  say "kubectl sees what ferry reported"
  run kubectl "${K[@]}" get deployments -n knative-serving

  say "Installing again changes nothing"
  run "$FERRY" install "${INSTALL[@]}" "${K[@]}" --domain demo.example.com | tail -n 2

  say "The sample apps, packed into images ferry carries itself, pushed to the mirror for the self-test"
  run "$FERRY" samples push --to "127.0.0.1:$MIRROR_PORT/samples"

  say "The self-test: both samples deployed from the mirror, helloworld through the gateway, scale to zero, cold start, autoscaling"
  echo "(short windows for the demo; on a real cluster the defaults are c=50 for 30 s)"
  run "$FERRY" selftest "${K[@]}" --hello-image "127.0.0.1:$MIRROR_PORT/samples/helloworld:latest" \
      --autoscale-image "127.0.0.1:$MIRROR_PORT/samples/autoscale:latest" --concurrency 30 --duration 10s \
      --report "$WORK/selftest"
  ls "$WORK/selftest"

  say "Uninstalling: reverse order, namespaces waited out (CRDs kept unless --delete-crds)"
  run "$FERRY" uninstall "${K[@]}" | tail -n 3
fi

say "Done: mirrored, bundled, rewritten, installed, self-tested and uninstalled, all on local stand-ins."
