// The inventory: what an install recorded, read back; what an upgrade prunes; the uninstall order.
#include "installer/inventory.h"

#include <catch2/catch.hpp>

#include "tests/corpus.h"

using namespace ferry::installer;
using nlohmann::json;

namespace {

ApplyPlan PlanOf(std::initializer_list<const char*> names) {
  std::vector<ManifestFile> files;
  for (const char* name : names) files.push_back({name, ferry::ReadFile(ferry::CorpusDir() / name)});
  auto objects = ObjectsOfFiles(files);
  REQUIRE(objects.ok());
  auto plan = PlanApply(std::move(objects).value());
  REQUIRE(plan.ok());
  return std::move(plan).value();
}

Inventory Make(std::vector<InventoryEntry> entries) { return {"p", "1", std::move(entries)}; }

}  // namespace

TEST_CASE("an inventory ConfigMap round-trips", "[inventory][corpus]") {
  ApplyPlan plan = PlanOf({"knative-serving-v1.23.0-serving-crds.yaml",
                           "knative-serving-v1.23.0-serving-core.yaml", "net-kourier-v1.23.yaml"});
  Inventory inventory = InventoryOf(plan, "knative-1.23-kourier", "1.23.0");
  json cm = InventoryConfigMap(inventory);
  CHECK(cm["metadata"]["namespace"] == kInventoryNamespace);
  CHECK(cm["metadata"]["name"] == kInventoryName);
  CHECK(cm["metadata"]["labels"][kInventoryLabel] == "true");
  CHECK(cm["data"]["profile"] == "knative-1.23-kourier");
  CHECK(cm["data"]["objects"].get<std::string>().find("\n2 apps/Deployment/knative-serving/webhook\n") !=
        std::string::npos);
  CHECK(cm["data"]["objects"].get<std::string>().starts_with("0 /Namespace//knative-serving\n"));

  // As read back from the API server: the same data, more metadata.
  cm["metadata"]["resourceVersion"] = "42";
  auto parsed = ParseInventory(cm);
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  CHECK(parsed->profile == "knative-1.23-kourier");
  CHECK(parsed->version == "1.23.0");
  CHECK(parsed->entries == inventory.entries);
  size_t objects = 0;
  for (const ApplyWave& wave : plan.waves) objects += wave.objects.size();
  CHECK(parsed->entries.size() == objects);
  CHECK(InventoryNamespaceObject()["metadata"]["name"] == kInventoryNamespace);

  // Planned objects carry their wave too.
  std::vector<ManifestObject> flat;
  for (const ApplyWave& wave : plan.waves) flat.insert(flat.end(), wave.objects.begin(), wave.objects.end());
  CHECK(InventoryOf(flat, "knative-1.23-kourier", "1.23.0").entries == inventory.entries);
}

TEST_CASE("a damaged inventory is refused with the line", "[inventory]") {
  json cm = InventoryConfigMap(Make({{{"", "ConfigMap", "n", "c"}, 1}}));
  cm["data"]["objects"] = "1 /ConfigMap/n/c\nx apps/Deployment/n/d\n";
  auto bad = ParseInventory(cm);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "inventory ConfigMap ferry-system/ferry-inventory, data.objects line 2: expected "
        "\"<wave> <group>/<kind>/<namespace>/<name>\", got \"x apps/Deployment/n/d\"");
  cm["data"]["objects"] = "1 ConfigMap/n/c\n";
  CHECK_FALSE(ParseInventory(cm).ok());
  cm["data"]["format"] = "2";
  auto newer = ParseInventory(cm);
  REQUIRE_FALSE(newer.ok());
  CHECK(newer.status().message().find("format \"2\"") != std::string::npos);
}

TEST_CASE("prune: old minus new, by group/kind/namespace/name", "[inventory]") {
  Inventory old_inventory = Make({{{"", "ConfigMap", "knative-serving", "config-gc"}, 1},
                                  {{"", "ConfigMap", "knative-serving", "config-old"}, 1},
                                  {{"extensions", "Deployment", "knative-serving", "webhook"}, 2},
                                  {{"apps", "Deployment", "knative-serving", "gone"}, 2},
                                  {{"", "ConfigMap", "other", "config-gc"}, 1}});
  Inventory current = Make({{{"", "ConfigMap", "knative-serving", "config-gc"}, 1},
                            {{"apps", "Deployment", "knative-serving", "webhook"}, 2},
                            {{"", "ConfigMap", "knative-serving", "config-new"}, 1}});
  std::vector<InventoryEntry> prune = PruneCandidates(old_inventory, current);
  std::vector<ObjectKey> keys;
  for (const InventoryEntry& e : prune) keys.push_back(e.key);
  // The Deployment that moved from extensions to apps is the same object: never pruned.
  CHECK(keys == std::vector<ObjectKey>{{"", "ConfigMap", "knative-serving", "config-old"},
                                       {"apps", "Deployment", "knative-serving", "gone"},
                                       {"", "ConfigMap", "other", "config-gc"}});
  CHECK(SameObject({"extensions", "Ingress", "n", "i"}, {"networking.k8s.io", "Ingress", "n", "i"}));
  CHECK_FALSE(SameObject({"extensions", "Thing", "n", "i"}, {"apps", "Thing", "n", "i"}));
}

TEST_CASE("uninstall order: reverse waves, namespaces, CRDs only when asked", "[inventory][corpus]") {
  ApplyPlan plan =
      PlanOf({"knative-serving-v1.23.0-serving-crds.yaml", "knative-serving-v1.23.0-serving-core.yaml"});
  Inventory inventory = InventoryOf(plan, "p", "1.23.0");

  DeletionPlan keep = DeletionOrder(inventory.entries, false);
  REQUIRE(keep.steps.size() == 4);
  CHECK(keep.steps[0].name == "wave 4 objects");  // custom resources and webhooks first
  CHECK(std::count(keep.steps[0].objects.begin(), keep.steps[0].objects.end(),
                   ObjectKey{"caching.internal.knative.dev", "Image", "knative-serving", "queue-proxy"}) ==
        1);
  CHECK(keep.steps[1].name == "wave 3 objects");  // then the controllers that handled them
  CHECK(std::count(keep.steps[1].objects.begin(), keep.steps[1].objects.end(),
                   ObjectKey{"apps", "Deployment", "knative-serving", "webhook"}) == 1);
  CHECK(keep.steps[2].name == "wave 2 objects");
  CHECK(keep.steps[3].name == "namespaces");
  CHECK(keep.steps[3].objects == std::vector<ObjectKey>{{"", "Namespace", "", "knative-serving"}});
  CHECK(keep.kept_crds.size() == 12);

  DeletionPlan all = DeletionOrder(inventory.entries, true);
  REQUIRE(all.steps.size() == 5);
  CHECK(all.steps.back().name == "CRDs");
  CHECK(all.steps.back().objects.size() == 12);
  CHECK(all.kept_crds.empty());
}
