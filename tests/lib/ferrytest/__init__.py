"""ferrytest: the harness for ferry's integration tests. Real servers (docker-registry, a token
server, containerd, a programmable fake registry) on free loopback ports, deterministic test images,
and a runner for the ferry binary that never touches the user's own files."""

from .util import TempDir, free_port, wait_until  # noqa: F401
