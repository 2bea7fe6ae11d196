"""Who is calling and what they may do: bearer tokens, Basic username/password and client
certificates (CN = user, O = groups) as the API server authenticates them, plus the one
authorization rule the emulator knows: read-only identities may only get, list and watch."""

import base64
import threading
from dataclasses import dataclass, field

from . import errors

READ_VERBS = ("get", "list", "watch")


@dataclass
class Identity:
    user: str
    groups: list = field(default_factory=list)
    read_only: bool = False

    def user_info(self):
        return {"username": self.user, "groups": list(self.groups) + ["system:authenticated"]}

    def allows(self, verb):
        return not self.read_only or verb in READ_VERBS


def unauthorized():
    return errors.ApiError(401, "Unauthorized", "Unauthorized")


class Authenticator:
    def __init__(self):
        self._lock = threading.Lock()
        self._tokens = {}  # token -> Identity
        self._passwords = {}  # user -> (password, Identity)

    def add_token(self, token, user, groups=(), read_only=False):
        with self._lock:
            self._tokens[token] = Identity(user, list(groups), read_only)

    def revoke_token(self, token):
        """Later requests with `token` get 401 (an expired exec-plugin credential)."""
        with self._lock:
            self._tokens.pop(token, None)

    def add_password(self, user, password, groups=(), read_only=False):
        with self._lock:
            self._passwords[user] = (password, Identity(user, list(groups), read_only))

    def authenticate(self, authorization, peer_cert):
        """The Identity for a request's Authorization header and TLS peer certificate (as returned
        by SSLSocket.getpeercert(), already verified against the CA), or raises 401."""
        if peer_cert:
            identity = _certificate_identity(peer_cert)
            if identity:
                return identity
        scheme, _, credentials = (authorization or "").partition(" ")
        with self._lock:
            if scheme.lower() == "bearer":
                identity = self._tokens.get(credentials.strip())
                if identity:
                    return identity
            elif scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(credentials).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    raise unauthorized()
                known = self._passwords.get(user)
                if known and known[0] == password:
                    return known[1]
        raise unauthorized()


def _certificate_identity(peer_cert):
    cn, orgs = None, []
    for rdn in peer_cert.get("subject", ()):
        for name, value in rdn:
            if name == "commonName":
                cn = value
            elif name == "organizationName":
                orgs.append(value)
    return Identity(cn, orgs) if cn else None


def authorize(identity, verb, group, plural, namespace, name=None):
    """Raises the real 403 Forbidden if `identity` may not `verb` the resource."""
    if not identity.allows(verb):
        raise errors.forbidden(identity.user, verb, group, plural, namespace, name)
