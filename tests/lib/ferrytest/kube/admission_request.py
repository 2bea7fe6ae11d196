"""`AdmissionRequest`: what admission hooks (admission.py, webhooks) are told about each write,
the fields of the real admission.k8s.io AdmissionRequest that matter to the emulator."""

from dataclasses import dataclass


@dataclass
class AdmissionRequest:
    operation: str  # "CREATE" | "UPDATE" | "DELETE"
    group: str
    version: str
    kind: str
    resource: str  # plural
    subresource: str  # "" or "status"
    namespace: str  # "" for cluster-scoped objects
    name: str
    object: dict  # the would-be object; hooks may change it (mutating admission); None on DELETE
    old_object: dict  # the stored object; None on CREATE
    dry_run: bool
    user: str = ""
