#include "installer/cluster_info.h"

namespace ferry::installer {
namespace {

std::string Label(const nlohmann::json& object, const char* key) {
  const nlohmann::json* labels = nullptr;
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object() &&
      object["metadata"].contains("labels") && object["metadata"]["labels"].is_object())
    labels = &object["metadata"]["labels"];
  if (!labels) return "";
  const nlohmann::json& value = labels->value(key, nlohmann::json());
  return value.is_string() ? value.get<std::string>() : "";
}

std::string VersionLabel(const nlohmann::json& object) {
  std::string version = Label(object, "app.kubernetes.io/version");
  if (version.empty()) version = Label(object, "serving.knative.dev/release");  // Knative before 1.0
  return version;
}

// Looks for one object; records it in `component` when it exists. Returns an error only for 401,
// which makes the whole command fail; other errors mark the component unknown.
std::optional<ApiError> Probe(KubeClient& client, ComponentInfo& component, const std::string& api_version,
                              const std::string& kind, const std::string& ns, const std::string& name,
                              const std::string& what) {
  KubeResult<ResourceRef> ref = client.Resolve(api_version, kind);
  if (!ref.ok()) {
    if (ref.error().IsUnauthorized()) return ref.error();
    if (!ref.error().IsNotFound() && component.state != ComponentState::kInstalled) {
      component.state = ComponentState::kUnknown;
      component.note = ref.error().ServerText();
    }
    return std::nullopt;
  }
  KubeResult<nlohmann::json> object = client.Get(*ref, ns, name);
  if (object.ok()) {
    component.state = ComponentState::kInstalled;
    component.found.push_back(what);
    if (component.version.empty()) component.version = VersionLabel(*object);
    return std::nullopt;
  }
  if (object.error().IsUnauthorized()) return object.error();
  if (!object.error().IsNotFound() && component.state != ComponentState::kInstalled) {
    component.state = ComponentState::kUnknown;
    component.note = object.error().ServerText();
  }
  return std::nullopt;
}

std::optional<ApiError> ProbeCrd(KubeClient& client, ComponentInfo& component, const std::string& crd) {
  return Probe(client, component, "apiextensions.k8s.io/v1", "CustomResourceDefinition", "", crd, "crd " + crd);
}

// Who the server thinks we are. "not served" on servers older than SelfSubjectReview.
std::optional<ApiError> Identify(KubeClient& client, ClusterIdentity& identity) {
  for (const char* version : {"authentication.k8s.io/v1", "authentication.k8s.io/v1beta1",
                              "authentication.k8s.io/v1alpha1"}) {
    KubeResult<ResourceRef> ref = client.Resolve(version, "SelfSubjectReview");
    if (!ref.ok()) {
      if (ref.error().IsNotFound()) continue;
      return ref.error();
    }
    nlohmann::json review = {{"apiVersion", version}, {"kind", "SelfSubjectReview"}};
    KubeResult<nlohmann::json> answer = client.SendJson({.method = "POST",
                                                          .path = KubeClient::ResourcePath(*ref, ""),
                                                          .body = review.dump(),
                                                          .what = "create selfsubjectreviews." + ref->group});
    if (!answer.ok()) {
      if (answer.error().IsUnauthorized()) return answer.error();
      identity.note = answer.error().ServerText();
      return std::nullopt;
    }
    const nlohmann::json user = answer->value("status", nlohmann::json::object()).value("userInfo", nlohmann::json::object());
    identity.served = true;
    identity.username = user.value("username", "");
    for (const auto& group : user.value("groups", nlohmann::json::array()))
      if (group.is_string()) identity.groups.push_back(group.get<std::string>());
    return std::nullopt;
  }
  identity.note = "not served (SelfSubjectReview needs Kubernetes 1.26 or later)";
  return std::nullopt;
}

}  // namespace

const char* ComponentStateName(ComponentState state) {
  switch (state) {
    case ComponentState::kInstalled: return "installed";
    case ComponentState::kNotInstalled: return "not installed";
    case ComponentState::kUnknown: return "unknown";
  }
  return "?";
}

KubeResult<ClusterInfo> GatherClusterInfo(KubeClient& client) {
  const ClusterConfig& config = client.config();
  ClusterInfo info{.server = config.server,
                   .context = config.context_name,
                   .source = config.source,
                   .default_namespace = config.namespace_name};
  KubeResult<nlohmann::json> version = client.SendJson({.path = "/version", .what = "GET /version"});
  if (!version.ok()) return version.error();
  if (version->is_object()) {
    info.git_version = version->value("gitVersion", "");
    info.platform = version->value("platform", "");
  }
  KubeResult<std::vector<ResourceRef>> discovery = client.RefreshDiscovery();
  if (!discovery.ok()) return discovery.error();
  if (auto failure = Identify(client, info.identity)) return *failure;

  ComponentInfo serving{.name = "knative-serving"}, istio{.name = "istio"}, kourier{.name = "kourier"};
  std::optional<ApiError> failure = ProbeCrd(client, serving, "services.serving.knative.dev");
  if (!failure) failure = ProbeCrd(client, istio, "virtualservices.networking.istio.io");
  if (!failure) failure = ProbeCrd(client, istio, "gateways.networking.istio.io");
  if (!failure) failure = Probe(client, kourier, "v1", "Namespace", "", "kourier-system", "namespace kourier-system");
  if (!failure)
    failure = Probe(client, kourier, "apps/v1", "Deployment", "knative-serving", "net-kourier-controller",
                    "deployment knative-serving/net-kourier-controller");
  if (failure) return *failure;
  info.components = {serving, istio, kourier};
  return info;
}

std::string ClusterFailureReason(const ApiError& error, const ClusterConfig& config) {
  std::string where = "the API server " + config.server + (config.source.empty() ? "" : " (" + config.source + ")");
  if (error.is_transport) {
    if (error.transport.code() == StatusCode::kTls)
      return "TLS verification of " + where + " failed: " + error.transport.message() +
             " (check certificate-authority and tls-server-name)";
    if (error.transport.code() == StatusCode::kUnavailable || error.transport.code() == StatusCode::kNotFound)
      return "cannot reach " + where + ": " + error.transport.message();
    return "cannot talk to " + where + ": " + error.transport.message();
  }
  if (error.IsUnauthorized())
    return "Unauthorized: " + where + " rejected the credentials (" + error.ServerText() + ")";
  if (error.IsForbidden()) return "Forbidden: " + error.ToString();
  return error.ToString();
}

nlohmann::json ClusterInfoJson(const ClusterInfo& info) {
  nlohmann::json identity = {{"served", info.identity.served}};
  if (info.identity.served) {
    identity["username"] = info.identity.username;
    identity["groups"] = info.identity.groups;
  } else {
    identity["note"] = info.identity.note;
  }
  nlohmann::json components = nlohmann::json::array();
  for (const ComponentInfo& c : info.components) {
    nlohmann::json entry = {{"name", c.name},
                            {"state", ComponentStateName(c.state)},
                            {"installed", c.state == ComponentState::kInstalled},
                            {"found", c.found}};
    if (!c.version.empty()) entry["version"] = c.version;
    if (!c.note.empty()) entry["note"] = c.note;
    components.push_back(std::move(entry));
  }
  return {{"server", info.server},
          {"context", info.context},
          {"source", info.source},
          {"namespace", info.default_namespace},
          {"version", {{"gitVersion", info.git_version}, {"platform", info.platform}}},
          {"identity", identity},
          {"components", components}};
}

}  // namespace ferry::installer
