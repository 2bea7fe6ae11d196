// Concurrent server-side apply of one wave, with retries inside the install's deadline; see
// wave_applier.h.
#include "installer/wave_applier.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include "installer/apply_plan.h"
#include "installer/apply_retry.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// Deletes a Job that must be recreated and waits until it is gone (its name is then free).
KubeResult<bool> DeleteJobAndWait(KubeClient& client, const ResourceRef& ref, const ObjectKey& key, Deadline deadline) {
  KubeResult<json> deleted = client.Delete(ref, key.ns, key.name, {.propagation_policy = "Background", .deadline = deadline});
  if (!deleted.ok() && !deleted.error().IsNotFound()) return deleted.error();
  while (Clock::now() < deadline) {
    KubeResult<json> live = client.Get(ref, key.ns, key.name, deadline);
    if (!live.ok() && live.error().IsNotFound()) return true;
    if (!live.ok()) return live.error();
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return LocalApiError("Timeout", "the old Job " + key.ToString() + " was not gone before the deadline",
                       "recreate Job " + key.ToString());
}

// One attempt: resolve, read the live object, recreate a changed Job, apply.
KubeResult<AppliedObject> ApplyOnce(KubeClient& client, const ManifestObject& o, const WaveApplyOptions& options) {
  const json& object = o.object;
  KubeResult<ResourceRef> ref = client.Resolve(object.value("apiVersion", ""), object.value("kind", ""));
  if (!ref.ok()) return ref.error();
  KubeResult<json> live = client.Get(*ref, o.key.ns, o.key.name, options.deadline);
  std::optional<json> before;
  if (live.ok()) {
    before = std::move(*live);
  } else if (!live.error().IsNotFound()) {
    return live.error();
  }
  AppliedObject out{o.key};
  if (before && o.key.group == "batch" && o.key.kind == "Job" && JobNeedsRecreate(*before, object)) {
    if (options.dry_run) {
      out.outcome = ApplyOutcome::kConfigured;
      out.note = "would be deleted and created again (its spec changed)";
      return out;
    }
    KubeResult<bool> gone = DeleteJobAndWait(client, *ref, o.key, options.deadline);
    if (!gone.ok()) return gone.error();
    before.reset();
    // Said, so the user sees why a completed Job runs again.
    out.note = "deleted and created again: its spec changed and a Job's spec cannot be updated";
  }
  KubeResult<json> applied =
      client.Apply(*ref, o.key.ns, object, {.force = true, .dry_run = options.dry_run, .deadline = options.deadline});
  if (!applied.ok()) return applied.error();
  if (!before) {
    out.outcome = ApplyOutcome::kCreated;
  } else {
    out.outcome = ResourceVersion(*before) == ResourceVersion(*applied) ? ApplyOutcome::kUnchanged
                                                                            : ApplyOutcome::kConfigured;
  }
  return out;
}

Result<AppliedObject> ApplyWithRetries(KubeClient& client, const ManifestObject& o, const WaveApplyOptions& options,
                                       InstallProgress& progress) {
  for (int attempt = 1;; ++attempt) {
    KubeResult<AppliedObject> result = ApplyOnce(client, o, options);
    if (result.ok()) {
      result->attempts = attempt;
      return std::move(*result);
    }
    const ApiError& error = result.error();
    std::string where = o.key.ToString() + " (" + o.Where() + ")";
    // In a dry run nothing earlier was stored: a namespace or kind this install creates is missing.
    if (options.dry_run && (error.IsNotFound() || error.message.find("no matches for kind") != std::string::npos))
      return AppliedObject{o.key, ApplyOutcome::kSkipped, attempt, "needs what this install creates first: " + error.message};
    ApplyErrorClass what = ClassifyApplyError(error);
    if (what.action == ApplyRetry::kFatal) {
      Status status = error.ToStatus();
      return Status(status.code(), "apply " + where + ": " + error.ToString());
    }
    std::chrono::milliseconds delay = ApplyRetryDelay(attempt, error);
    if (Clock::now() + delay >= options.deadline) {
      return Unavailable("apply " + where + ": still failing when the deadline passed (" + what.why +
                         ", " + std::to_string(attempt) + " attempts): " + error.ToString());
    }
    progress.Emit({"retry", "  retrying " + o.key.ToString() + ": " + what.why,
                   {{"object", o.key.ToString()}, {"attempt", attempt}, {"reason", what.why},
                    {"error", error.ServerText()}},
                   /*detail=*/true});
    if (what.action == ApplyRetry::kRefreshDiscovery) (void)client.RefreshDiscovery(options.deadline);
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace

const char* ApplyOutcomeName(ApplyOutcome outcome) {
  switch (outcome) {
    case ApplyOutcome::kCreated: return "created";
    case ApplyOutcome::kConfigured: return "configured";
    case ApplyOutcome::kUnchanged: return "unchanged";
    case ApplyOutcome::kSkipped: return "skipped";
  }
  return "unknown";
}

Result<std::vector<AppliedObject>> ApplyObjects(KubeClient& client, TaskPool& pool,
                                                const std::vector<ManifestObject>& objects,
                                                const WaveApplyOptions& options, InstallProgress& progress) {
  std::vector<std::optional<Result<AppliedObject>>> results(objects.size());
  std::mutex mutex;
  for (size_t i = 0; i < objects.size(); ++i) {
    pool.Post([&, i] {
      Result<AppliedObject> r = ApplyWithRetries(client, objects[i], options, progress);
      if (r.ok()) {
        std::string text = "  " + r->key.ToString() + " " + ApplyOutcomeName(r->outcome);
        if (!r->note.empty()) text += " (" + r->note + ")";
        progress.Emit({"applied", text,
                       {{"object", r->key.ToString()}, {"outcome", ApplyOutcomeName(r->outcome)},
                        {"attempts", r->attempts}, {"dryRun", options.dry_run}}});
      }
      std::lock_guard<std::mutex> lock(mutex);
      results[i] = std::move(r);
    });
  }
  pool.Wait();
  std::vector<AppliedObject> out;
  for (std::optional<Result<AppliedObject>>& r : results) {
    if (!r->ok()) return r->status();
    out.push_back(std::move(r->value()));
  }
  return out;
}

}  // namespace ferry::installer
