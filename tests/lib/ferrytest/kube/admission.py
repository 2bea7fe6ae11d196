"""Admission webhooks as an installer meets them: a write that a Mutating- or
ValidatingWebhookConfiguration matches fails with the API server's "failed calling webhook" error
while the Deployment behind the webhook's Service is not available (no real call is ever made;
once it is available, the write passes). failurePolicy: Ignore lets the write through. Matching
follows the real rules: operations, apiGroups, apiVersions, resources (with "*" and
subresources), scope, namespaceSelector and objectSelector. A webhook without rules matches
nothing (Knative's config webhook gets its rules from the running webhook)."""

from . import workload_status
from .errors import internal

_GROUP = "admissionregistration.k8s.io"
_CONFIG_KINDS = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")


def install(emulator):
    emulator.admission_hooks.append(lambda request: check(emulator.store, request))


def check(store, request):
    """Raises the API server's error if a matching webhook cannot be reached."""
    if request.group == _GROUP and request.kind in _CONFIG_KINDS:
        return  # the API server never sends webhook configurations to webhooks
    for kind in _CONFIG_KINDS:
        for config in store.list(_GROUP, kind):
            for webhook in config.get("webhooks") or []:
                if webhook.get("failurePolicy") == "Ignore" or not _matches(store, webhook, request):
                    continue
                problem = _unreachable(store, webhook)
                if problem:
                    raise internal(f'failed calling webhook "{webhook.get("name")}": failed to call webhook: '
                                   f'{problem}')


# --- matching ------------------------------------------------------------------------------------
def _matches(store, webhook, request):
    rules = webhook.get("rules") or []
    if not any(_rule_matches(rule, request) for rule in rules):
        return False
    if not _namespace_matches(store, webhook.get("namespaceSelector"), request):
        return False
    selector = webhook.get("objectSelector")
    if selector:
        candidates = [o for o in (request.object, request.old_object) if o]
        if not any(selector_matches(selector, _labels(o)) for o in candidates):
            return False
    return True


def _rule_matches(rule, request):
    def has(values, value):
        return "*" in (values or []) or value in (values or [])

    if not has(rule.get("operations"), request.operation):
        return False
    if not has(rule.get("apiGroups"), request.group) or not has(rule.get("apiVersions"), request.version):
        return False
    scope = rule.get("scope") or "*"
    if scope == "Namespaced" and not request.namespace:
        return False
    if scope == "Cluster" and request.namespace:
        return False
    wanted = f"{request.resource}/{request.subresource}" if request.subresource else request.resource
    for resource in rule.get("resources") or []:
        if resource == wanted or resource == "*/*":
            return True
        if resource == "*" and not request.subresource:
            return True
        name, _, sub = resource.partition("/")
        if request.subresource and sub == "*" and name == request.resource:
            return True
        if request.subresource and name == "*" and sub == request.subresource:
            return True
    return False


def _namespace_matches(store, selector, request):
    if not selector:
        return True
    if request.kind == "Namespace" and not request.group:
        return selector_matches(selector, _labels(request.object or request.old_object))
    if not request.namespace:
        return True  # other cluster-scoped objects are never skipped by a namespaceSelector
    namespace = store.get("", "Namespace", "", request.namespace)
    return selector_matches(selector, _labels(namespace))


def _labels(obj):
    return ((obj or {}).get("metadata") or {}).get("labels") or {}


def selector_matches(selector, labels):
    """A metav1.LabelSelector (matchLabels and matchExpressions) against a labels dict."""
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


# --- reachability --------------------------------------------------------------------------------
def _unreachable(store, webhook):
    """None if the webhook's backend would answer, else the error text after "failed to call webhook: "."""
    client = webhook.get("clientConfig") or {}
    service = client.get("service")
    if not service:
        return None  # a URL webhook: outside the cluster, assumed to answer
    name, namespace = service.get("name"), service.get("namespace")
    port = service.get("port") or 443
    url = f"https://{name}.{namespace}.svc:{port}{service.get('path') or ''}" \
          f"?timeout={webhook.get('timeoutSeconds') or 10}s"
    svc = store.get("", "Service", namespace, name)
    if svc is None:
        return f'Post "{url}": service "{name}" not found'
    selector = (svc.get("spec") or {}).get("selector") or {}
    backends = [d for d in store.list("apps", "Deployment", namespace) if selector and
                selector_matches({"matchLabels": selector}, _labels(d["spec"].get("template")))]
    if not backends:
        return f'Post "{url}": no endpoints available for service "{name}"'
    if any(workload_status.deployment_available(d) for d in backends):
        return None
    ip = (svc.get("spec") or {}).get("clusterIP") or workload_status.cluster_ip_for(namespace, name)
    return f'Post "{url}": dial tcp {ip}:{port}: connect: connection refused'
