// Checks before an install; see preflight.h.
#include "installer/preflight.h"

#include <algorithm>
#include <map>

#include "installer/cluster_info.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

// The "group Kind"s the objects' CRDs define (any version: the CRD says which it serves).
std::set<std::string> CrdKinds(const std::vector<ManifestObject>& objects) {
  std::set<std::string> kinds;
  for (const ManifestObject& o : objects) {
    if (o.key.group != "apiextensions.k8s.io" || o.key.kind != "CustomResourceDefinition") continue;
    const json& spec = o.object.value("spec", json::object());
    kinds.insert(spec.value("group", "") + " " + spec.value("names", json::object()).value("kind", ""));
  }
  return kinds;
}

struct AccessCheck {
  const char* kind;  // which objects of the release make it needed
  const char* group;
  const char* resource;
};

// Whether the identity may create `check.resource`; a problem line, or "" when allowed.
std::string CheckAccess(KubeClient& client, const AccessCheck& check, const std::string& ns, Deadline deadline) {
  json review = {{"apiVersion", "authorization.k8s.io/v1"},
                 {"kind", "SelfSubjectAccessReview"},
                 {"spec", {{"resourceAttributes", {{"verb", "create"}, {"group", check.group}, {"resource", check.resource}}}}}};
  if (!ns.empty()) review["spec"]["resourceAttributes"]["namespace"] = ns;
  std::string label = std::string(check.resource) + (*check.group ? std::string(".") + check.group : "");
  KubeResult<json> answer = client.SendJson({.method = "POST",
                                             .path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                             .body = review.dump(),
                                             .deadline = deadline,
                                             .what = "review access to create " + label});
  if (!answer.ok()) return "cannot check whether you may create " + label + ": " + answer.error().ServerText();
  const json& status = answer->value("status", json::object());
  if (status.value("allowed", false)) return "";
  std::string reason = status.value("reason", "");
  return "forbidden: the kubeconfig's identity may not create " + label + (ns.empty() ? "" : " in namespace " + ns) +
         (reason.empty() ? "" : " (" + reason + ")") + "; the install needs cluster-admin rights";
}

// Starts one manifest HEAD per image on `pool`; each writes its outcome into `checks`.
// The caller runs the cluster checks meanwhile, then waits for the pool.
void StartImageChecks(TaskPool& pool, const PreflightOptions& options, std::vector<ImageCheck>& checks) {
  std::map<std::string, std::shared_ptr<RegistryClient>> clients;
  for (const ImageReference& ref : options.images)
    if (!clients.count(ref.registry))
      clients[ref.registry] = std::make_shared<RegistryClient>(ref.registry, ref.ApiHost(), options.registry);
  checks.clear();
  for (const ImageReference& ref : options.images) checks.push_back({.image = ref});
  for (ImageCheck& check : checks) {
    std::shared_ptr<RegistryClient> client = clients.at(check.image.registry);
    pool.Post([&check, client] {
      const ImageReference& ref = check.image;
      Result<std::optional<std::string>> digest = client->HeadManifest(ref.repository, ref.ManifestIdentifier());
      if (!digest.ok())
        check.status = digest.status();
      else
        check.missing = !digest->has_value();
    });
  }
}

// Failures that say nothing about one image: every image at that registry fails the same way.
bool IsRegistryFailure(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kTls || code == StatusCode::kUnauthenticated ||
         code == StatusCode::kPermissionDenied;
}

// Failed checks that share a cause have the same key: the registry and either the code (registry
// failures; their messages differ only by repository) or the message itself.
std::string FailureKey(const ImageCheck& check) {
  const Status& s = check.status;
  return check.image.registry + "\n" + (IsRegistryFailure(s.code()) ? StatusCodeName(s.code()) : s.message());
}

// An image in a line that already names its registry: repository[:tag][@sha256:<12 hex>].
std::string BriefName(const ImageReference& image) {
  std::string name = image.repository;
  if (!image.tag.empty()) name += ":" + image.tag;
  if (!image.digest.empty()) name += "@" + image.digest.substr(0, 7 + 12);  // "sha256:" and 12 hex digits
  return name;
}

bool IsNetworkingGroup(const std::string& group, const std::string& layer) {
  if (layer == "istio") return group.ends_with("istio.io");
  return !layer.empty() && group.find(layer) != std::string::npos;
}

}  // namespace

std::vector<UnservedKind> UnservedKinds(const std::vector<ManifestObject>& objects, const std::set<std::string>& served) {
  std::set<std::string> defined = CrdKinds(objects);
  std::vector<UnservedKind> out;
  std::map<std::string, size_t> index;
  for (const ManifestObject& o : objects) {
    std::string api_version = o.object.value("apiVersion", ""), kind = o.object.value("kind", "");
    if (served.count(api_version + " " + kind) || defined.count(o.key.group + " " + kind)) continue;
    auto [it, fresh] = index.try_emplace(api_version + " " + kind, out.size());
    if (fresh) out.push_back({api_version, kind});
    ++out[it->second].objects;
  }
  return out;
}

std::vector<std::string> UnservedKindProblems(const std::vector<UnservedKind>& unserved, const std::string& layer,
                                              bool layer_preinstalled) {
  std::string networking, other;
  for (const UnservedKind& u : unserved) {
    std::string text = u.api_version + " " + u.kind;
    std::string& list = layer_preinstalled && IsNetworkingGroup(GroupOf(u.api_version), layer) ? networking : other;
    list += (list.empty() ? "" : ", ") + text;
  }
  std::vector<std::string> out;
  if (!networking.empty())
    out.push_back("the networking layer " + layer + " must already be installed, but the cluster does not serve " +
                  networking + " (its CRDs are missing); install " + layer + " first");
  if (!other.empty())
    out.push_back("the cluster does not serve " + other +
                  ": this release was written for API versions this Kubernetes no longer serves; use a newer profile");
  return out;
}

std::vector<std::string> ImageCheckProblems(const std::vector<ImageCheck>& checks) {
  std::map<std::string, std::vector<const ImageCheck*>> by_cause;
  for (const ImageCheck& check : checks)
    if (!check.status.ok()) by_cause[FailureKey(check)].push_back(&check);
  std::vector<std::string> out;
  for (const ImageCheck& check : checks) {
    if (check.missing) {
      out.push_back("image " + check.image.String() + " is missing from the mirror (" + check.image.registry +
                    " has no manifest for it); copy it there with ferry mirror");
      continue;
    }
    if (check.status.ok()) continue;
    const std::vector<const ImageCheck*>& same = by_cause.at(FailureKey(check));
    if (same.size() == 1) {
      out.push_back("image " + check.image.String() + " cannot be checked at the mirror: " + check.status.message());
    } else if (same.front() == &check) {
      std::string named = BriefName(same[0]->image) + ", " + BriefName(same[1]->image);
      if (same.size() > 2) named += " and " + std::to_string(same.size() - 2) + " more";
      out.push_back(std::to_string(same.size()) + " images at " + check.image.registry + " cannot be checked (" +
                    named + "): " + check.status.message());
    }
  }
  return out;
}

PreflightReport RunPreflight(KubeClient& client, TaskPool& pool, const std::vector<ManifestObject>& objects,
                             const PreflightOptions& options, InstallProgress& progress) {
  PreflightReport report;
  std::vector<ImageCheck> image_checks;
  StartImageChecks(pool, options, image_checks);
  KubeResult<HttpResponse> version = client.Send({.path = "/version", .deadline = options.deadline, .what = "get /version"});
  if (!version.ok()) {
    report.problems.push_back(ClusterFailureReason(version.error(), client.config()));
  } else {
    const AccessCheck checks[] = {{"CustomResourceDefinition", "apiextensions.k8s.io", "customresourcedefinitions"},
                                  {"ClusterRole", "rbac.authorization.k8s.io", "clusterroles"},
                                  {"Deployment", "apps", "deployments"}};
    for (const AccessCheck& check : checks) {
      auto it = std::find_if(objects.begin(), objects.end(), [&](const ManifestObject& o) { return o.key.kind == check.kind; });
      if (it == objects.end()) continue;
      std::string problem = CheckAccess(client, check, it->key.ns, options.deadline);
      if (!problem.empty()) report.problems.push_back(problem);
    }
    KubeResult<std::vector<ResourceRef>> served = client.RefreshDiscovery(options.deadline);
    if (!served.ok()) {
      report.problems.push_back("cannot read which kinds the cluster serves: " + served.error().ServerText());
    } else {
      std::set<std::string> kinds;
      for (const ResourceRef& r : *served) kinds.insert(r.GroupVersion() + " " + r.kind);
      for (std::string& p : UnservedKindProblems(UnservedKinds(objects, kinds), options.networking_layer,
                                                 options.networking_preinstalled))
        report.problems.push_back(std::move(p));
    }
  }
  pool.Wait();
  for (std::string& p : ImageCheckProblems(image_checks)) report.problems.push_back(std::move(p));
  progress.Emit({"preflight",
                 report.ok() ? "preflight: cluster reachable, access allowed, every kind served, " +
                                   std::to_string(options.images.size()) + " image(s) present at the mirror"
                             : "preflight: " + std::to_string(report.problems.size()) + " problem(s)",
                 {{"problems", report.problems}, {"images", options.images.size()}}});
  return report;
}

}  // namespace ferry::installer
