// Applies the objects of one wave concurrently with server-side apply (never PUT, so the
// caBundle and certificates Knative's webhook fills in survive a re-install), each retried with
// backoff (apply_retry.h) until the install's deadline, and says for each whether the cluster
// changed: created, configured, or unchanged (a no-op apply keeps the resourceVersion).
//
// Jobs are immutable: a live Job whose spec hash differs from the wanted one is deleted (with its
// pods) and created again once it is gone.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "common/task_pool.h"
#include "installer/install_progress.h"
#include "installer/kube_client.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

enum class ApplyOutcome { kCreated, kConfigured, kUnchanged, kSkipped };

// "created", "configured", "unchanged", "skipped".
const char* ApplyOutcomeName(ApplyOutcome outcome);

struct AppliedObject {
  ObjectKey key;
  ApplyOutcome outcome = ApplyOutcome::kUnchanged;
  int attempts = 0;
  std::string note;  // why it was skipped (dry run: its namespace or CRD comes with this install), or
                     // that a changed Job was deleted and created again
};

struct WaveApplyOptions {
  Deadline deadline{};
  bool dry_run = false;
};

// Applies `objects` on `pool`, emitting one "applied" event per object and a "retry" event (detail)
// per retried attempt. Returns every outcome, in the order of `objects`, or the first error that
// was not worth retrying (or the last one when the deadline passed), naming the object and
// its file:line.
Result<std::vector<AppliedObject>> ApplyObjects(KubeClient& client, TaskPool& pool,
                                                const std::vector<ManifestObject>& objects,
                                                const WaveApplyOptions& options, InstallProgress& progress);

}  // namespace ferry::installer
