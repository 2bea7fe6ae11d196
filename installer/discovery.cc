#include "installer/discovery.h"

namespace ferry::installer {
namespace {

std::string Str(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

const nlohmann::json& Array(const nlohmann::json& object, const char* key) {
  static const nlohmann::json kEmpty = nlohmann::json::array();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it != object.end() && it->is_array() ? *it : kEmpty;
}

std::string Key(std::string_view api_version, std::string_view kind) {
  return std::string(api_version) + " " + std::string(kind);
}

}  // namespace

std::pair<std::string, std::string> SplitApiVersion(std::string_view api_version) {
  size_t slash = api_version.find('/');
  if (slash == std::string_view::npos) return {"", std::string(api_version)};
  return {std::string(api_version.substr(0, slash)), std::string(api_version.substr(slash + 1))};
}

bool IsAggregatedDiscovery(const nlohmann::json& document) {
  return document.is_object() && Str(document, "kind") == "APIGroupDiscoveryList";
}

std::vector<ResourceRef> ParseAggregatedDiscovery(const nlohmann::json& document) {
  std::vector<ResourceRef> out;
  for (const auto& group : Array(document, "items")) {
    std::string group_name = group.contains("metadata") ? Str(group["metadata"], "name") : "";
    for (const auto& version : Array(group, "versions")) {
      for (const auto& resource : Array(version, "resources")) {
        const nlohmann::json& response_kind = resource.value("responseKind", nlohmann::json::object());
        ResourceRef ref{.group = group_name,
                        .version = Str(version, "version"),
                        .kind = response_kind.is_object() ? Str(response_kind, "kind") : "",
                        .plural = Str(resource, "resource"),
                        .namespaced = Str(resource, "scope") == "Namespaced"};
        if (!ref.kind.empty() && !ref.plural.empty() && !ref.version.empty()) out.push_back(std::move(ref));
      }
    }
  }
  return out;
}

std::vector<std::string> ParseGroupVersions(const nlohmann::json& document) {
  std::vector<std::string> out;
  for (const auto& version : Array(document, "versions"))  // APIVersions
    if (version.is_string()) out.push_back(version.get<std::string>());
  for (const auto& group : Array(document, "groups"))  // APIGroupList
    for (const auto& version : Array(group, "versions"))
      if (version.is_object() && !Str(version, "groupVersion").empty()) out.push_back(Str(version, "groupVersion"));
  return out;
}

std::vector<ResourceRef> ParseResourceList(const nlohmann::json& document) {
  std::vector<ResourceRef> out;
  if (!document.is_object()) return out;
  auto [group, version] = SplitApiVersion(Str(document, "groupVersion"));
  for (const auto& resource : Array(document, "resources")) {
    std::string name = Str(resource, "name");
    if (name.empty() || name.find('/') != std::string::npos) continue;  // a subresource
    ResourceRef ref{.group = group,
                    .version = version,
                    .kind = Str(resource, "kind"),
                    .plural = name,
                    .namespaced = resource.value("namespaced", false)};
    if (!ref.kind.empty() && !ref.version.empty()) out.push_back(std::move(ref));
  }
  return out;
}

std::optional<ResourceRef> DiscoveryCache::Find(std::string_view api_version, std::string_view kind) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_kind_.find(Key(api_version, kind));
  if (it == by_kind_.end()) return std::nullopt;
  return it->second;
}

void DiscoveryCache::Replace(const std::vector<ResourceRef>& resources) {
  std::map<std::string, ResourceRef> fresh;
  for (const ResourceRef& ref : resources) fresh.emplace(Key(ref.GroupVersion(), ref.kind), ref);
  std::lock_guard<std::mutex> lock(mutex_);
  by_kind_ = std::move(fresh);
  ++generation_;
}

uint64_t DiscoveryCache::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

std::vector<ResourceRef> DiscoveryCache::All() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<ResourceRef> out;
  for (const auto& [key, ref] : by_kind_) out.push_back(ref);
  return out;
}

}  // namespace ferry::installer
