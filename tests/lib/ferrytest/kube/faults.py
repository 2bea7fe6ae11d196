"""Fault injection the test controls: the next N requests matching a method and a path regex
fail with a code (429/500/503, optionally with Retry-After), get extra latency, or have their
connection dropped after the response headers. Admin requests (/_emulator/) are never faulted."""

import re
import threading
from dataclasses import dataclass

from .errors import ApiError

_REASONS = {
    429: ("TooManyRequests", "Too many requests, please try again later."),
    500: ("InternalError", "Internal error occurred: injected fault"),
    502: ("InternalError", "Internal error occurred: injected bad gateway"),
    503: ("ServiceUnavailable", "the server is currently unable to handle the request"),
    504: ("Timeout", "the server was unable to return a response in the time allotted, but may "
                     "still be processing the request"),
}


@dataclass
class FaultRule:
    method: str = "*"
    path: str = ""  # re.search against path?query
    count: int = 1  # <= 0: every matching request until the rules are cleared
    code: int = None  # None: no error (latency/drop only)
    retry_after: float = None
    latency: float = 0.0
    drop: bool = False

    def __post_init__(self):
        if self.code is not None and self.code not in _REASONS:
            raise ApiError(400, "BadRequest", f"fault code {self.code} is not one of {sorted(_REASONS)}")
        try:
            self._rx = re.compile(self.path or "")
        except re.error as e:
            raise ApiError(400, "BadRequest", f"fault path {self.path!r} is not a regex: {e}")

    def matches(self, method, target):
        return self.method in ("*", method) and self._rx.search(target) is not None

    def error(self):
        reason, message = _REASONS[self.code]
        return ApiError(self.code, reason, message, retry_after=self.retry_after)

    def describe(self):
        return {"method": self.method, "path": self.path, "count": self.count, "code": self.code,
                "retry_after": self.retry_after, "latency": self.latency, "drop": self.drop}


class Faults:
    def __init__(self):
        self._lock = threading.Lock()
        self._rules = []

    def add(self, spec):
        """Adds a rule from a dict with FaultRule's fields; raises ApiError 400 on bad input."""
        unknown = set(spec) - set(FaultRule.__dataclass_fields__)
        if unknown:
            raise ApiError(400, "BadRequest", f"unknown fault fields: {sorted(unknown)}")
        rule = FaultRule(**spec)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self):
        with self._lock:
            self._rules.clear()

    def rules(self):
        with self._lock:
            return [r.describe() for r in self._rules]

    def take(self, method, target):
        """The first rule matching this request, its count used up by one; None if none matches."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, target):
                    if rule.count > 0:
                        rule.count -= 1
                        if rule.count == 0:
                            self._rules.remove(rule)
                    return rule
        return None
