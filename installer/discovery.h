// What the API server serves: which kinds exist, under which resource (plural) name, and whether
// they live in a namespace. The RESTMapper of client-go, reduced to what an installer needs.
//
// The documents come from aggregated discovery (GET /api and /apis with the apidiscovery.k8s.io/v2
// Accept header: one answer per call) or, on servers without it, from /api/v1 and /apis/G/V lists.
// Fetching is KubeClient's job; this file parses the answers and keeps the result.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::installer {

// One kind as served at one group/version.
struct ResourceRef {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string kind;     // "Deployment"
  std::string plural;   // "deployments"
  bool namespaced = false;

  std::string GroupVersion() const { return group.empty() ? version : group + "/" + version; }
  // How the API server names the resource in messages: "deployments.apps", "configmaps".
  std::string Label() const { return group.empty() ? plural : plural + "." + group; }
};

// Splits "apps/v1" into {"apps", "v1"} and "v1" into {"", "v1"}.
std::pair<std::string, std::string> SplitApiVersion(std::string_view api_version);

// The Accept header for aggregated discovery, with plain JSON as the fallback.
inline constexpr const char* kAggregatedDiscoveryAccept =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json";

// True when `document` is an APIGroupDiscoveryList (the server understood the v2 Accept header).
bool IsAggregatedDiscovery(const nlohmann::json& document);
// The kinds in an APIGroupDiscoveryList. Subresources are skipped.
std::vector<ResourceRef> ParseAggregatedDiscovery(const nlohmann::json& document);
// The group/versions in an APIVersions (/api: "v1") or APIGroupList (/apis: "apps/v1", ...).
std::vector<std::string> ParseGroupVersions(const nlohmann::json& document);
// The kinds in an APIResourceList (/api/v1, /apis/G/V). Subresources ("pods/log") are skipped.
std::vector<ResourceRef> ParseResourceList(const nlohmann::json& document);

// The kinds known from the last discovery. Thread-safe.
class DiscoveryCache {
 public:
  std::optional<ResourceRef> Find(std::string_view api_version, std::string_view kind) const;
  // Replaces everything known; bumps generation().
  void Replace(const std::vector<ResourceRef>& resources);
  // Counts Replace() calls: a caller that saw generation N and finds N+1 knows someone refreshed.
  uint64_t generation() const;
  std::vector<ResourceRef> All() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, ResourceRef> by_kind_;  // "apps/v1 Deployment"
  uint64_t generation_ = 0;
};

}  // namespace ferry::installer
