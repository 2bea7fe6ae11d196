"""The simulated Knative Pod Autoscaler's rule for one revision: the pod count is
ceil(average observed concurrency over the stable window / target), at least 1 while there is
traffic, and 0 once no request has been in flight for the scale-to-zero grace period. The data
plane samples the revision's in-flight requests every tick and asks `desired()`."""

import collections
import math

TARGET_ANNOTATION = "autoscaling.knative.dev/target"
DEFAULT_TARGET = 100.0


def target_of(revision):
    """The revision's concurrency target (its template annotation; Knative's default 100)."""
    value = ((revision.get("metadata") or {}).get("annotations") or {}).get(TARGET_ANNOTATION)
    try:
        target = float(value)
    except (TypeError, ValueError):
        return DEFAULT_TARGET
    return target if target > 0 else DEFAULT_TARGET


class Autoscaler:
    """Not thread-safe: the data plane calls it under its own lock."""

    def __init__(self, now):
        self.samples = collections.deque()  # (time, concurrency)
        self.last_active = now  # the last moment a request was in flight (or the revision became ready)

    def record(self, now, in_flight, window):
        self.samples.append((now, in_flight))
        while self.samples and self.samples[0][0] < now - window:
            self.samples.popleft()
        if in_flight:
            self.last_active = now

    def average(self):
        return sum(c for _, c in self.samples) / len(self.samples) if self.samples else 0.0

    def desired(self, now, in_flight, target, grace):
        if not in_flight and now - self.last_active >= grace:
            return 0  # idle for the grace period: scale to zero
        return max(1, math.ceil(self.average() / target - 1e-9))
