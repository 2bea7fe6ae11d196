"""Would a kubelet be able to pull this image? The emulator's answer: only images present in the one
real registry it was told about (a manifest HEAD over HTTPS, then HTTP), and nothing from any other
host (the cluster is air-gapped). Failures carry the kubelet's (containerd's) wording. Results are
cached per reference; a missing image is asked about again once its answer is older than the
caller's `max_age` (the kubelet's back-off), so a test can push it and watch the pod start."""

import http.client
import ssl
import threading
import time

_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


def normalize(ref):
    """(fully qualified reference, host, repository, tag or digest), the way containerd names it:
    'nginx' -> ('docker.io/library/nginx:latest', 'docker.io', 'library/nginx', 'latest')."""
    first, slash, rest = ref.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = "docker.io", ref
        if "/" not in path:
            path = "library/" + path
    if "@" in path:
        repo, _, reference = path.partition("@")
        repo = repo.rsplit(":", 1)[0] if ":" in repo.rsplit("/", 1)[-1] else repo
        return f"{host}/{repo}@{reference}", host, repo, reference
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        repo, _, tag = path.rpartition(":")
    else:
        repo, tag = path, "latest"
    return f"{host}/{repo}:{tag}", host, repo, tag


class PullResult:
    def __init__(self, ok, code="", reason=""):
        self.ok = ok
        self.code = code  # gRPC code in the kubelet's message: NotFound, Unknown
        self.reason = reason  # containerd's text after "failed to resolve reference ..."

    def message(self, ref):
        """The kubelet's ErrImagePull message for `ref` as written in the pod spec."""
        full = normalize(ref)[0]
        return (f'Failed to pull image "{ref}": rpc error: code = {self.code} desc = failed to pull and '
                f'unpack image "{full}": failed to resolve reference "{full}": {self.reason}')


class ImageChecker:
    def __init__(self, timeout=5.0):
        self.timeout = timeout
        self._lock = threading.Lock()
        self._cache = {}  # (registry, ref) -> (PullResult, checked at)
        self._schemes = {}  # registry -> "https" | "http", once one answered

    def check(self, ref, registry, max_age=10.0):
        """A PullResult for image `ref` when `registry` ("host:port" or None = every image is present)
        is the only registry the cluster can reach. Found images are remembered for good."""
        if registry is None:
            return PullResult(True)
        key = (registry, ref)
        with self._lock:
            cached = self._cache.get(key)
        if cached and (cached[0].ok or time.monotonic() - cached[1] < max_age):
            return cached[0]
        result = self._resolve(ref, registry)
        with self._lock:
            self._cache[key] = (result, time.monotonic())
        return result

    def _resolve(self, ref, registry):
        full, host, repo, reference = normalize(ref)
        if host != registry:
            return PullResult(False, "Unknown", f'failed to do request: Head "https://{host}/v2/{repo}/manifests/'
                                                f'{reference}": dial tcp: lookup {host}: no such host')
        status = self._head(registry, f"/v2/{repo}/manifests/{reference}")
        if status == 200:
            return PullResult(True)
        if status == 404:
            return PullResult(False, "NotFound", f"{full}: not found")
        if status == 401:
            return PullResult(False, "Unknown", "failed to authorize: failed to fetch anonymous token: "
                                                "unexpected status: 401 Unauthorized")
        return PullResult(False, "Unknown", f'failed to do request: Head "https://{registry}/v2/{repo}/manifests/'
                                            f'{reference}": {status}')

    def _head(self, registry, path):
        schemes = [self._schemes[registry]] if registry in self._schemes else ["https", "http"]
        last = "connect: connection refused"
        for scheme in schemes:
            try:
                if scheme == "https":
                    conn = http.client.HTTPSConnection(registry, timeout=self.timeout,
                                                       context=ssl._create_unverified_context())
                else:
                    conn = http.client.HTTPConnection(registry, timeout=self.timeout)
                try:
                    conn.request("HEAD", path, headers={"Accept": _ACCEPT})
                    status = conn.getresponse().status
                finally:
                    conn.close()
            except (OSError, http.client.HTTPException) as e:
                last = f"dial tcp {registry}: {e}"
                continue
            self._schemes[registry] = scheme
            return status
        return last
