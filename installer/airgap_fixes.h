// The edits an air-gapped install needs, made on the release objects before they are applied:
// pull credentials for the mirror registry, Knative's tag resolution (skip the mirror, or trust
// its CA), the domain, the ingress class, and a check that the queue-proxy image (which Knative
// injects into every app pod, so no manifest image field shows it) points at the mirror.
//
// All edits work on ConfigMaps' active keys and never touch their `_example` text; a key is
// spelled the way the release spells it (0.6's camelCase or 1.x's kebab-case, from the
// `_example` block, the keys present, or the version labels).
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

inline constexpr char kPullSecretName[] = "ferry-mirror-pull";
inline constexpr char kRegistryCaName[] = "ferry-registry-ca";
inline constexpr char kRegistryCaDir[] = "/var/run/ferry/registry-ca";

// {"auths": {"<registry>": {"username", "password", "auth": base64("user:pass")}}}: the
// .dockerconfigjson for a pull secret, from the credentials ferry pushed with.
std::string DockerConfigJsonFor(const std::string& registry, const std::string& username,
                                const std::string& password);

// Returns a Secret named kPullSecretName (type kubernetes.io/dockerconfigjson) for every
// namespace the objects use (Namespace objects and namespaced objects' namespaces), and adds it
// to `imagePullSecrets` of every ServiceAccount in those namespaces, and of every workload pod
// template that runs as a ServiceAccount not in the files (such as `default`); never twice.
// `dockerconfigjson` must be a docker config with an `auths` entry for `registry` (host[:port];
// a path is ignored). Errors (InvalidArgument) never quote the config: it holds the password.
Result<std::vector<ManifestObject>> AddPullSecret(std::vector<ManifestObject>& objects,
                                                  const std::string& registry,
                                                  const std::string& dockerconfigjson);

// Adds the mirror's host[:port] to config-deployment's registries that skip tag-to-digest
// resolution (registriesSkippingTagResolving / registries-skipping-tag-resolving), keeping the
// entries already listed there or, when the key is not set, the default from `_example`.
// NotFound when the files have no config-deployment ConfigMap.
Status SkipTagResolution(std::vector<ManifestObject>& objects, const std::string& registry);

// Instead of skipping tag resolution: makes the Knative controller trust the registry's CA.
// Returns a ConfigMap kRegistryCaName (key ca.crt) in config-deployment's namespace, mounts it
// at kRegistryCaDir in the `controller` container of Deployment `controller`, and sets
// SSL_CERT_DIR to that directory (Go then reads it in addition to the system bundle file).
// InvalidArgument when `ca_pem` holds no PEM certificate (`source` names it); NotFound when the
// files have no controller Deployment.
Result<ManifestObject> TrustRegistryCa(std::vector<ManifestObject>& objects, const std::string& ca_pem,
                                       const std::string& source);

// Makes `domain` the default domain of config-domain (key = domain, empty value), dropping other
// default-domain keys (empty values) and keeping selector-based ones. InvalidArgument for a
// domain that is not a DNS name; NotFound without config-domain.
Status SetDomain(std::vector<ManifestObject>& objects, const std::string& domain);

// Sets config-network's ingress class (ingress-class, ingress.class or 0.6's
// clusteringress.class) to kourier.ingress.networking.knative.dev or
// istio.ingress.networking.knative.dev. `ingress` is "kourier" or "istio" (else InvalidArgument);
// Unsupported for Kourier on a release that predates it (only clusteringress.class).
Status SelectIngress(std::vector<ManifestObject>& objects, const std::string& ingress);

// Where the queue-proxy image is named: config-deployment's queueSidecarImage /
// queue-sidecar-image, and the caching Image queue-proxy's spec.image.
struct QueueProxyImageSite {
  std::string where;  // "file:line ConfigMap knative-serving/config-deployment data.queue-sidecar-image"
  std::string image;
  bool at_mirror = false;  // the image's registry is `registry`
};

// Finds the sites. NotFound when config-deployment names no queue-proxy image.
Result<std::vector<QueueProxyImageSite>> QueueProxyImage(const std::vector<ManifestObject>& objects,
                                                         const std::string& registry);

// OK when every site points at the mirror; else InvalidArgument naming the first site and image
// that do not, and saying to rewrite the release files for the mirror first.
Status CheckQueueProxyImage(const std::vector<ManifestObject>& objects, const std::string& registry);

}  // namespace ferry::installer
