// What keeps a namespace terminating; see namespace_holders.h.
#include "installer/namespace_holders.h"

#include "common/name_groups.h"
#include "installer/exec_credential.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

using nlohmann::json;

NamespaceHolders HoldersOf(const json& ns, const json& pods, std::chrono::system_clock::time_point now) {
  NamespaceHolders out;
  out.exists = ns.is_object();
  const json& conditions = FieldOf(FieldOf(ns, "status"), "conditions");
  if (conditions.is_array())
    for (const json& c : conditions)
      if (StringField(c, "status") == "True" && !StringField(c, "message").empty())
        out.conditions += (out.conditions.empty() ? "" : "; ") + StringField(c, "message");
  const json& items = FieldOf(pods, "items");
  if (!items.is_array()) return out;
  for (const json& pod : items) {
    const json& meta = FieldOf(pod, "metadata");
    PodHolder h{StringField(meta, "name")};
    const json& spec_grace = FieldOf(FieldOf(pod, "spec"), "terminationGracePeriodSeconds");
    const json& grace = FieldOf(meta, "deletionGracePeriodSeconds");
    if (grace.is_number_integer()) h.grace_seconds = grace.get<int>();
    else if (spec_grace.is_number_integer()) h.grace_seconds = spec_grace.get<int>();
    std::string deleting = StringField(meta, "deletionTimestamp");
    h.terminating = !deleting.empty();
    if (Result<std::chrono::system_clock::time_point> when = ParseRfc3339(deleting); h.terminating && when.ok())
      h.seconds_left = std::max<int>(0, std::chrono::duration_cast<std::chrono::seconds>(*when - now).count());
    out.pods.push_back(std::move(h));
  }
  return out;
}

KubeResult<NamespaceHolders> ReadNamespaceHolders(KubeClient& client, const std::string& ns, Deadline deadline) {
  KubeResult<ResourceRef> namespaces = client.Resolve("v1", "Namespace");
  if (!namespaces.ok()) return namespaces.error();
  KubeResult<ResourceRef> pods_ref = client.Resolve("v1", "Pod");
  if (!pods_ref.ok()) return pods_ref.error();
  KubeResult<json> live = client.Get(*namespaces, "", ns, deadline);
  if (!live.ok()) {
    if (live.error().IsNotFound()) return NamespaceHolders{};
    return live.error();
  }
  KubeResult<json> pods = client.List(*pods_ref, ns, {.deadline = deadline});
  if (!pods.ok()) return pods.error();
  return HoldersOf(*live, *pods, std::chrono::system_clock::now());
}

std::string DescribeHolders(const NamespaceHolders& holders) {
  if (holders.pods.empty()) return holders.conditions;
  std::string text = Counted(holders.pods.size(), "pod", "pods") + " in it: ";
  std::vector<std::string> pods;
  for (const PodHolder& p : holders.pods)
    pods.push_back(p.name + " (" + (p.terminating ? "terminating, " : "") + "grace period " +
                   std::to_string(p.grace_seconds) + " s" +
                   (p.seconds_left >= 0 ? ", about " + std::to_string(p.seconds_left) + " s left" : "") + ")");
  return text + NameFirstFew(pods, NamesShown(4));
}

KubeResult<int> ForceDeletePods(KubeClient& client, const std::string& ns, const NamespaceHolders& holders,
                                Deadline deadline) {
  KubeResult<ResourceRef> pods = client.Resolve("v1", "Pod");
  if (!pods.ok()) return pods.error();
  int deleted = 0;
  for (const PodHolder& p : holders.pods) {
    KubeResult<json> r = client.Delete(*pods, ns, p.name, {.grace_period_seconds = 0, .deadline = deadline});
    if (!r.ok() && !r.error().IsNotFound()) return r.error();
    if (r.ok()) ++deleted;
  }
  if (deleted > 0) {
    // The namespace controller looks again only after the longest grace period it last saw (it
    // requeues with that estimate); any change to the namespace makes it look now.
    json touch = {{"metadata", {{"annotations", {{"ferry.dev/pods-force-deleted", std::to_string(deleted)}}}}}};
    KubeResult<HttpResponse> r = client.Send({.method = "PATCH",
                                              .path = "/api/v1/namespaces/" + ns,
                                              .body = touch.dump(),
                                              .content_type = "application/merge-patch+json",
                                              .deadline = deadline,
                                              .what = "annotate namespace " + ns});
    if (!r.ok() && !r.error().IsNotFound()) return r.error();
  }
  return deleted;
}

}  // namespace ferry::installer
