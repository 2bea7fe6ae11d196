"""A minimal Docker Registry HTTP API v2 client (http.client) used by the harness to push test
images and to look at what a registry holds. Handles plain HTTP, TLS with a CA file, Basic auth
and the Docker token flow (Bearer challenge -> GET realm?service=&scope=)."""

import base64
import http.client
import json
import re
import ssl
import urllib.parse

MANIFEST_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        return json.loads(self.body)


def parse_challenge(value):
    """Parses `Bearer realm="..",service="..",scope=".."` into (scheme, {param: value})."""
    scheme, _, rest = value.partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class RegistryClient:
    def __init__(self, host, tls=False, ca_cert=None, user=None, password=None):
        self.host, self.tls, self.ca_cert = host, tls, ca_cert
        self.user, self.password = user, password
        self._auth = {}  # token scope (or "basic") -> Authorization header value

    # --- transport -------------------------------------------------------------------------------
    def _connection(self, host=None, tls=None, timeout=60):
        host = host or self.host
        tls = self.tls if tls is None else tls
        if tls:
            ctx = ssl.create_default_context(cafile=self.ca_cert)
            return http.client.HTTPSConnection(host, timeout=timeout, context=ctx, blocksize=1 << 20)
        return http.client.HTTPConnection(host, timeout=timeout, blocksize=1 << 20)

    def _send(self, method, path, headers, body):
        conn = self._connection()
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def request(self, method, path, headers=None, body=None, scope=None):
        """Sends a request; on 401 answers the challenge once and retries (`body` must be bytes then).

        `scope` picks the cached token to send up front (e.g. "repository:a/b:pull,push")."""
        headers = dict(headers or {})
        auth = self._auth.get(scope) or self._auth.get("basic")
        if auth:
            headers["Authorization"] = auth
        r = self._send(method, path, headers, body)
        if r.status != 401 or not r.header("www-authenticate"):
            return r
        if body is not None and not isinstance(body, (bytes, str)):
            raise RuntimeError(f"{method} {path}: 401 while streaming a body; authenticate first")
        scheme, params = parse_challenge(r.header("www-authenticate"))
        if scheme == "basic":
            if self.user is None:
                return r
            cred = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            self._auth["basic"] = auth = "Basic " + cred
        elif scheme == "bearer":
            token = self.fetch_token(params["realm"], params.get("service"), params.get("scope"))
            if token is None:
                return r
            auth = "Bearer " + token
            self._auth[scope or params.get("scope")] = auth
        else:
            return r
        headers["Authorization"] = auth
        return self._send(method, path, headers, body)

    def fetch_token(self, realm, service, scope):
        """Docker token flow: GET realm?service=..&scope=.. with Basic credentials if we have any."""
        url = urllib.parse.urlsplit(realm)
        query = [("service", service)] if service else []
        if scope:
            query += [("scope", s) for s in scope.split(" ")]
        path = url.path + "?" + urllib.parse.urlencode(query)
        headers = {}
        if self.user is not None:
            cred = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            headers["Authorization"] = "Basic " + cred
        conn = self._connection(url.netloc, url.scheme == "https")
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            data = r.read()
        finally:
            conn.close()
        if r.status != 200:
            return None
        doc = json.loads(data)
        return doc.get("token") or doc.get("access_token")

    # --- registry operations -----------------------------------------------------------------------
    def ping(self):
        return self._send("GET", "/v2/", {}, None).status

    def get_manifest(self, repo, ref, method="GET"):
        """Returns the Response for a manifest request with all manifest media types accepted."""
        return self.request(method, f"/v2/{repo}/manifests/{ref}", {"Accept": MANIFEST_ACCEPT},
                            scope=f"repository:{repo}:pull")

    def manifest_digest(self, repo, ref):
        """Docker-Content-Digest of repo:ref, or None if the registry does not have it."""
        r = self.get_manifest(repo, ref, "HEAD")
        if r.status == 404:
            return None
        if r.status != 200:
            raise RuntimeError(f"HEAD manifest {repo}:{ref}: HTTP {r.status}")
        return r.header("docker-content-digest")

    def tags(self, repo):
        """The repository's tags ([] if the repository does not exist)."""
        r = self.request("GET", f"/v2/{repo}/tags/list", scope=f"repository:{repo}:pull")
        if r.status == 404:
            return []
        if r.status != 200:
            raise RuntimeError(f"tags of {repo}: HTTP {r.status}")
        return sorted(r.json().get("tags") or [])

    def has_blob(self, repo, digest):
        r = self.request("HEAD", f"/v2/{repo}/blobs/{digest}", scope=f"repository:{repo}:pull")
        if r.status not in (200, 404):
            raise RuntimeError(f"HEAD blob {repo}@{digest}: HTTP {r.status}")
        return r.status == 200

    def _upload_location(self, repo):
        r = self.request("POST", f"/v2/{repo}/blobs/uploads/", {"Content-Length": "0"}, b"",
                         scope=f"repository:{repo}:pull,push")
        if r.status != 202:
            raise RuntimeError(f"start upload to {repo}: HTTP {r.status} {r.body[:200]!r}")
        loc = urllib.parse.urlsplit(r.header("location"))
        return loc.path + ("?" + loc.query if loc.query else "")

    @staticmethod
    def _with_query(location, **params):
        sep = "&" if "?" in location else "?"
        return location + sep + urllib.parse.urlencode(params)

    def put_blob(self, repo, digest, data):
        """Monolithic upload: POST then PUT ?digest= with the bytes. Skips blobs already present."""
        if self.has_blob(repo, digest):
            return
        loc = self._upload_location(repo)
        r = self.request("PUT", self._with_query(loc, digest=digest),
                         {"Content-Type": "application/octet-stream", "Content-Length": str(len(data))},
                         data, scope=f"repository:{repo}:pull,push")
        if r.status != 201:
            raise RuntimeError(f"upload {digest} to {repo}: HTTP {r.status} {r.body[:200]!r}")

    def put_blob_stream(self, repo, stream, size):
        """Streams `size` bytes from `stream` (PATCH) while hashing them, then commits with PUT
        ?digest=. Returns the digest. Memory stays constant whatever the size."""
        import hashlib
        h = hashlib.sha256()

        class Hashing:
            def read(self, n=-1):
                chunk = stream.read(n if n and n > 0 else 1 << 20)
                h.update(chunk)
                return chunk

        loc = self._upload_location(repo)
        scope = f"repository:{repo}:pull,push"
        r = self.request("PATCH", loc, {"Content-Type": "application/octet-stream",
                                        "Content-Length": str(size)}, Hashing(), scope=scope)
        if r.status != 202:
            raise RuntimeError(f"PATCH upload to {repo}: HTTP {r.status} {r.body[:200]!r}")
        loc = urllib.parse.urlsplit(r.header("location"))
        loc = loc.path + ("?" + loc.query if loc.query else "")
        digest = "sha256:" + h.hexdigest()
        r = self.request("PUT", self._with_query(loc, digest=digest), {"Content-Length": "0"}, b"",
                         scope=scope)
        if r.status != 201:
            raise RuntimeError(f"commit upload to {repo}: HTTP {r.status} {r.body[:200]!r}")
        return digest

    def put_manifest(self, repo, ref, media_type, data):
        """PUTs the exact manifest bytes; returns the digest the registry reports."""
        r = self.request("PUT", f"/v2/{repo}/manifests/{ref}", {"Content-Type": media_type}, data,
                         scope=f"repository:{repo}:pull,push")
        if r.status != 201:
            raise RuntimeError(f"PUT manifest {repo}:{ref}: HTTP {r.status} {r.body[:300]!r}")
        return r.header("docker-content-digest")
