"""The simulated Knative Pod Autoscaler's rule for one revision: the pod count is
ceil(average observed concurrency over the stable window / target), at least 1 while there is
traffic, and 0 once no request has been in flight for the scale-to-zero grace period. The data
plane records the revision's in-flight requests and asks `desired()` every tick.

The average is over time, not over samples, as the queue-proxy's request stats are: a burst of
samples must not outweigh a longer quiet stretch. It is exact when the data plane records every
change of the count (each request's start and end), not only samples at uneven moments."""

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
        # (time, concurrency): each value holds until the next sample. The first kept sample is
        # the last one at or before the window's start, so the window's first stretch has a value.
        self.samples = collections.deque()
        self.window = 0.0
        self.last_active = now  # the last moment a request was in flight (or the revision became ready)

    def record(self, now, in_flight, window):
        """The count is `in_flight` from `now` until the next record (call at each change and tick)."""
        self.samples.append((now, in_flight))
        self.window = window
        while len(self.samples) > 1 and self.samples[1][0] <= now - window:
            self.samples.popleft()
        if in_flight:
            self.last_active = now

    def average(self):
        """Mean concurrency over the stable window, weighted by how long each value held."""
        if not self.samples:
            return 0.0
        start = self.samples[-1][0] - self.window
        total = span = 0.0
        for (at, value), (until, _) in zip(self.samples, list(self.samples)[1:]):
            length = until - max(at, start)
            if length > 0:
                total += value * length
                span += length
        return total / span if span > 0 else float(self.samples[-1][1])

    def desired(self, now, in_flight, target, grace):
        if not in_flight and now - self.last_active >= grace:
            return 0  # idle for the grace period: scale to zero
        return max(1, math.ceil(self.average() / target - 1e-9))
