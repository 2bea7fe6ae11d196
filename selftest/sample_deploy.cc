// Applies a built-in sample Knative Service and waits for it to be Ready.
#include "selftest/sample_deploy.h"

#include <thread>

#include "installer/readiness.h"
#include "installer/yaml_json.h"
#include "samples/builtin_samples.h"

namespace ferry::selftest {
namespace {

using nlohmann::json;

constexpr const char* kServingGroup = "serving.knative.dev";

json* FirstContainer(json& service) {
  json& containers = service["spec"]["template"]["spec"]["containers"];
  return containers.is_array() && !containers.empty() ? &containers[0] : nullptr;
}

// "https://x.ns.example.com" -> "x.ns.example.com".
std::string HostOf(const std::string& url) {
  size_t start = url.find("://");
  std::string host = start == std::string::npos ? url : url.substr(start + 3);
  return host.substr(0, host.find('/'));
}

}  // namespace

Result<std::string> ServedServiceApiVersion(installer::KubeClient& client) {
  for (const char* version : {"v1", "v1alpha1"}) {
    std::string api_version = std::string(kServingGroup) + "/" + version;
    if (client.Resolve(api_version, "Service").ok()) return api_version;
  }
  return NotFound(std::string("the cluster serves no Knative Service (") + kServingGroup +
                  "/v1 or v1alpha1): is Knative Serving installed? (ferry cluster info)");
}

Result<json> SampleService(std::string_view name, std::string_view api_version, const std::string& ns,
                           const std::string& image) {
  const EmbeddedSample* sample = FindSample(name, api_version);
  if (sample == nullptr)
    return NotFound("no built-in sample " + std::string(name) + " for " + std::string(api_version) +
                    " (samples: " + SampleNames() + ")");
  Result<installer::JsonDocument> doc =
      installer::YamlDocumentToJson(sample->text, "samples/" + std::string(sample->path) + ".yaml");
  if (!doc.ok()) return doc.status();
  json service = std::move(doc->value);
  service["metadata"]["namespace"] = ns;
  json* container = FirstContainer(service);
  if (container == nullptr) return Internal("sample " + std::string(sample->path) + " has no container");
  if (!image.empty()) (*container)["image"] = image;
  return service;
}

std::string SampleImage(const json& service) {
  json copy = service;
  const json* container = FirstContainer(copy);
  return container ? container->value("image", "") : "";
}

std::string SampleTarget(const json& service) {
  json copy = service;
  const json* container = FirstContainer(copy);
  if (container == nullptr) return "";
  for (const json& env : container->value("env", json::array()))
    if (env.value("name", "") == "TARGET") return env.value("value", "");
  return "";
}

Result<DeployedSample> DeploySample(installer::KubeClient& client, const json& service,
                                    const DeployTimeouts& timeouts) {
  const std::string name = service["metadata"]["name"];
  const std::string ns = service["metadata"]["namespace"];
  installer::KubeResult<installer::ResourceRef> ref =
      client.Resolve(service["apiVersion"].get<std::string>(), "Service");
  if (!ref.ok()) return ref.status();
  installer::ApplyOptions apply;
  apply.force = true;  // a Service left by an earlier --keep run is ours to change
  if (installer::KubeResult<json> applied = client.Apply(*ref, ns, service, apply); !applied.ok())
    return applied.status();

  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + timeouts.ready;
  std::string last = "not read yet";
  bool reconciled = false;
  while (true) {
    installer::KubeResult<json> current = client.Get(*ref, ns, name);
    if (current.ok()) {
      const json status = current->value("status", json::object());
      reconciled = reconciled || status.contains("observedGeneration") || status.contains("conditions");
      installer::Readiness readiness = installer::ReadinessOf(*current);
      last = readiness.message.empty() ? installer::ReadyStateName(readiness.state) : readiness.message;
      if (reconciled && readiness.state == installer::ReadyState::kCurrent) {
        std::string url = status.value("url", "");
        DeployedSample deployed{name, HostOf(url.empty() ? status.value("domain", "") : url),
                                status.value("latestReadyRevisionName", "")};
        if (!deployed.host.empty() && !deployed.revision.empty()) return deployed;
        last = "Ready, but status.url/domain or latestReadyRevisionName is empty";
      }
      if (readiness.state == installer::ReadyState::kFailed) break;
    } else {
      last = current.error().ToString();
    }
    if (!reconciled && std::chrono::steady_clock::now() >= started + timeouts.reconcile)
      return FailedPrecondition("Knative Serving is not running: nothing reconciled Service " + ns + "/" + name +
                                " within " + std::to_string(timeouts.reconcile.count() / 1000) +
                                " s (it has no status)");
    if (std::chrono::steady_clock::now() >= deadline) break;
    std::this_thread::sleep_for(timeouts.poll_interval);
  }
  return Unavailable("Knative Service " + ns + "/" + name + " not Ready after " +
                     std::to_string(timeouts.ready.count() / 1000) + " s: " + last);
}

std::string KnativeControllerPods(installer::KubeClient& client) {
  installer::KubeResult<installer::ResourceRef> pods = client.Resolve("v1", "Pod");
  if (!pods.ok()) return "the cluster does not serve pods";
  installer::KubeResult<json> list = client.List(*pods, "knative-serving", {.label_selector = "app=controller"});
  if (!list.ok()) return "cannot list the controller pods in knative-serving: " + list.error().ServerText();
  std::string out;
  for (const json& pod : (*list)["items"]) {
    const json status = pod.value("status", json::object());
    bool ready = false;
    for (const json& c : status.value("conditions", json::array()))
      if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
    out += (out.empty() ? "" : ", ") + std::string("knative-serving/") + pod["metadata"].value("name", "") + " (" +
           status.value("phase", "no phase") + (ready ? ", ready" : ", not ready") + ")";
  }
  return out.empty() ? "no pod with label app=controller in knative-serving (is its Deployment there?)" : out;
}

}  // namespace ferry::selftest
