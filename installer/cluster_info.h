// What `ferry cluster info` reports: which server, which version, who the server thinks we are,
// the default namespace, and whether Knative Serving, Istio and Kourier are already there. It is
// the first thing a user runs when an install fails, so every failure gets a one-line reason
// (unreachable, TLS verification failed, Unauthorized, Forbidden).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "installer/kube_client.h"

namespace ferry::installer {

struct ClusterIdentity {
  bool served = false;  // SelfSubjectReview answered (authentication.k8s.io v1, v1beta1 or v1alpha1)
  std::string username;
  std::vector<std::string> groups;
  std::string note;  // why there is no identity: "not served", the server's refusal
};

enum class ComponentState { kInstalled, kNotInstalled, kUnknown };

struct ComponentInfo {
  std::string name;               // "knative-serving", "istio", "kourier"
  ComponentState state = ComponentState::kNotInstalled;
  std::string version;            // from the app.kubernetes.io/version label, when there is one
  std::vector<std::string> found; // what gave it away: "crd services.serving.knative.dev"
  std::string note;               // why the state is unknown (Forbidden, ...)
};

struct ClusterInfo {
  std::string server;
  std::string context;
  std::string source;  // where the config came from
  std::string default_namespace;
  std::string git_version;  // "v1.30.2"
  std::string platform;     // "linux/amd64"
  ClusterIdentity identity;
  std::vector<ComponentInfo> components;  // knative-serving, istio, kourier
};

// Asks the server. Fails when /version or discovery fails, or on any 401; the component checks
// degrade to kUnknown on other errors (a user who may not read CRDs still learns the rest).
KubeResult<ClusterInfo> GatherClusterInfo(KubeClient& client);

// A one-line reason for a failed GatherClusterInfo: "cannot reach the API server ...", "TLS
// verification of ... failed", "Unauthorized: ...", "Forbidden: ...", else the error itself.
std::string ClusterFailureReason(const ApiError& error, const ClusterConfig& config);

const char* ComponentStateName(ComponentState state);  // "installed", "not installed", "unknown"
nlohmann::json ClusterInfoJson(const ClusterInfo& info);

}  // namespace ferry::installer
