"""Test certificates made with the `openssl` CLI: a CA, a server certificate for 127.0.0.1/localhost,
and a self-signed signing certificate for the token server."""

import os
from dataclasses import dataclass

from .util import run


@dataclass
class Pki:
    ca_cert: str
    ca_key: str
    cert: str  # server certificate, signed by the CA, valid for IP:127.0.0.1 and DNS:localhost unless told
    key: str


def _self_signed(directory, name, extensions):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    argv = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=" + name]
    for ext in extensions:
        argv += ["-addext", ext]
    run(argv)
    return cert, key


def make_pki(directory, san="IP:127.0.0.1,DNS:localhost"):
    """Writes a CA and a server certificate for `san` (subjectAltName) into `directory` and returns
    their paths."""
    os.makedirs(directory, exist_ok=True)
    ca_cert, ca_key = _self_signed(directory, "ferry-test-ca", [
        "basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign,cRLSign"])
    key, csr = os.path.join(directory, "server.key"), os.path.join(directory, "server.csr")
    cert, ext = os.path.join(directory, "server.pem"), os.path.join(directory, "server.ext")
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", "/CN=localhost"])
    with open(ext, "w") as f:
        f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial",
         "-out", cert, "-days", "2", "-extfile", ext])
    return Pki(ca_cert, ca_key, cert, key)


def make_signing_cert(directory, name="ferry-test-token-signer"):
    """Returns (cert, key) of a self-signed RSA certificate used to sign registry tokens."""
    os.makedirs(directory, exist_ok=True)
    return _self_signed(directory, name, ["keyUsage=critical,digitalSignature"])
