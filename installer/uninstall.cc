// Deleting an install in reverse order; see uninstall.h.
#include "installer/uninstall.h"

#include "common/task_pool.h"
#include "installer/inventory.h"
#include "installer/object_deleter.h"

namespace ferry::installer {

using Clock = std::chrono::steady_clock;

Result<UninstallSummary> RunUninstall(KubeClient& client, const UninstallOptions& options, InstallProgress& progress) {
  const Deadline deadline = Clock::now() + options.timeout;
  KubeResult<ResourceRef> config_maps = client.Resolve("v1", "ConfigMap");
  if (!config_maps.ok()) return config_maps.status();
  KubeResult<nlohmann::json> live = client.Get(*config_maps, kInventoryNamespace, kInventoryName, deadline);
  if (!live.ok()) {
    if (live.error().IsNotFound())
      return NotFound(std::string("nothing to uninstall: no inventory ConfigMap ") + kInventoryNamespace + "/" +
                      kInventoryName + " (was Knative installed with ferry install on this cluster?)");
    return live.error().ToStatus().WithContext("read the inventory");
  }
  Result<Inventory> inventory = ParseInventory(*live);
  if (!inventory.ok()) return inventory.status();
  UninstallSummary summary{inventory->profile, inventory->version};

  DeletionPlan order = DeletionOrder(inventory->entries, options.delete_crds);
  for (const ObjectKey& crd : order.kept_crds) summary.kept_crds.push_back(crd.ToString());
  // The inventory itself goes last, so an uninstall that stops half-way can be run again.
  order.steps.push_back({"inventory", {ObjectKey{"", "ConfigMap", kInventoryNamespace, kInventoryName}}});
  order.steps.push_back({"inventory namespace", {ObjectKey{"", "Namespace", "", kInventoryNamespace}}});

  KubeResult<std::vector<ResourceRef>> served = client.RefreshDiscovery(deadline);
  if (!served.ok()) return served.status().WithContext("uninstall");
  TaskPool pool(options.concurrency);
  for (const DeletionStep& step : order.steps) {
    progress.Emit({"step", "deleting " + step.name + " (" + std::to_string(step.objects.size()) + ")",
                   {{"step", step.name}, {"objects", step.objects.size()}}});
    Result<int> n = DeleteStepAndWait(client, pool, step, *served,
                                      {.deadline = deadline, .dry_run = options.dry_run, .interval = options.poll_interval,
                                       .force = options.force},
                                      progress);
    if (!n.ok()) return n.status().WithContext("uninstall, " + step.name);
    summary.deleted += *n;
  }
  return summary;
}

}  // namespace ferry::installer
