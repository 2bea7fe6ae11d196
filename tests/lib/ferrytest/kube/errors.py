"""API errors as the real API server sends them: a metav1.Status body with code, reason, message."""


class ApiError(Exception):
    """Raised anywhere in the emulator; the server turns it into the HTTP answer."""

    def __init__(self, code, reason, message, details=None, retry_after=None):
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details  # {"name", "group", "kind", "causes": [{"reason","message","field"}]}
        self.retry_after = retry_after  # seconds, sent as Retry-After and details.retryAfterSeconds

    def status_body(self):
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        # Empty fields are left out, as Go's omitempty does (a core-group "group": "" never appears).
        details = {k: v for k, v in (self.details or {}).items() if v not in ("", None, [])}
        if self.retry_after is not None:
            details["retryAfterSeconds"] = int(self.retry_after)
        if details:
            body["details"] = details
        return body


def resource_label(group, plural):
    """'deployments.apps' or 'configmaps' as the API server names a resource in messages."""
    return f"{plural}.{group}" if group else plural


def not_found(group, plural, name):
    return ApiError(404, "NotFound", f'{resource_label(group, plural)} "{name}" not found',
                    {"name": name, "group": group, "kind": plural})


def already_exists(group, plural, name):
    return ApiError(409, "AlreadyExists", f'{resource_label(group, plural)} "{name}" already exists',
                    {"name": name, "group": group, "kind": plural})


def conflict(group, plural, name, why):
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {resource_label(group, plural)} "{name}": {why}',
                    {"name": name, "group": group, "kind": plural})


def invalid(group, kind, name, causes):
    """causes: [(field, message)]; the message lists them the way the API server does."""
    text = ", ".join(f"{field}: {message}" for field, message in causes)
    qualified = f"{kind}.{group}" if group else kind
    return ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: {text}',
                    {"name": name, "group": group, "kind": kind,
                     "causes": [{"reason": "FieldValueInvalid", "message": m, "field": f} for f, m in causes]})


def forbidden(user, verb, group, plural, namespace, name=None):
    what = resource_label(group, plural) + (f' "{name}"' if name else "")
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    return ApiError(403, "Forbidden",
                    f'{what} is forbidden: User "{user}" cannot {verb} resource "{plural}" '
                    f'in API group "{group}"{where}',
                    {"name": name or "", "group": group, "kind": plural})


def internal(message):
    return ApiError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})
