// Inventory ConfigMap building, parsing, pruning and deletion order; see inventory.h.
#include "installer/inventory.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <map>
#include <sstream>

namespace ferry::installer {
namespace {

using nlohmann::json;

constexpr char kFormat[] = "1";

// The group a kind lives in today, for kinds that left `extensions`.
std::string CurrentGroup(const ObjectKey& key) {
  if (key.group != "extensions") return key.group;
  if (key.kind == "Deployment" || key.kind == "DaemonSet" || key.kind == "ReplicaSet") return "apps";
  if (key.kind == "Ingress" || key.kind == "NetworkPolicy") return "networking.k8s.io";
  if (key.kind == "PodSecurityPolicy") return "policy";
  return key.group;
}

bool IsNamespace(const ObjectKey& key) { return key.group.empty() && key.kind == "Namespace"; }
bool IsCrd(const ObjectKey& key) {
  return key.group == "apiextensions.k8s.io" && key.kind == "CustomResourceDefinition";
}

// "group/kind/namespace/name" -> key; exactly four parts, kind and name non-empty.
bool ParseKeyPath(std::string_view path, ObjectKey& key) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = path.find('/', start);
    parts.emplace_back(
        path.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (parts.size() != 4 || parts[1].empty() || parts[3].empty()) return false;
  key = {parts[0], parts[1], parts[2], parts[3]};
  return true;
}

}  // namespace

Inventory InventoryOf(const std::vector<ManifestObject>& objects, const std::string& profile,
                      const std::string& version) {
  Inventory inventory{.profile = profile, .version = version};
  for (const ManifestObject& o : objects) inventory.entries.push_back({o.key, std::max(o.wave, 0)});
  return inventory;
}

Inventory InventoryOf(const ApplyPlan& plan, const std::string& profile, const std::string& version) {
  Inventory inventory{.profile = profile, .version = version};
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    for (const ManifestObject& o : plan.waves[i].objects)
      inventory.entries.push_back({o.key, static_cast<int>(i)});
  }
  return inventory;
}

json InventoryNamespaceObject() {
  return {
      {"apiVersion", "v1"},
      {"kind", "Namespace"},
      {"metadata", {{"name", kInventoryNamespace}, {"labels", {{"app.kubernetes.io/managed-by", "ferry"}}}}}};
}

json InventoryConfigMap(const Inventory& inventory) {
  std::string lines;
  for (const InventoryEntry& e : inventory.entries)
    lines += std::to_string(e.wave) + " " + e.key.Path() + "\n";
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata",
           {{"name", kInventoryName},
            {"namespace", kInventoryNamespace},
            {"labels", {{"app.kubernetes.io/managed-by", "ferry"}, {kInventoryLabel, "true"}}}}},
          {"data",
           {{"format", kFormat},
            {"profile", inventory.profile},
            {"version", inventory.version},
            {"objects", lines}}}};
}

Result<Inventory> ParseInventory(const json& config_map) {
  const json& metadata =
      config_map.is_object() && config_map.contains("metadata") ? config_map["metadata"] : json();
  std::string name = "ConfigMap " + StringField(metadata, "namespace") + "/" + StringField(metadata, "name");
  const json& data = config_map.is_object() && config_map.contains("data") ? config_map["data"] : json();
  if (!data.is_object()) return InvalidArgument("inventory " + name + " has no data");
  std::string format = StringField(data, "format");
  if (format != kFormat) {
    return InvalidArgument("inventory " + name + " has format \"" + format + "\"; this ferry reads format " +
                           kFormat + " (a newer ferry wrote it?)");
  }
  Inventory inventory{.profile = StringField(data, "profile"), .version = StringField(data, "version")};
  std::istringstream lines(StringField(data, "objects"));
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.empty()) continue;
    size_t space = line.find(' ');
    InventoryEntry entry;
    bool ok = space != std::string::npos && space > 0;
    if (ok) {
      auto [end, error] = std::from_chars(line.data(), line.data() + space, entry.wave);
      ok = error == std::errc() && end == line.data() + space && entry.wave >= 0 &&
           ParseKeyPath(std::string_view(line).substr(space + 1), entry.key);
    }
    if (!ok) {
      return InvalidArgument("inventory " + name + ", data.objects line " + std::to_string(number) +
                             ": expected \"<wave> <group>/<kind>/<namespace>/<name>\", got \"" + line + "\"");
    }
    inventory.entries.push_back(std::move(entry));
  }
  return inventory;
}

bool SameObject(const ObjectKey& a, const ObjectKey& b) {
  return a.kind == b.kind && a.ns == b.ns && a.name == b.name && CurrentGroup(a) == CurrentGroup(b);
}

std::vector<InventoryEntry> PruneCandidates(const Inventory& old_inventory, const Inventory& current) {
  std::vector<InventoryEntry> prune;
  for (const InventoryEntry& old_entry : old_inventory.entries) {
    bool kept = std::any_of(current.entries.begin(), current.entries.end(),
                            [&](const InventoryEntry& e) { return SameObject(e.key, old_entry.key); });
    if (!kept) prune.push_back(old_entry);
  }
  return prune;
}

DeletionPlan DeletionOrder(const std::vector<InventoryEntry>& entries, bool include_crds) {
  std::map<int, std::vector<ObjectKey>, std::greater<int>> by_wave;
  std::vector<ObjectKey> namespaces, crds;
  for (const InventoryEntry& e : entries) {
    if (IsNamespace(e.key))
      namespaces.push_back(e.key);
    else if (IsCrd(e.key))
      crds.push_back(e.key);
    else
      by_wave[e.wave].push_back(e.key);
  }
  DeletionPlan plan;
  for (auto& [wave, keys] : by_wave)
    plan.steps.push_back({"wave " + std::to_string(wave + 1) + " objects", std::move(keys)});
  if (!namespaces.empty()) plan.steps.push_back({"namespaces", std::move(namespaces)});
  if (include_crds && !crds.empty())
    plan.steps.push_back({"CRDs", std::move(crds)});
  else
    plan.kept_crds = std::move(crds);
  return plan;
}

}  // namespace ferry::installer
