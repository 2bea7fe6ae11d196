"""Client certificates signed by the emulator's CA and the kubeconfig that names one context per
identity (admin, cert-admin, viewer, basic), written the way kubectl and ferry read it."""

import base64
import json
import os

from ..util import run


def make_client_cert(pki, directory, cn, org):
    """(cert, key) paths of a client certificate for CN=`cn`, O=`org`, signed by the test CA."""
    key, csr = os.path.join(directory, f"{cn}.key"), os.path.join(directory, f"{cn}.csr")
    cert, ext = os.path.join(directory, f"{cn}.pem"), os.path.join(directory, f"{cn}.ext")
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
         "-subj", f"/O={org}/CN={cn}"])
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
                "extendedKeyUsage=clientAuth\n")
    run(["openssl", "x509", "-req", "-in", csr, "-CA", pki.ca_cert, "-CAkey", pki.ca_key,
         "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext])
    return cert, key


def _b64_file(path):
    with open(path, "rb") as f:
        return base64.b64encode(f.read()).decode()


def _q(value):
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value)


def write_kubeconfig(path, server, ca_file, users, current="admin"):
    """`users`: {context name: {kubeconfig user fields}}; one cluster "emulator", one context each."""
    lines = ["apiVersion: v1", "kind: Config", "clusters:", "- name: emulator", "  cluster:",
             f"    server: {_q(server)}", f"    certificate-authority-data: {_b64_file(ca_file)}",
             "users:"]
    for name, fields in users.items():
        lines += [f"- name: {name}", "  user:"]
        lines += [f"    {k}: {_q(v)}" for k, v in fields.items()]
    lines.append("contexts:")
    for name in users:
        lines += [f"- name: {name}", "  context:", "    cluster: emulator", f"    user: {name}",
                  "    namespace: default"]
    lines.append(f"current-context: {current}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)


def cert_user(cert, key):
    return {"client-certificate-data": _b64_file(cert), "client-key-data": _b64_file(key)}
