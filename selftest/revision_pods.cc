// Counts a revision's pods and explains why a Knative Service's pods are not serving.
#include "selftest/revision_pods.h"

#include <nlohmann/json.hpp>

#include <vector>

#include "installer/failure_report.h"

namespace ferry::selftest {
namespace {

using nlohmann::json;

bool PodReady(const json& pod) {
  const json status = pod.value("status", json::object());
  if (status.value("phase", "") != "Running") return false;
  for (const json& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

installer::KubeResult<json> ListPods(installer::KubeClient& client, const std::string& ns,
                                     const std::string& selector) {
  installer::KubeResult<installer::ResourceRef> ref = client.Resolve("v1", "Pod");
  if (!ref.ok()) return ref.error();
  installer::ListOptions options;
  options.label_selector = selector;
  return client.List(*ref, ns, options);
}

}  // namespace

installer::KubeResult<PodCount> CountRevisionPods(installer::KubeClient& client, const std::string& ns,
                                                  const std::string& revision) {
  installer::KubeResult<json> pods = ListPods(client, ns, "serving.knative.dev/revision=" + revision);
  if (!pods.ok()) return pods.error();
  PodCount count;
  for (const json& pod : pods->value("items", json::array())) {
    if (pod["metadata"].contains("deletionTimestamp")) continue;
    ++count.present;
    if (PodReady(pod)) ++count.ready;
  }
  return count;
}

std::string DiagnoseServicePods(installer::KubeClient& client, const std::string& ns, const std::string& service) {
  installer::KubeResult<json> pods = ListPods(client, ns, "serving.knative.dev/service=" + service);
  if (!pods.ok()) return "could not list the pods of " + service + ": " + pods.error().ToString();
  std::vector<json> events;
  if (installer::KubeResult<installer::ResourceRef> ref = client.Resolve("v1", "Event"); ref.ok()) {
    if (installer::KubeResult<json> list = client.List(*ref, ns); list.ok())
      for (const json& e : list->value("items", json::array())) events.push_back(e);
  }
  std::string out;
  for (const json& pod : pods->value("items", json::array()))
    for (const std::string& line : installer::DiagnosePod(pod, events, nullptr))
      out += (out.empty() ? "" : "; ") + line;
  return out;
}

}  // namespace ferry::selftest
