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

// "k=v,k2=v2" for a map of labels.
std::string SelectorText(const json& labels) {
  std::string out;
  if (labels.is_object())
    for (const auto& [k, v] : labels.items())
      if (v.is_string()) out += (out.empty() ? "" : ",") + k + "=" + v.get<std::string>();
  return out;
}

std::string LabelSelector(const json& workload) {
  std::string out = SelectorText(At(At(At(workload, "spec"), "selector"), "matchLabels"));
  if (out.empty() && Str(workload, "kind") == "Job") out = "job-name=" + Str(At(workload, "metadata"), "name");
  return out;
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

std::vector<std::string> DiagnosePod(const json& pod, const std::vector<json>& events, const PodLogs& logs,
                                     bool starting_counts) {
  std::vector<std::string> out;
  const json& status = At(pod, "status");
  std::string name = "pod " + PodName(pod);
  auto last_lines = [&](const std::string& container, bool previous) {
    std::string tail = logs ? logs(container, previous) : "";
    return tail.empty() ? std::string(": no log lines available") : ", last log lines:" + Indent(tail);
  };
  for (const char* field : {"initContainerStatuses", "containerStatuses"}) {
    const json& list = At(status, field);
    if (!list.is_array()) continue;
    for (const json& c : list) {
      const json& state = At(c, "state");
      const json& waiting = At(state, "waiting");
      const json& terminated = At(state, "terminated");
      std::string container = Str(c, "name"), image = Str(c, "image");
      int restarts = At(c, "restartCount").is_number() ? At(c, "restartCount").get<int>() : 0;
      std::string restarted = " (" + std::to_string(restarts) + " restarts)";
      std::string head = name + " container " + container + ": ";
      if (waiting.is_object()) {
        std::string reason = Str(waiting, "reason");
        head += reason;
        if (reason == "ImagePullBackOff" || reason == "ErrImagePull" || reason == "InvalidImageName") {
          out.push_back(head + ": image " + image + " cannot be pulled: " + PullMessage(image, waiting, events));
        } else if (reason == "CrashLoopBackOff") {
          out.push_back(head + restarted + last_lines(container, true));
        } else if (reason != "ContainerCreating" && reason != "PodInitializing") {
          std::string message = Str(waiting, "message");
          out.push_back(head + (message.empty() ? "" : ": " + message));
        }
      } else if (terminated.is_object() && At(terminated, "exitCode") != 0) {
        // Caught between a crash and the kubelet's back-off.
        int code = At(terminated, "exitCode").is_number() ? At(terminated, "exitCode").get<int>() : -1;
        out.push_back(head + "exited with status " + std::to_string(code) + " (" + Str(terminated, "reason") + ")" +
                      (restarts > 0 ? restarted : "") + last_lines(container, false));
      } else if (At(state, "running").is_object() && At(c, "ready") == false) {
        std::string probe;
        for (auto it = events.rbegin(); it != events.rend() && probe.empty(); ++it)
          if (Str(*it, "reason") == "Unhealthy") probe = ": " + Str(*it, "message");
        if (probe.empty() && !starting_counts) continue;  // most likely still starting
        out.push_back(head + "running, not ready" + (restarts > 0 ? restarted : "") +
                      (probe.empty() ? ": its readiness probe has not passed yet" : probe));
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

namespace {

// Reads pods and events for the diagnoses below; events are listed once per namespace, and any
// error reading becomes a finding of its own.
class PodInspector {
 public:
  PodInspector(KubeClient& client, Deadline deadline, std::vector<std::string>& out)
      : client_(client), deadline_(deadline), out_(out) {
    KubeResult<ResourceRef> pods = client.Resolve("v1", "Pod");
    KubeResult<ResourceRef> events = client.Resolve("v1", "Event");
    if (pods.ok() && events.ok()) {
      pods_ = *pods;
      events_ = *events;
      ok_ = true;
    } else {
      out_.push_back("cannot read pods or events: the server does not serve them");
    }
  }

  bool ok() const { return ok_; }

  const std::vector<json>& EventsIn(const std::string& ns) {
    auto it = events_by_ns_.find(ns);
    if (it != events_by_ns_.end()) return it->second;
    std::vector<json>& list = events_by_ns_[ns];
    KubeResult<json> answer = client_.List(events_, ns, {.deadline = deadline_});
    if (answer.ok())
      for (const json& e : (*answer)["items"]) list.push_back(e);
    else
      out_.push_back("cannot list events in namespace " + ns + ": " + answer.error().ServerText());
    return list;
  }

  // One line per problem of each pod `selector` matches in `ns`, indented; `none` when no pod
  // matches at all (empty: say nothing). `starting_counts` as for DiagnosePod.
  void Pods(const std::string& ns, const std::string& selector, const std::string& what, const std::string& none,
            bool starting_counts = true) {
    KubeResult<json> pods = client_.List(pods_, ns, {.label_selector = selector, .deadline = deadline_});
    if (!pods.ok()) {
      out_.push_back("  cannot list the pods of " + what + ": " + pods.error().ServerText());
      return;
    }
    if ((*pods)["items"].empty() && !none.empty()) out_.push_back("  " + none);
    const std::vector<json>& events = EventsIn(ns);
    for (const json& pod : (*pods)["items"]) {
      std::string pod_name = Str(At(pod, "metadata"), "name");
      std::vector<json> about;
      for (const json& e : events)
        if (Str(At(e, "involvedObject"), "name") == pod_name) about.push_back(e);
      auto logs = [&](const std::string& container, bool previous) {
        RawRequest request{.method = "GET",
                           .path = "/api/v1/namespaces/" + ns + "/pods/" + pod_name + "/log?tailLines=5" +
                                   (previous ? "&previous=true" : "") + "&container=" + container,
                           // kubectl's Accept: a real server refuses text/plain alone (406).
                           .accept = "application/json, */*", .deadline = deadline_};
        KubeResult<HttpResponse> answer = client_.Send(request);
        return answer.ok() ? answer->body : std::string();
      };
      for (std::string& line : DiagnosePod(pod, about, logs, starting_counts)) out_.push_back("  " + line);
    }
  }

 private:
  KubeClient& client_;
  Deadline deadline_;
  std::vector<std::string>& out_;
  ResourceRef pods_, events_;
  bool ok_ = false;
  std::map<std::string, std::vector<json>> events_by_ns_;
};

// The webhook an apply error names: `failed calling webhook "NAME"`.
std::string WebhookNamed(const std::string& error) {
  for (const char* lead : {"failed calling webhook \"", "failed calling admission webhook \""}) {
    size_t at = error.find(lead);
    if (at == std::string::npos) continue;
    at += std::string(lead).size();
    size_t end = error.find('"', at);
    if (end != std::string::npos) return error.substr(at, end - at);
  }
  return "";
}

}  // namespace

std::vector<std::string> DiagnoseUnready(KubeClient& client, const WaitOutcome& outcome,
                                         const std::vector<std::string>& namespaces, Deadline deadline) {
  std::vector<std::string> out;
  PodInspector inspector(client, deadline, out);
  if (!inspector.ok()) return out;
  for (size_t i = 0; i < outcome.pending.size(); ++i) {
    out.push_back("not ready: " + outcome.pending[i].message);
    const ManifestObject& m = outcome.pending_manifests[i];
    const json& live = outcome.pending_objects[i];
    for (std::string& line : DiagnoseLoadBalancer(live)) out.push_back("  " + line);
    if (!IsWorkloadKey(m.key) || live.is_null()) continue;
    inspector.Pods(m.key.ns, LabelSelector(live), m.key.ToString(), "");
  }
  std::vector<std::string> warnings;
  for (const std::string& ns : namespaces) {
    std::vector<std::string> lines = WarningEventLines(inspector.EventsIn(ns), 5, out);
    warnings.insert(warnings.end(), lines.begin(), lines.end());
  }
  if (!warnings.empty()) out.push_back("recent warnings:");
  for (const std::string& w : warnings) out.push_back("  " + w);
  return out;
}

std::vector<std::string> WorkloadPodProblems(KubeClient& client, const std::vector<ManifestObject>& objects,
                                             const std::vector<json>& live, Deadline deadline) {
  std::vector<std::string> out;
  PodInspector inspector(client, deadline, out);
  if (!inspector.ok()) return out;
  for (size_t i = 0; i < objects.size() && i < live.size(); ++i)
    if (IsWorkloadKey(objects[i].key) && !live[i].is_null())
      inspector.Pods(objects[i].key.ns, LabelSelector(live[i]), objects[i].key.ToString(), "",
                     /*starting_counts=*/false);
  for (std::string& line : out)
    if (line.starts_with("  ")) line.erase(0, 2);
  return out;
}

std::vector<std::string> DiagnoseWebhook(KubeClient& client, const std::string& error, Deadline deadline) {
  std::vector<std::string> out;
  const std::string name = WebhookNamed(error);
  if (name.empty()) return out;
  json client_config;
  std::string configuration;
  for (const char* kind : {"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"}) {
    KubeResult<ResourceRef> ref = client.Resolve("admissionregistration.k8s.io/v1", kind);
    if (!ref.ok()) continue;
    KubeResult<json> list = client.List(*ref, "", {.deadline = deadline});
    if (!list.ok()) continue;
    for (const json& item : (*list)["items"])
      for (const json& hook : At(item, "webhooks"))
        if (Str(hook, "name") == name && client_config.is_null()) {
          client_config = At(hook, "clientConfig");
          configuration = std::string(kind) + " " + Str(At(item, "metadata"), "name");
        }
  }
  if (client_config.is_null()) {
    out.push_back("webhook " + name + ": no webhook configuration of that name is on the cluster");
    return out;
  }
  const json& service = At(client_config, "service");
  if (!service.is_object()) {
    out.push_back("webhook " + name + " (" + configuration + ") calls " + Str(client_config, "url"));
    return out;
  }
  std::string ns = Str(service, "namespace"), svc = Str(service, "name");
  std::string head = "webhook " + name + " (" + configuration + ") calls Service " + ns + "/" + svc;
  KubeResult<ResourceRef> services = client.Resolve("v1", "Service");
  KubeResult<json> live = services.ok() ? client.Get(*services, ns, svc, deadline) : KubeResult<json>(services.error());
  if (!live.ok()) {
    out.push_back(head + ": " + (live.error().IsNotFound() ? "that Service does not exist" : live.error().ServerText()));
    return out;
  }
  std::string selector = SelectorText(At(At(*live, "spec"), "selector"));
  std::string ca = Str(client_config, "caBundle");
  out.push_back(head + (selector.empty() ? " (no selector)" : " (pods " + selector + ")") +
                (ca.empty() ? "; its caBundle is empty: the webhook has not written its CA yet" : ""));
  if (selector.empty()) return out;
  PodInspector inspector(client, deadline, out);
  if (inspector.ok())
    inspector.Pods(ns, selector, "Service " + ns + "/" + svc,
                   "no pod matches " + selector + " in " + ns + ": the webhook's Deployment is missing or has no pods");
  return out;
}

}  // namespace ferry::installer
