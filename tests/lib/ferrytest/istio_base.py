"""A minimal Istio for install tests against the emulator: what `knative-1.23-istio` expects to find
already running (the profile does not install Istio). The CRDs of the kinds net-istio's release
and controller use, the istio-system namespace, and the ingress gateway as istioctl's default
profile makes it: the LoadBalancer Service istio-ingressgateway (status-port 15021, http2 80,
https 443) and its Deployment (labels app=istio-ingressgateway, istio=ingressgateway), whose
image the caller supplies (mirrored, so the emulator's kubelet can pull it). The corpus's Istio
1.1.3 cannot serve here: its CRDs are apiextensions v1beta1, which 1.22+ servers do not serve."""

from .util import wait_until

NAMESPACE = "istio-system"
GATEWAY = "istio-ingressgateway"

# (group, kind, plural): Gateway and PeerAuthentication are in net-istio.yaml, the controller
# writes VirtualServices and DestinationRules.
CRDS = (("networking.istio.io", "Gateway", "gateways"),
        ("networking.istio.io", "VirtualService", "virtualservices"),
        ("networking.istio.io", "DestinationRule", "destinationrules"),
        ("security.istio.io", "PeerAuthentication", "peerauthentications"))


def crd(group, kind, plural):
    schema = {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}", "labels": {"app": "istio-pilot"}},
            "spec": {"group": group, "scope": "Namespaced",
                     "names": {"plural": plural, "singular": kind.lower(), "kind": kind, "listKind": kind + "List"},
                     "versions": [{"name": v, "served": True, "storage": v == "v1", "schema": schema}
                                  for v in ("v1", "v1beta1", "v1alpha3")]}}


def gateway_objects(image):
    labels = {"app": GATEWAY, "istio": "ingressgateway"}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": GATEWAY, "namespace": NAMESPACE, "labels": labels},
         "spec": {"type": "LoadBalancer", "selector": labels,
                  "ports": [{"name": "status-port", "port": 15021, "targetPort": 15021, "protocol": "TCP"},
                            {"name": "http2", "port": 80, "targetPort": 8080, "protocol": "TCP"},
                            {"name": "https", "port": 443, "targetPort": 8443, "protocol": "TCP"}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": GATEWAY, "namespace": NAMESPACE, "labels": labels},
         "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels},
                               "spec": {"containers": [{"name": "istio-proxy", "image": image,
                                                        "args": ["proxy", "router"],
                                                        "ports": [{"containerPort": 8080, "protocol": "TCP"},
                                                                  {"containerPort": 8443, "protocol": "TCP"}]}]}}}},
    ]


def install(emulator, image):
    """Creates the CRDs through the API (so they go through the Established lifecycle), then the
    gateway; returns once the Gateway kind is served."""
    for group, kind, plural in CRDS:
        status, body = emulator.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                                        crd(group, kind, plural))
        if status != 201:
            raise RuntimeError(f"creating the {kind} CRD answered {status}: {body}")
    for obj in gateway_objects(image):
        emulator.store.put(obj)
    wait_until(lambda: emulator.request("GET", "/apis/networking.istio.io/v1beta1")[0] == 200,
               "Istio's Gateway kind served")
