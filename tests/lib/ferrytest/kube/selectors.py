"""Label selectors (=, ==, !=, in, notin, exists, !key) and field selectors (=, ==, != on dotted
paths such as metadata.name) as LIST and WATCH take them in the query string."""

import re

from .errors import ApiError

_SET = re.compile(r"^\s*(!?)\s*([A-Za-z0-9./_-]+)\s*(?:(notin|in)\s*\(([^)]*)\))?\s*$")
_CMP = re.compile(r"^\s*([A-Za-z0-9./_-]+)\s*(==|=|!=)\s*([A-Za-z0-9._-]*)\s*$")


def _split_terms(text):
    """Splits on commas that are not inside parentheses."""
    terms, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return [t for t in terms if t.strip()]


class LabelSelector:
    def __init__(self, requirements):
        self.requirements = requirements  # [(key, op, values)]: op in =, !=, in, notin, exists, !

    @classmethod
    def parse(cls, selector):
        """From a query string value, a {key: value} dict (equality), or None (matches all)."""
        if not selector:
            return cls([])
        if isinstance(selector, dict):
            return cls([(k, "=", [v]) for k, v in selector.items()])
        reqs = []
        for term in _split_terms(selector):
            m = _CMP.match(term)
            if m:
                reqs.append((m.group(1), "!=" if m.group(2) == "!=" else "=", [m.group(3)]))
                continue
            m = _SET.match(term)
            if not m or (m.group(1) and m.group(3)):
                raise ApiError(400, "BadRequest",
                               f"unable to parse requirement: invalid label selector: {term.strip()!r}")
            if m.group(3):
                reqs.append((m.group(2), m.group(3), [v.strip() for v in m.group(4).split(",")]))
            else:
                reqs.append((m.group(2), "!" if m.group(1) else "exists", []))
        return cls(reqs)

    def matches(self, obj):
        labels = (obj.get("metadata") or {}).get("labels") or {}
        for key, op, values in self.requirements:
            present, value = key in labels, labels.get(key)
            if op == "=" and not (present and value == values[0]):
                return False
            if op == "!=" and present and value == values[0]:
                return False
            if op == "in" and not (present and value in values):
                return False
            if op == "notin" and present and value in values:
                return False
            if op == "exists" and not present:
                return False
            if op == "!" and present:
                return False
        return True


class FieldSelector:
    def __init__(self, requirements):
        self.requirements = requirements  # [(dotted path, equal?, value)]

    @classmethod
    def parse(cls, selector):
        reqs = []
        for term in _split_terms(selector or ""):
            m = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(==|=|!=)\s*(.*?)\s*$", term)
            if not m:
                raise ApiError(400, "BadRequest", f"invalid field selector: {term.strip()!r}")
            reqs.append((m.group(1), m.group(2) != "!=", m.group(3)))
        return cls(reqs)

    def matches(self, obj):
        for path, equal, value in self.requirements:
            cur = obj
            for part in path.split("."):
                cur = cur.get(part) if isinstance(cur, dict) else None
            actual = "" if cur is None else str(cur)
            if (actual == value) != equal:
                return False
        return True
