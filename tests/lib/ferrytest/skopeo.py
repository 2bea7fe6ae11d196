"""Thin wrappers around the `skopeo` CLI, with the right TLS/credential flags for a `Registry`."""

from .util import run


def registry_flags(registry, side):
    """Flags for one side of a skopeo command: side is "src", "dest" or "" (inspect)."""
    p = f"--{side}-" if side else "--"
    flags = []
    if registry.tls:
        flags.append(f"{p}cert-dir={registry.cert_dir}")
    else:
        flags.append(f"{p}tls-verify=false")
    if registry.user:
        flags.append(f"{p}creds={registry.user}:{registry.password}")
    return flags


def push(artifact, registry, repo, tag, workdir):
    """Pushes an images.Image/Index with skopeo (digests preserved): OCI media types go through an
    OCI layout, Docker schema2 ones through skopeo's dir: format (skopeo 1.9 reads only OCI media
    types from an OCI layout). `workdir` must be a fresh, writable directory."""
    from . import images
    if artifact.media_type.startswith("application/vnd.oci."):
        images.write_oci_layout(workdir, "t", artifact)
        source = f"oci:{workdir}:t"
    else:
        images.write_dir_layout(workdir, artifact)
        source = f"dir:{workdir}"
    run(["skopeo", "copy", "--all", "--preserve-digests", "-q", *registry_flags(registry, "dest"),
         source, f"docker://{registry.host}/{repo}:{tag}"])
    return artifact.digest


def inspect_raw(registry, repo, ref):
    """The raw manifest bytes skopeo reads for HOST/REPO:REF (ref is a tag or a digest)."""
    sep = "@" if ref.startswith("sha256:") else ":"
    r = run(["skopeo", "inspect", "--raw", *registry_flags(registry, ""),
             f"docker://{registry.host}/{repo}{sep}{ref}"], text=False)
    return r.stdout


def copy_to_layout(registry, repo, ref, layout_dir, layout_tag="x"):
    """skopeo copy --all docker://HOST/REPO:REF oci:DIR:TAG (pulls every blob, verifying digests)."""
    sep = "@" if ref.startswith("sha256:") else ":"
    return run(["skopeo", "copy", "--all", "--preserve-digests", "-q", *registry_flags(registry, "src"),
                f"docker://{registry.host}/{repo}{sep}{ref}", f"oci:{layout_dir}:{layout_tag}"], check=False)
