// Checks before an install; see preflight.h.
#include "installer/preflight.h"

#include <algorithm>
#include <map>

#include "common/name_groups.h"
#include "installer/cluster_info.h"
#include "mirror/registry_failure.h"

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
      if (!digest.ok()) {
        check.status = digest.status();
        return;
      }
      check.missing = !digest->has_value();
      // Whether the repository is there with other versions: another release was mirrored, or
      // nothing was. A registry that will not list tags leaves it unknown (said as absent).
      if (check.missing) {
        Result<std::vector<std::string>> tags = client->ListTags(ref.repository);
        check.repository_found = tags.ok() && !tags->empty();
      }
    });
  }
}

// Failed checks that share a cause have the same key (see registry_failure.h).
std::string FailureKey(const ImageCheck& check) { return FailureCauseKey(check.image.registry, check.status); }

// Where a missing image should be: the hint's namespace when the image is under it, else its
// registry and the repository's parent ("mirror.local/knative").
std::string WhereMissing(const ImageReference& image, const std::string& ns) {
  if (!ns.empty() && image.Name().starts_with(ns + "/")) return ns;
  size_t slash = image.repository.rfind('/');
  return slash == std::string::npos ? image.registry : image.registry + "/" + image.repository.substr(0, slash);
}

// An image in a line that already names `where` (its registry, or a namespace there): the rest of
// its name[:tag][@sha256:<12 hex>].
std::string BriefName(const ImageReference& image, const std::string& where) {
  std::string name = image.Name().substr(where.size() + 1);
  if (!image.tag.empty()) name += ":" + image.tag;
  if (!image.digest.empty()) name += "@" + image.digest.substr(0, 7 + 12);  // "sha256:" and 12 hex digits
  return name;
}

// The line for one group of missing images.
std::string MissingLine(const ImageCheck& first, const std::vector<std::string>& names, const std::string& where) {
  const ImageReference& image = first.image;
  if (names.size() == 1)
    return "image " + image.String() + " is missing from the mirror (" + image.registry +
           (first.repository_found ? " has repository " + image.repository + ", but not this tag or digest)"
                                   : " has no repository " + image.repository + ")");
  return Counted(names.size(), "image", "images") + " missing from " + where + " (" +
         NameFirstFew(names, NamesShown()) + "): " +
         (first.repository_found ? "their repositories are there, with other tags or digests (another release mirrored?)"
                                 : "no such repositories there");
}

// The one line saying how to fill the mirror: the same release through ferry mirror, or a bundle.
std::string CopyHint(const MirrorHint& hint, bool left_out) {
  std::string to = " --to " + (hint.ns.empty() ? std::string("REGISTRY/NAMESPACE") : hint.ns) + hint.naming;
  return "copy the missing images with the same release: ferry mirror " +
         (hint.release.empty() ? std::string("--profile NAME") : hint.release) + to +
         " where the source registries can be reached, or ferry bundle load FILE" + to +
         " from a ferry bundle save of it" + (left_out ? "; -v lists every image" : "");
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

std::vector<std::string> ImageCheckProblems(const std::vector<ImageCheck>& checks, const MirrorHint& hint,
                                            std::string* advice) {
  // One group per cause and place; a group's first image stands for it.
  NameGroups groups;
  std::vector<const ImageCheck*> firsts;  // by group index
  std::vector<std::string> wheres;
  for (const ImageCheck& check : checks) {
    if (!check.missing && check.status.ok()) continue;
    std::string where = check.missing ? WhereMissing(check.image, hint.ns) : check.image.registry;
    std::string key = check.missing ? "missing\n" + where + "\n" + (check.repository_found ? "found" : "absent")
                                    : "failed\n" + FailureKey(check);
    if (groups.Add(key, BriefName(check.image, where)) == firsts.size()) {
      firsts.push_back(&check);
      wheres.push_back(where);
    }
  }
  std::vector<std::string> out;
  bool missing = false, left_out = false;
  for (size_t i = 0; i < firsts.size(); ++i) {
    const ImageCheck& check = *firsts[i];
    const std::vector<std::string>& names = groups.groups()[i].names;
    if (check.missing) {
      missing = true;
      left_out = left_out || (names.size() > 1 && names.size() > NamesShown());
      out.push_back(MissingLine(check, names, wheres[i]));
    } else if (names.size() == 1) {
      out.push_back("image " + check.image.String() + " cannot be checked at the mirror: " + check.status.message());
    } else {
      out.push_back(Counted(names.size(), "image", "images") + " at " + check.image.registry + " cannot be checked (" +
                    NameFirstFew(names, NamesShown(2)) + "): " + check.status.message());
    }
  }
  if (advice != nullptr) *advice = missing ? CopyHint(hint, left_out) : "";
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
  for (std::string& p : ImageCheckProblems(image_checks, options.hint, &report.advice)) report.problems.push_back(std::move(p));
  // Machine output has every image the grouped lines may leave out.
  json missing = json::array(), unchecked = json::array();
  for (const ImageCheck& check : image_checks) {
    if (check.missing) missing.push_back(check.image.String());
    if (!check.status.ok()) unchecked.push_back({{"image", check.image.String()}, {"error", check.status.message()}});
  }
  progress.Emit({"preflight",
                 report.ok() ? "preflight: cluster reachable, access allowed, every kind served, " +
                                   std::to_string(options.images.size()) + " image(s) present at the mirror"
                             : "preflight: " + std::to_string(report.problems.size()) + " problem(s)",
                 {{"problems", report.problems}, {"images", options.images.size()}, {"missingImages", missing},
                  {"uncheckedImages", unchecked}, {"advice", report.advice}}});
  return report;
}

}  // namespace ferry::installer
