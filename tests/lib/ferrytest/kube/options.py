"""`Options`: the emulator's knobs (seconds unless said otherwise), readable by controllers and
changeable at run time (Emulator.set_options, POST /_emulator/options)."""

from dataclasses import asdict, dataclass, field, fields

from .errors import ApiError


@dataclass
class Options:
    crd_established_delay: float = 0.0
    workload_ready_delay: float = 0.0
    workload_delays: dict = field(default_factory=dict)  # name -> seconds, e.g. {"webhook": 10}
    namespace_finalize_delay: float = 0.0
    image_registry: str = None  # "host:port" of a registry images are checked against
    pod_unschedulable: dict = field(default_factory=dict)  # name -> scheduler message (test hook, pods.py)
    pod_crashes: dict = field(default_factory=dict)  # name -> log of containers that exit 1 (test hook)
    lb_ip: str = "127.0.0.1"
    load_balancer: bool = True  # False: no load-balancer controller, LoadBalancer Services get no ingress
    domain: str = "example.com"
    bookmark_interval: float = 10.0  # between BOOKMARK events on watches that allow them
    watch_timeout: float = 1800.0  # a watch without timeoutSeconds ends after this
    # the simulated serving data plane (dataplane.py), with controllers only
    dataplane: bool = False
    dataplane_apps: dict = field(default_factory=dict)  # image substring -> app executable
    kpa_stable_window: float = 6.0  # the KPA averages concurrency over this
    kpa_tick: float = 0.2  # between the KPA's samples
    scale_to_zero_grace: float = 3.0  # idle this long, a revision goes to zero pods
    cold_start_timeout: float = 30.0  # the gateway holds a request this long for a first pod

    def update(self, changes):
        """Sets known fields from a dict; raises ApiError 400 naming unknown ones."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ApiError(400, "BadRequest", f"unknown emulator options: {unknown} (known: {sorted(known)})")
        for name, value in changes.items():
            setattr(self, name, value)

    def as_dict(self):
        return asdict(self)
