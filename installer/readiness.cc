// Readiness rules per kind; see readiness.h for the rules and where they differ from kstatus.
#include "installer/readiness.h"

#include <algorithm>
#include <cstdint>
#include <optional>

#include "installer/manifest_objects.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

std::optional<int64_t> IntAt(const json& object, const char* key) {
  const json& value = FieldOf(object, key);
  if (value.is_number_integer()) return value.get<int64_t>();
  return std::nullopt;
}

struct Condition {
  std::string status, reason, message;
};

std::optional<Condition> FindCondition(const json& object, const std::string& type) {
  const json& conditions = FieldOf(FieldOf(object, "status"), "conditions");
  if (!conditions.is_array()) return std::nullopt;
  for (const json& c : conditions) {
    if (StringField(c, "type") == type)
      return Condition{StringField(c, "status"), StringField(c, "reason"), StringField(c, "message")};
  }
  return std::nullopt;
}

bool ConditionIs(const json& object, const std::string& type, const std::string& status) {
  auto c = FindCondition(object, type);
  return c && c->status == status;
}

// " (reason: message)", or less when those are empty.
std::string Detail(const Condition& c) {
  if (c.reason.empty() && c.message.empty()) return "";
  if (c.message.empty()) return " (" + c.reason + ")";
  if (c.reason.empty()) return " (" + c.message + ")";
  return " (" + c.reason + ": " + c.message + ")";
}

class Rules {
 public:
  Rules(const json& object, const ReadinessOptions& options)
      : object_(object),
        options_(options),
        status_(FieldOf(object, "status")),
        spec_(FieldOf(object, "spec")),
        key_(KeyOf(object)),
        prefix_(key_.ToString() + ": ") {}

  Readiness Compute() {
    if (auto generic = Generic()) return *generic;
    const std::string& kind = key_.kind;
    const std::string& group = key_.group;
    bool apps = group == "apps" || group == "extensions";
    if (apps && kind == "Deployment") return Deployment();
    if (apps && kind == "StatefulSet") return StatefulSet();
    if (apps && kind == "DaemonSet") return DaemonSet();
    if (group == "batch" && kind == "Job") return Job();
    if (group == "apiextensions.k8s.io" && kind == "CustomResourceDefinition") return Crd();
    if (group == "apiregistration.k8s.io" && kind == "APIService") return ApiService();
    if (group.empty() && kind == "Service") return Service();
    if (group.empty() && kind == "Pod") return Pod();
    if (group.empty() && kind == "PersistentVolumeClaim") return Pvc();
    return ReadyCondition();
  }

 private:
  Readiness Current(const std::string& what) { return {ReadyState::kCurrent, prefix_ + what}; }
  Readiness InProgress(const std::string& what) { return {ReadyState::kInProgress, prefix_ + what}; }
  Readiness Failed(const std::string& what) { return {ReadyState::kFailed, prefix_ + what}; }

  int64_t Count(const char* field) { return IntAt(status_, field).value_or(0); }

  static std::string Of(int64_t have, int64_t want, const std::string& what) {
    return std::to_string(have) + " of " + std::to_string(want) + " " + what;
  }

  std::optional<Readiness> Generic() {
    if (!FieldOf(FieldOf(object_, "metadata"), "deletionTimestamp").is_null())
      return Readiness{ReadyState::kTerminating, prefix_ + "being deleted"};
    auto observed = IntAt(status_, "observedGeneration");
    auto generation = IntAt(FieldOf(object_, "metadata"), "generation");
    if (observed && generation && *observed != *generation) {
      return InProgress("generation " + std::to_string(*generation) +
                        " not yet observed by its controller (observed " + std::to_string(*observed) + ")");
    }
    if (auto c = FindCondition(object_, "Reconciling"); c && c->status == "True")
      return InProgress("reconciling" + Detail(*c));
    if (auto c = FindCondition(object_, "Stalled"); c && c->status == "True")
      return Failed("stalled" + Detail(*c));
    return std::nullopt;
  }

  Readiness Deployment() {
    if (auto c = FindCondition(object_, "Progressing"); c && c->reason == "ProgressDeadlineExceeded")
      return Failed("progress deadline exceeded" + Detail(*c));
    int64_t want = IntAt(spec_, "replicas").value_or(1);
    int64_t replicas = Count("replicas"), updated = Count("updatedReplicas");
    int64_t ready = Count("readyReplicas"), available = Count("availableReplicas");
    if (want > available || want > ready)
      return InProgress(Of(std::min(available, ready), want, "replicas available"));
    if (want > updated) return InProgress(Of(updated, want, "replicas updated"));
    if (replicas > want)
      return InProgress(std::to_string(replicas - want) + " old replicas still terminating");
    if (updated > available) return InProgress(Of(available, updated, "updated replicas available"));
    auto progressing = FindCondition(object_, "Progressing");
    if (!progressing || progressing->status != "True" || progressing->reason != "NewReplicaSetAvailable")
      return InProgress("rollout not finished (new ReplicaSet not yet available)");
    if (!ConditionIs(object_, "Available", "True")) return InProgress("condition Available is not True");
    return Current(Of(available, want, "replicas available"));
  }

  Readiness StatefulSet() {
    if (StringField(FieldOf(spec_, "updateStrategy"), "type") == "OnDelete")
      return Current("uses the OnDelete update strategy");
    int64_t want = IntAt(spec_, "replicas").value_or(1);
    int64_t replicas = Count("replicas"), ready = Count("readyReplicas");
    int64_t current = Count("currentReplicas"), updated = Count("updatedReplicas");
    if (want > replicas) return InProgress(Of(replicas, want, "replicas created"));
    if (want > ready) return InProgress(Of(ready, want, "replicas ready"));
    if (replicas > want)
      return InProgress(std::to_string(replicas - want) + " old replicas still terminating");
    auto partition = IntAt(FieldOf(FieldOf(spec_, "updateStrategy"), "rollingUpdate"), "partition");
    if (partition) {
      int64_t to_update = want > *partition ? want - *partition : 0;
      if (updated < to_update)
        return InProgress(Of(updated, to_update, "replicas above the partition updated"));
      return Current("partitioned rollout complete");
    }
    if (want > current) return InProgress(Of(current, want, "replicas at the current revision"));
    if (StringField(status_, "currentRevision") != StringField(status_, "updateRevision"))
      return InProgress("waiting for the update to revision " + StringField(status_, "updateRevision"));
    return Current(Of(ready, want, "replicas ready"));
  }

  Readiness DaemonSet() {
    // The controller always writes observedGeneration; without it nothing has been observed yet.
    if (!IntAt(status_, "observedGeneration")) return InProgress("not yet observed by its controller");
    auto desired = IntAt(status_, "desiredNumberScheduled");
    if (!desired) return InProgress("status.desiredNumberScheduled not reported yet");
    int64_t want = *desired;
    if (want > Count("currentNumberScheduled"))
      return InProgress(Of(Count("currentNumberScheduled"), want, "pods scheduled"));
    if (want > Count("updatedNumberScheduled"))
      return InProgress(Of(Count("updatedNumberScheduled"), want, "pods updated"));
    if (want > Count("numberAvailable"))
      return InProgress(Of(Count("numberAvailable"), want, "pods available"));
    if (want > Count("numberReady")) return InProgress(Of(Count("numberReady"), want, "pods ready"));
    return Current(Of(Count("numberReady"), want, "pods ready"));
  }

  Readiness Job() {
    int64_t succeeded = Count("succeeded"), failed = Count("failed"), active = Count("active");
    if (auto c = FindCondition(object_, "Failed"); c && c->status == "True")
      return Failed("failed after " + std::to_string(failed) + " failed pods" + Detail(*c));
    if (ConditionIs(object_, "Complete", "True")) return Current("complete");
    if (StringField(status_, "startTime").empty()) return InProgress("not started yet");
    return InProgress("running, not complete (" + std::to_string(active) + " active, " +
                      std::to_string(succeeded) + " succeeded, " + std::to_string(failed) + " failed)");
  }

  Readiness Crd() {
    if (auto c = FindCondition(object_, "NamesAccepted"); c && c->status == "False")
      return Failed("names not accepted" + Detail(*c));
    auto established = FindCondition(object_, "Established");
    if (established && established->status == "True") return Current("established");
    if (established && established->status == "False" && established->reason != "Installing")
      return Failed("not established" + Detail(*established));
    return InProgress("not yet Established");
  }

  Readiness ApiService() {
    auto c = FindCondition(object_, "Available");
    if (c && c->status == "True") return Current("available");
    return InProgress("condition Available is not True" + (c ? Detail(*c) : std::string()));
  }

  Readiness Service() {
    if (StringField(spec_, "type") != "LoadBalancer") return Current("service");
    const json& ingress = FieldOf(FieldOf(status_, "loadBalancer"), "ingress");
    if (ingress.is_array() && !ingress.empty()) {
      const json& first = ingress[0];
      std::string address =
          StringField(first, "ip").empty() ? StringField(first, "hostname") : StringField(first, "ip");
      return Current("load balancer at " + address);
    }
    if (!options_.wait_for_load_balancer) {
      Readiness r = Current("no LoadBalancer address");
      r.waived = true;
      return r;
    }
    return InProgress("waiting for a load balancer address (status.loadBalancer.ingress is empty)");
  }

  Readiness Pod() {
    std::string phase = StringField(status_, "phase");
    if (phase == "Succeeded") return Current("succeeded");
    if (phase == "Failed")
      return Failed("failed" + (StringField(status_, "reason").empty()
                                    ? ""
                                    : " (" + StringField(status_, "reason") + ")"));
    if (phase == "Running" && ConditionIs(object_, "Ready", "True")) return Current("running and ready");
    return InProgress("phase " + (phase.empty() ? std::string("unknown") : phase) + ", not ready");
  }

  Readiness Pvc() {
    std::string phase = StringField(status_, "phase");
    if (phase == "Bound") return Current("bound");
    return InProgress("not bound (phase " + (phase.empty() ? std::string("unknown") : phase) + ")");
  }

  Readiness ReadyCondition() {
    auto c = FindCondition(object_, "Ready");
    if (!c) return Current("no Ready condition to wait for");
    if (c->status == "True") return Current("Ready");
    return InProgress("Ready is " + (c->status.empty() ? std::string("unset") : c->status) + Detail(*c));
  }

  const json& object_;
  const ReadinessOptions& options_;
  const json& status_;
  const json& spec_;
  const ObjectKey key_;
  const std::string prefix_;
};

}  // namespace

const char* ReadyStateName(ReadyState state) {
  switch (state) {
    case ReadyState::kCurrent:
      return "Current";
    case ReadyState::kInProgress:
      return "InProgress";
    case ReadyState::kFailed:
      return "Failed";
    case ReadyState::kTerminating:
      return "Terminating";
  }
  return "Unknown";
}

Readiness ReadinessOf(const json& object, const ReadinessOptions& options) {
  return Rules(object, options).Compute();
}

bool HasReadinessRule(const json& object) {
  ObjectKey key = KeyOf(object);
  bool apps = key.group == "apps" || key.group == "extensions";
  if (apps && (key.kind == "Deployment" || key.kind == "StatefulSet" || key.kind == "DaemonSet")) return true;
  if (key.group == "batch" && key.kind == "Job") return true;
  if (key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition") return true;
  if (key.group == "apiregistration.k8s.io" && key.kind == "APIService") return true;
  if (key.group.empty() && (key.kind == "Pod" || key.kind == "PersistentVolumeClaim")) return true;
  if (key.group.empty() && key.kind == "Service")
    return StringField(FieldOf(object, "spec"), "type") == "LoadBalancer";
  return key.group == "knative.dev" || key.group.ends_with(".knative.dev");
}

}  // namespace ferry::installer
