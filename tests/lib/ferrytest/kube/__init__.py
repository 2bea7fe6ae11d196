"""The Kubernetes API-server emulator ferry's installer is tested against (see README.md).

    with Emulator(directory) as kube:    # HTTPS on a free loopback port, DIR/kubeconfig, DIR/state.json
        kube.store.get("apps", "Deployment", "knative-serving", "webhook")
"""

from .admission_request import AdmissionRequest  # noqa: F401
from .errors import ApiError  # noqa: F401
from .server import Emulator  # noqa: F401
