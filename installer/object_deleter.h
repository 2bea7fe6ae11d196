// Deleting what an install made, one DeletionStep (inventory.h) at a time: the step's objects
// are deleted concurrently, then polled until every one is gone (finalizers done, a namespace
// finished terminating), so the next step starts only when the previous one really left.
// Used by `ferry uninstall` and by the prune after an upgrade.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/task_pool.h"
#include "installer/install_progress.h"
#include "installer/inventory.h"
#include "installer/kube_client.h"

namespace ferry::installer {

// The resource that serves `key`'s group and kind (or its newer group, inventory.h SameObject),
// preferring the first version discovery lists; nullopt when the cluster serves none (a CRD that
// is already gone took its objects with it).
std::optional<ResourceRef> FindResource(const std::vector<ResourceRef>& served, const ObjectKey& key);

struct DeleteStepOptions {
  Deadline deadline{};
  bool dry_run = false;
  std::chrono::milliseconds interval{200};
  std::string verb = "deleted";  // for events: "deleted" or "pruned"
  // A namespace still terminating gets its pods deleted with grace period 0 (with a warning).
  bool force = false;
};

// Deletes the step's objects and waits until they are gone. Returns how many existed. An object
// already absent counts as done; errors name the object.
Result<int> DeleteStepAndWait(KubeClient& client, TaskPool& pool, const DeletionStep& step,
                              const std::vector<ResourceRef>& served, const DeleteStepOptions& options,
                              InstallProgress& progress);

}  // namespace ferry::installer
