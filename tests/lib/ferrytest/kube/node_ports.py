"""The gateway's node ports: the data plane's front also listens on 127.0.0.1 (the Node's address,
nodes.py) at the nodePort of each gateway Service's HTTP port, as kube-proxy makes every node
answer on a NodePort. Without a load balancer (kind, bare metal) that is how users reach the
gateway. The port the API server picked may be taken on this shared machine; then another free
one in the NodePort range is taken and written back into the Service."""

import logging
import random
import threading

from ..util import QuietHTTPServer

log = logging.getLogger("ferrytest.kube")

NODE_PORT_RANGE = (30000, 32767)
_ATTEMPTS = 200


def http_port(service):
    """The Service port that carries plain HTTP, by the rule ferry's gateway finder uses: port 80,
    else one named http or http2, else the first; None without ports."""
    ports = (service.get("spec") or {}).get("ports") or []
    for rule in (lambda p: p.get("port") == 80, lambda p: p.get("name") in ("http", "http2"), lambda p: True):
        found = next((p for p in ports if rule(p)), None)
        if found is not None:
            return found
    return None


class NodePortListeners:
    """One listening server per gateway Service, keyed by (namespace, name)."""

    def __init__(self, handler):
        self._handler = handler
        self._servers = {}
        self._closed = False
        self._lock = threading.Lock()

    def port_of(self, key):
        with self._lock:
            server = self._servers.get(key)
            return server.server_address[1] if server else None

    def listen(self, key, wanted):
        """Serves on `wanted` if it is free, else on a free port in the NodePort range; returns the
        port (None if none could be bound). A listener `key` had on another port is closed."""
        self.close(key)
        server = self._bind(wanted)
        if server is None:
            for port in random.sample(range(NODE_PORT_RANGE[0], NODE_PORT_RANGE[1] + 1), _ATTEMPTS):
                server = self._bind(port)
                if server:
                    break
        if server is None:
            log.warning("dataplane: no free node port in %s-%s for %s/%s", *NODE_PORT_RANGE, *key)
            return None
        threading.Thread(target=server.serve_forever, name=f"nodeport-{key[1]}", daemon=True).start()
        with self._lock:
            if self._closed:  # the data plane is stopping: this listener is not wanted
                stale, port = server, None
            else:  # another event may have listened meanwhile: keep the newest
                stale, self._servers[key] = self._servers.get(key), server
                port = server.server_address[1]
        if stale:
            _shut(stale)
        return port

    def close(self, key):
        with self._lock:
            server = self._servers.pop(key, None)
        if server:
            _shut(server)

    def close_all(self):
        with self._lock:
            self._closed = True
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            _shut(server)

    def _bind(self, port):
        try:
            return QuietHTTPServer(("127.0.0.1", int(port)), self._handler)
        except (OSError, ValueError, TypeError):
            return None


def _shut(server):
    server.shutdown()
    server.server_close()
