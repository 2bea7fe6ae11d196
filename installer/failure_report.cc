// Diagnosing an install that did not become ready; see failure_report.h.
#include "installer/failure_report.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>

namespace ferry::installer {
namespace {

using nlohmann::json;

const json& At(const json& j, const char* key) {
  static const json kNull;
  return j.is_object() && j.contains(key) ? j[key] : kNull;
}

std::string Str(const json& j, const char* key) {
  const json& v = At(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

std::string PodName(const json& pod) {
  const json& m = At(pod, "metadata");
  return Str(m, "namespace") + "/" + Str(m, "name");
}

// The kubelet's pull failure for `image`, from the pod's events ("Failed to pull image ...").
std::string PullMessage(const std::string& image, const json& waiting, const std::vector<json>& events) {
  std::string message = Str(waiting, "message");
  if (message.starts_with("Failed to pull image")) return message;
  std::string wanted = "Failed to pull image \"" + image + "\"";
  for (auto it = events.rbegin(); it != events.rend(); ++it)
    if (Str(*it, "message").starts_with(wanted)) return Str(*it, "message");
  return message;
}

std::string Indent(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    out += "\n    | " + text.substr(start, end - start);
    start = end + 1;
  }
  return out;
}

std::string LabelSelector(const json& workload) {
  const json& labels = At(At(At(workload, "spec"), "selector"), "matchLabels");
  std::string out;
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  if (out.empty() && Str(workload, "kind") == "Job") out = "job-name=" + Str(At(workload, "metadata"), "name");
  return out;
}

bool IsWorkload(const ObjectKey& key) {
  return ((key.group == "apps" || key.group == "extensions") &&
          (key.kind == "Deployment" || key.kind == "StatefulSet" || key.kind == "DaemonSet")) ||
         (key.group == "batch" && key.kind == "Job");
}

// The Service port that carries plain HTTP, as the self-test's gateway finder picks it.
const json* HttpPort(const json& service) {
  const json& ports = At(At(service, "spec"), "ports");
  if (!ports.is_array() || ports.empty()) return nullptr;
  for (const json& p : ports)
    if (At(p, "port") == 80) return &p;
  for (const json& p : ports)
    if (Str(p, "name") == "http" || Str(p, "name") == "http2") return &p;
  return &ports[0];
}

}  // namespace

std::vector<std::string> DiagnoseLoadBalancer(const json& service) {
  if (Str(service, "kind") != "Service" || Str(At(service, "spec"), "type") != "LoadBalancer") return {};
  const json& ingress = At(At(At(service, "status"), "loadBalancer"), "ingress");
  if (ingress.is_array() && !ingress.empty()) return {};
  std::string reach = "reach it through its NodePort on a node's address";
  if (const json* port = HttpPort(service); port && At(*port, "nodePort").is_number_integer()) {
    reach = "reach it at a node's address on NodePort " + std::to_string(At(*port, "nodePort").get<int>()) +
            " (its port " + std::to_string(At(*port, "port").is_number_integer() ? At(*port, "port").get<int>() : 0) +
            ")";
  }
  const json& meta = At(service, "metadata");
  return {"Service " + Str(meta, "namespace") + "/" + Str(meta, "name") +
          " has no LoadBalancer address: the cluster may have no load-balancer controller (kind, bare metal); "
          "install with --no-wait-load-balancer and " + reach};
}

std::vector<std::string> DiagnosePod(const json& pod, const std::vector<json>& events,
                                     const std::function<std::string(const std::string&)>& logs) {
  std::vector<std::string> out;
  const json& status = At(pod, "status");
  std::string name = "pod " + PodName(pod);
  for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
    const json& list = At(status, field);
    if (!list.is_array()) continue;
    for (const json& c : list) {
      const json& waiting = At(At(c, "state"), "waiting");
      if (!waiting.is_object()) continue;
      std::string reason = Str(waiting, "reason"), container = Str(c, "name"), image = Str(c, "image");
      std::string head = name + " container " + container + ": " + reason;
      if (reason == "ImagePullBackOff" || reason == "ErrImagePull" || reason == "InvalidImageName") {
        out.push_back(head + ": image " + image + " cannot be pulled: " + PullMessage(image, waiting, events));
      } else if (reason == "CrashLoopBackOff") {
        std::string tail = logs ? logs(container) : "";
        int restarts = At(c, "restartCount").is_number() ? At(c, "restartCount").get<int>() : 0;
        out.push_back(head + " (" + std::to_string(restarts) + " restarts)" +
                      (tail.empty() ? ": no log lines available" : ", last log lines:" + Indent(tail)));
      } else if (reason != "ContainerCreating" && reason != "PodInitializing") {
        std::string message = Str(waiting, "message");
        out.push_back(head + (message.empty() ? "" : ": " + message));
      }
    }
  }
  if (out.empty() && Str(status, "phase") == "Pending") {
    const json& conditions = At(status, "conditions");
    if (conditions.is_array())
      for (const json& c : conditions)
        if (Str(c, "type") == "PodScheduled" && Str(c, "status") == "False")
          out.push_back(name + ": Pending, not scheduled: " + Str(c, "reason") + ": " + Str(c, "message"));
  }
  return out;
}

std::vector<std::string> WarningEventLines(const std::vector<json>& events, size_t limit,
                                           const std::vector<std::string>& seen) {
  std::vector<const json*> warnings;
  for (const json& e : events)
    if (Str(e, "type") == "Warning") warnings.push_back(&e);
  auto when = [](const json* e) {
    std::string t = Str(*e, "lastTimestamp");
    return t.empty() ? Str(*e, "eventTime") : t;
  };
  std::stable_sort(warnings.begin(), warnings.end(), [&](const json* a, const json* b) { return when(a) < when(b); });
  std::vector<std::string> out;
  std::set<std::string> shown;
  for (auto it = warnings.rbegin(); it != warnings.rend() && out.size() < limit; ++it) {
    std::string message = Str(**it, "message");
    bool known = std::any_of(seen.begin(), seen.end(), [&](const std::string& s) { return s.find(message) != std::string::npos; });
    if (message.empty() || known || !shown.insert(message).second) continue;
    const json& involved = At(**it, "involvedObject");
    out.push_back("Warning " + Str(**it, "reason") + " " + Str(involved, "kind") + " " + Str(involved, "namespace") +
                  "/" + Str(involved, "name") + ": " + message);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> DiagnoseUnready(KubeClient& client, const WaitOutcome& outcome,
                                         const std::vector<std::string>& namespaces, Deadline deadline) {
  std::vector<std::string> out;
  KubeResult<ResourceRef> pods_ref = client.Resolve("v1", "Pod");
  KubeResult<ResourceRef> events_ref = client.Resolve("v1", "Event");
  if (!pods_ref.ok() || !events_ref.ok()) return {"cannot read pods or events: the server does not serve them"};
  std::map<std::string, std::vector<json>> events_by_ns;
  auto events_in = [&](const std::string& ns) -> const std::vector<json>& {
    auto it = events_by_ns.find(ns);
    if (it != events_by_ns.end()) return it->second;
    std::vector<json>& list = events_by_ns[ns];
    KubeResult<json> answer = client.List(*events_ref, ns, {.deadline = deadline});
    if (answer.ok())
      for (const json& e : (*answer)["items"]) list.push_back(e);
    else
      out.push_back("cannot list events in namespace " + ns + ": " + answer.error().ServerText());
    return list;
  };
  for (size_t i = 0; i < outcome.pending.size(); ++i) {
    out.push_back("not ready: " + outcome.pending[i].message);
    const ManifestObject& m = outcome.pending_manifests[i];
    const json& live = outcome.pending_objects[i];
    for (std::string& line : DiagnoseLoadBalancer(live)) out.push_back("  " + line);
    if (!IsWorkload(m.key) || live.is_null()) continue;
    std::string selector = LabelSelector(live);
    KubeResult<json> pods = client.List(*pods_ref, m.key.ns, {.label_selector = selector, .deadline = deadline});
    if (!pods.ok()) {
      out.push_back("cannot list the pods of " + m.key.ToString() + ": " + pods.error().ServerText());
      continue;
    }
    const std::vector<json>& events = events_in(m.key.ns);
    for (const json& pod : (*pods)["items"]) {
      std::string pod_name = Str(At(pod, "metadata"), "name");
      std::vector<json> about;
      for (const json& e : events)
        if (Str(At(e, "involvedObject"), "name") == pod_name) about.push_back(e);
      auto logs = [&](const std::string& container) {
        RawRequest request{.method = "GET",
                           .path = "/api/v1/namespaces/" + m.key.ns + "/pods/" + pod_name +
                                   "/log?tailLines=5&previous=true&container=" + container,
                           .accept = "text/plain", .deadline = deadline};
        KubeResult<HttpResponse> answer = client.Send(request);
        return answer.ok() ? answer->body : std::string();
      };
      for (std::string& line : DiagnosePod(pod, about, logs)) out.push_back("  " + line);
    }
  }
  std::vector<std::string> warnings;
  for (const std::string& ns : namespaces) {
    std::vector<std::string> lines = WarningEventLines(events_in(ns), 5, out);
    warnings.insert(warnings.end(), lines.begin(), lines.end());
  }
  if (!warnings.empty()) out.push_back("recent warnings:");
  for (const std::string& w : warnings) out.push_back("  " + w);
  return out;
}

}  // namespace ferry::installer
