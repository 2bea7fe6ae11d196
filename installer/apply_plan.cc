// Wave assignment, webhook backends, stable Job names and the --plan renderings; see apply_plan.h.
#include "installer/apply_plan.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "common/sha256.h"
#include "installer/readiness.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

enum Wave { kNamespacesAndCrds, kConfiguration, kWorkloads, kAdmission, kRest, kWaveCount };

constexpr const char* kWaveNames[kWaveCount] = {"namespaces and CRDs", "configuration and RBAC", "workloads",
                                                "admission and custom resources", "the rest"};

// Groups the API server itself serves; a kind in any other group comes from a CRD.
bool IsBuiltInGroup(const std::string& group) {
  static const std::set<std::string> kLegacy = {"", "apps", "extensions", "batch", "policy", "autoscaling"};
  return kLegacy.contains(group) || group.ends_with(".k8s.io");
}

bool IsCrd(const ObjectKey& key) {
  return key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition";
}

// (group, kind) of what each CRD in the set defines.
std::set<std::pair<std::string, std::string>> CrdKinds(const std::vector<ManifestObject>& objects) {
  std::set<std::pair<std::string, std::string>> kinds;
  for (const ManifestObject& o : objects) {
    if (!IsCrd(o.key)) continue;
    const json& spec = FieldOf(o.object, "spec");
    kinds.insert({StringField(spec, "group"), StringField(FieldOf(spec, "names"), "kind")});
  }
  return kinds;
}

Wave WaveOf(const ObjectKey& key, const std::set<std::pair<std::string, std::string>>& crd_kinds) {
  if (crd_kinds.contains({key.group, key.kind}) || !IsBuiltInGroup(key.group)) return kAdmission;
  static const std::map<std::string, Wave> kByKind = {
      {"Namespace", kNamespacesAndCrds},
      {"CustomResourceDefinition", kNamespacesAndCrds},
      // What workloads and webhooks need in place before they start (kapp's "pod-related").
      {"ClusterRole", kConfiguration},
      {"Role", kConfiguration},
      {"ClusterRoleBinding", kConfiguration},
      {"RoleBinding", kConfiguration},
      {"ServiceAccount", kConfiguration},
      {"ConfigMap", kConfiguration},
      {"Secret", kConfiguration},
      {"Service", kConfiguration},
      {"Endpoints", kConfiguration},
      {"ResourceQuota", kConfiguration},
      {"LimitRange", kConfiguration},
      {"PriorityClass", kConfiguration},
      {"StorageClass", kConfiguration},
      {"PersistentVolume", kConfiguration},
      {"PersistentVolumeClaim", kConfiguration},
      {"NetworkPolicy", kConfiguration},
      {"PodDisruptionBudget", kConfiguration},
      {"PodSecurityPolicy", kConfiguration},
      {"RuntimeClass", kConfiguration},
      {"IngressClass", kConfiguration},
      {"Deployment", kWorkloads},
      {"DaemonSet", kWorkloads},
      {"StatefulSet", kWorkloads},
      {"ReplicaSet", kWorkloads},
      {"ReplicationController", kWorkloads},
      {"Pod", kWorkloads},
      {"HorizontalPodAutoscaler", kWorkloads},
      // Admission needs its webhook running; an APIService needs its backing Service running.
      {"MutatingWebhookConfiguration", kAdmission},
      {"ValidatingWebhookConfiguration", kAdmission},
      {"APIService", kAdmission},
  };
  auto it = kByKind.find(key.kind);
  return it == kByKind.end() ? kRest : it->second;
}

bool IsWorkload(const ObjectKey& key) {
  return (key.group == "apps" || key.group == "extensions") &&
         (key.kind == "Deployment" || key.kind == "StatefulSet" || key.kind == "DaemonSet");
}

// A webhook's Service as named in a clientConfig, with who calls it (for warnings).
struct WebhookService {
  std::string ns, name, caller;
};

void AddService(const json& client_config, const std::string& caller, std::vector<WebhookService>& out) {
  const json& service = FieldOf(client_config, "service");
  if (!service.is_object()) return;  // a URL webhook: nothing in the set to wait for
  out.push_back({StringField(service, "namespace"), StringField(service, "name"), caller});
}

std::vector<WebhookService> WebhookServices(const std::vector<ManifestObject>& objects) {
  std::vector<WebhookService> services;
  for (const ManifestObject& o : objects) {
    if (o.key.group == "admissionregistration.k8s.io" &&
        (o.key.kind == "MutatingWebhookConfiguration" || o.key.kind == "ValidatingWebhookConfiguration")) {
      const json& webhooks = FieldOf(o.object, "webhooks");
      if (!webhooks.is_array()) continue;
      for (const json& webhook : webhooks) {
        AddService(FieldOf(webhook, "clientConfig"),
                   o.key.ToString() + " webhook " + StringField(webhook, "name"), services);
      }
    } else if (IsCrd(o.key)) {
      const json& conversion = FieldOf(FieldOf(o.object, "spec"), "conversion");
      std::string caller = o.key.ToString() + " conversion webhook";
      AddService(FieldOf(FieldOf(conversion, "webhook"), "clientConfig"), caller, services);  // v1
      AddService(FieldOf(conversion, "webhookClientConfig"), caller, services);               // v1beta1
    }
  }
  return services;
}

bool LabelsMatch(const json& selector, const json& labels) {
  if (!selector.is_object() || selector.empty() || !labels.is_object()) return false;
  for (const auto& [k, v] : selector.items()) {
    if (!labels.contains(k) || labels[k] != v) return false;
  }
  return true;
}

std::string ShortName(const ObjectKey& key) { return key.ns.empty() ? key.name : key.ns + "/" + key.name; }

std::string JoinNames(const std::vector<ObjectKey>& keys) {
  std::string out;
  for (const ObjectKey& key : keys) out += (out.empty() ? "" : ", ") + ShortName(key);
  return out;
}

// Orders a wave's objects by kind, as cli-utils sorts them (kinds it does not list after the
// ones it does, in order of first appearance), keeping file order inside a kind. Only for
// reading: objects in a wave are applied concurrently.
void GroupByKind(std::vector<ManifestObject>& objects) {
  static const std::vector<std::string> kKindOrder = {"Namespace",
                                                      "ResourceQuota",
                                                      "StorageClass",
                                                      "CustomResourceDefinition",
                                                      "ServiceAccount",
                                                      "PodSecurityPolicy",
                                                      "Role",
                                                      "ClusterRole",
                                                      "RoleBinding",
                                                      "ClusterRoleBinding",
                                                      "ConfigMap",
                                                      "Secret",
                                                      "Service",
                                                      "LimitRange",
                                                      "PriorityClass",
                                                      "Deployment",
                                                      "StatefulSet",
                                                      "CronJob",
                                                      "PodDisruptionBudget",
                                                      "MutatingWebhookConfiguration",
                                                      "ValidatingWebhookConfiguration"};
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (const ManifestObject& o : objects) {
    auto listed = std::find(kKindOrder.begin(), kKindOrder.end(), o.key.kind);
    size_t r = listed != kKindOrder.end() && IsBuiltInGroup(o.key.group)
                   ? static_cast<size_t>(listed - kKindOrder.begin())
                   : kKindOrder.size() + rank.size();
    rank.emplace(std::make_pair(o.key.group, o.key.kind), r);
  }
  std::stable_sort(objects.begin(), objects.end(), [&](const ManifestObject& a, const ManifestObject& b) {
    return rank[{a.key.group, a.key.kind}] < rank[{b.key.group, b.key.kind}];
  });
}

// Later objects with the same key replace earlier ones, as a second `kubectl apply` would;
// a warning names both places when their contents differ.
std::vector<ManifestObject> WithoutDuplicates(std::vector<ManifestObject> objects,
                                              std::vector<std::string>& warnings) {
  std::map<ObjectKey, size_t> last;
  for (size_t i = 0; i < objects.size(); ++i) last[objects[i].key] = i;
  std::vector<ManifestObject> kept;
  for (size_t i = 0; i < objects.size(); ++i) {
    size_t winner = last[objects[i].key];
    if (winner == i) {
      kept.push_back(std::move(objects[i]));
    } else if (objects[i].object != objects[winner].object) {
      // Identical copies are normal (serving-core.yaml repeats serving-crds.yaml's CRDs).
      warnings.push_back(objects[i].key.ToString() + " at " + objects[i].Where() + " is defined again at " +
                         objects[winner].Where() + "; the later one is applied");
    }
  }
  return kept;
}

std::string SpecHash(const json& job) { return Sha256Digest(FieldOf(job, "spec").dump()); }

}  // namespace

const char* WaitForName(WaitFor wait) {
  switch (wait) {
    case WaitFor::kNothing:
      return "nothing";
    case WaitFor::kCrdsEstablished:
      return "crds-established";
    case WaitFor::kDeploymentsAvailable:
      return "deployments-available";
    case WaitFor::kAllReady:
      return "all-ready";
  }
  return "nothing";
}

std::string StableJobName(const std::string& generate_name, const std::string& component,
                          const std::string& version) {
  return generate_name + component + "-" + version;
}

Status NameGeneratedJobs(std::vector<ManifestObject>& objects, const PlanOptions& options) {
  for (ManifestObject& o : objects) {
    if (o.key.group != "batch" || o.key.kind != "Job") continue;
    json& metadata = o.object["metadata"];
    if (o.key.name.empty()) {
      std::string version = options.version;
      if (version.empty()) version = StringField(FieldOf(metadata, "labels"), "app.kubernetes.io/version");
      if (version.empty()) {
        return InvalidArgument(o.Where() + ": Job " + o.key.ns + "/" + StringField(metadata, "generateName") +
                               "* has only generateName and no app.kubernetes.io/version label; "
                               "give the release version to name it");
      }
      std::string name = StableJobName(StringField(metadata, "generateName"), options.component, version);
      // The Job controller copies the name into a pod label, whose values stop at 63 characters.
      if (name.size() > 63)
        return InvalidArgument(o.Where() + ": Job name " + name + " would be longer than 63 characters");
      metadata["name"] = name;
      metadata.erase("generateName");
      o.key.name = name;
    }
    metadata["annotations"][kJobSpecHashAnnotation] = SpecHash(o.object);
  }
  return Status::Ok();
}

bool JobNeedsRecreate(const json& live, const json& wanted) {
  std::string want = StringField(FieldOf(FieldOf(wanted, "metadata"), "annotations"), kJobSpecHashAnnotation);
  if (want.empty()) want = SpecHash(wanted);
  return StringField(FieldOf(FieldOf(live, "metadata"), "annotations"), kJobSpecHashAnnotation) != want;
}

std::vector<ObjectKey> WebhookDeployments(const std::vector<ManifestObject>& objects,
                                          std::vector<std::string>* warnings) {
  auto warn = [&](std::string text) {
    if (warnings != nullptr) warnings->push_back(std::move(text));
  };
  std::vector<ObjectKey> found;
  std::set<std::pair<std::string, std::string>> seen_services;
  for (const WebhookService& ws : WebhookServices(objects)) {
    if (!seen_services.insert({ws.ns, ws.name}).second) continue;
    auto service = std::find_if(objects.begin(), objects.end(), [&](const ManifestObject& o) {
      return o.key.group.empty() && o.key.kind == "Service" && o.key.ns == ws.ns && o.key.name == ws.name;
    });
    if (service == objects.end()) {
      warn(ws.caller + " calls Service " + ws.ns + "/" + ws.name +
           ", which is not in the release files; ferry cannot wait for it");
      continue;
    }
    const json& selector = FieldOf(FieldOf(service->object, "spec"), "selector");
    size_t before = found.size();
    for (const ManifestObject& o : objects) {
      if (!IsWorkload(o.key) || o.key.ns != ws.ns) continue;
      if (!LabelsMatch(selector, FieldOf(FieldOf(FieldOf(FieldOf(o.object, "spec"), "template"), "metadata"),
                                         "labels")))
        continue;
      if (std::find(found.begin(), found.end(), o.key) == found.end()) found.push_back(o.key);
    }
    if (found.size() == before) {
      warn(ws.caller + " calls Service " + ws.ns + "/" + ws.name + " (" + service->Where() +
           "), whose selector matches no Deployment in the release files; ferry cannot wait for it");
    }
  }
  return found;
}

Result<ApplyPlan> PlanApply(std::vector<ManifestObject> objects, const PlanOptions& options) {
  FERRY_RETURN_IF_ERROR(NameGeneratedJobs(objects, options));
  for (const ManifestObject& o : objects) {
    if (o.key.name.empty()) {
      return InvalidArgument(o.Where() + ": " + o.key.kind + " " +
                             StringField(FieldOf(o.object, "metadata"), "generateName") +
                             "* has only metadata.generateName; ferry applies objects by name and "
                             "names only Jobs itself");
    }
  }
  ApplyPlan plan;
  objects = WithoutDuplicates(std::move(objects), plan.warnings);
  plan.webhook_deployments = WebhookDeployments(objects, &plan.warnings);

  std::set<std::pair<std::string, std::string>> crd_kinds = CrdKinds(objects);
  std::vector<ObjectKey> ready_rule;  // objects with a readiness rule, for the final wait
  std::vector<ApplyWave> waves(kWaveCount);
  for (int i = 0; i < kWaveCount; ++i) waves[i].name = kWaveNames[i];
  for (ManifestObject& o : objects) {
    if (HasReadinessRule(o.object)) ready_rule.push_back(o.key);
    Wave wave = WaveOf(o.key, crd_kinds);
    waves[wave].objects.push_back(std::move(o));
  }

  std::vector<ObjectKey> crds;
  for (const ManifestObject& o : waves[kNamespacesAndCrds].objects) {
    if (IsCrd(o.key)) crds.push_back(o.key);
  }
  if (!crds.empty()) {
    waves[kNamespacesAndCrds].wait = WaitFor::kCrdsEstablished;
    waves[kNamespacesAndCrds].wait_for = crds;
    waves[kNamespacesAndCrds].wait_text =
        std::to_string(crds.size()) + " CRDs Established, then refresh discovery";
  }
  ApplyWave& workloads = waves[kWorkloads];
  if (!plan.webhook_deployments.empty()) {
    workloads.wait = WaitFor::kDeploymentsAvailable;
    workloads.wait_for = plan.webhook_deployments;
    workloads.wait_text = "webhook Deployments available: " + JoinNames(plan.webhook_deployments);
  } else if (!waves[kAdmission].objects.empty()) {
    // No webhook configuration in the files, yet objects that may need admission follow: the
    // webhook may register itself when it starts (Knative 0.6), so wait for every Deployment.
    for (const ManifestObject& o : workloads.objects) {
      if (o.key.kind == "Deployment") workloads.wait_for.push_back(o.key);
    }
    if (!workloads.wait_for.empty()) {
      workloads.wait = WaitFor::kDeploymentsAvailable;
      workloads.wait_text =
          "all Deployments available (no webhook configuration in the files; a webhook "
          "may register itself): " +
          JoinNames(workloads.wait_for);
    }
  }

  for (ApplyWave& wave : waves) {
    if (wave.objects.empty()) continue;
    GroupByKind(wave.objects);
    for (ManifestObject& o : wave.objects) o.wave = static_cast<int>(plan.waves.size());
    plan.waves.push_back(std::move(wave));
  }
  if (!plan.waves.empty()) {
    ApplyWave& last = plan.waves.back();
    last.wait = WaitFor::kAllReady;
    last.wait_for = ready_rule;
    last.wait_text =
        "all " + std::to_string(ready_rule.size()) + " workloads and resources with a readiness rule ready";
  }
  return plan;
}

std::string RenderPlanText(const ApplyPlan& plan) {
  std::string out;
  size_t total = plan.waves.size();
  for (size_t i = 0; i < total; ++i) {
    const ApplyWave& wave = plan.waves[i];
    out += "wave " + std::to_string(i + 1) + " of " + std::to_string(total) + ": " + wave.name + " (" +
           std::to_string(wave.objects.size()) + (wave.objects.size() == 1 ? " object)\n" : " objects)\n");
    for (const ManifestObject& o : wave.objects) out += "  " + o.key.ToString() + "\n";
    if (wave.wait != WaitFor::kNothing) out += "  then wait: " + wave.wait_text + "\n";
  }
  for (const std::string& warning : plan.warnings) out += "warning: " + warning + "\n";
  return out;
}

json RenderPlanJson(const ApplyPlan& plan) {
  auto key_json = [](const ObjectKey& key) { return key.ToString(); };
  json waves = json::array();
  for (const ApplyWave& wave : plan.waves) {
    json objects = json::array();
    for (const ManifestObject& o : wave.objects) {
      objects.push_back({{"group", o.key.group},
                         {"kind", o.key.kind},
                         {"namespace", o.key.ns},
                         {"name", o.key.name},
                         {"file", o.file},
                         {"line", o.line}});
    }
    json wait_for = json::array();
    for (const ObjectKey& key : wave.wait_for) wait_for.push_back(key_json(key));
    waves.push_back(
        {{"name", wave.name},
         {"objects", std::move(objects)},
         {"wait",
          {{"for", WaitForName(wave.wait)}, {"objects", std::move(wait_for)}, {"text", wave.wait_text}}}});
  }
  json webhooks = json::array();
  for (const ObjectKey& key : plan.webhook_deployments) webhooks.push_back(key_json(key));
  return {
      {"waves", std::move(waves)}, {"webhookDeployments", std::move(webhooks)}, {"warnings", plan.warnings}};
}

}  // namespace ferry::installer
