// What ferry installed, recorded in the cluster as a ConfigMap in the `ferry-system` namespace,
// so that a later install prunes what the new release no longer has and `ferry uninstall`
// deletes exactly what was installed, in a safe order. Pure: building, parsing and diffing.
//
// The ConfigMap's data: `profile`, `version`, `format` ("1") and `objects`, one line per object:
//   "<wave> <group>/<kind>/<namespace>/<name>"   (group and namespace may be empty)
// where <wave> is the object's wave index in the plan that applied it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "installer/apply_plan.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

inline constexpr char kInventoryNamespace[] = "ferry-system";
inline constexpr char kInventoryName[] = "ferry-inventory";
inline constexpr char kInventoryLabel[] = "ferry.dev/inventory";

struct InventoryEntry {
  ObjectKey key;
  int wave = 0;

  bool operator==(const InventoryEntry&) const = default;
};

struct Inventory {
  std::string profile;                  // "knative-1.23-kourier"
  std::string version;                  // "1.23.0"
  std::vector<InventoryEntry> entries;  // in apply order
};

// The inventory of planned objects (ManifestObject::wave must be set; -1 counts as 0).
Inventory InventoryOf(const std::vector<ManifestObject>& objects, const std::string& profile,
                      const std::string& version);
Inventory InventoryOf(const ApplyPlan& plan, const std::string& profile, const std::string& version);

// The Namespace that holds inventories, and the inventory ConfigMap itself.
nlohmann::json InventoryNamespaceObject();
nlohmann::json InventoryConfigMap(const Inventory& inventory);

// Reads an inventory ConfigMap back. InvalidArgument naming the ConfigMap and the line for an
// unknown format or a malformed line.
Result<Inventory> ParseInventory(const nlohmann::json& config_map);

// True when both keys name the same object: equal, or equal but for the old `extensions` group
// of kinds that moved (Deployment, DaemonSet, ReplicaSet -> apps; Ingress, NetworkPolicy ->
// networking.k8s.io; PodSecurityPolicy -> policy), so an upgrade never prunes what it updates.
bool SameObject(const ObjectKey& a, const ObjectKey& b);

// The entries of `old_inventory` that `current` no longer has (old minus new), in old order.
std::vector<InventoryEntry> PruneCandidates(const Inventory& old_inventory, const Inventory& current);

struct DeletionStep {
  std::string name;                // "wave 4 objects", "namespaces", "CRDs"
  std::vector<ObjectKey> objects;  // deleted concurrently; the next step waits until they are gone
};

struct DeletionPlan {
  std::vector<DeletionStep> steps;
  std::vector<ObjectKey> kept_crds;  // CRDs left in place because include_crds was false
};

// The order to delete `entries` in (for uninstall, or for pruning): waves in reverse, so custom
// resources and webhook configurations go while their controllers still run, then workloads,
// then configuration; then Namespaces; CRDs last and only when `include_crds` (deleting a CRD
// deletes every custom resource of its kind in the cluster, users' included).
DeletionPlan DeletionOrder(const std::vector<InventoryEntry>& entries, bool include_crds);

}  // namespace ferry::installer
