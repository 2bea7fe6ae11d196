// Deleting objects step by step and waiting until they are gone; see object_deleter.h.
#include "installer/object_deleter.h"

#include <mutex>
#include <thread>

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;

// Deletes one object; true when it existed.
Result<bool> DeleteOne(KubeClient& client, const ResourceRef& ref, const ObjectKey& key, const DeleteStepOptions& options) {
  KubeResult<nlohmann::json> deleted =
      client.Delete(ref, key.ns, key.name, {.dry_run = options.dry_run, .deadline = options.deadline});
  if (deleted.ok()) return true;
  if (deleted.error().IsNotFound()) return false;
  return deleted.error().ToStatus().WithContext("delete " + key.ToString());
}

// Polls until the object answers 404.
Status WaitGone(KubeClient& client, const ResourceRef& ref, const ObjectKey& key, const DeleteStepOptions& options) {
  while (true) {
    KubeResult<nlohmann::json> live = client.Get(ref, key.ns, key.name, options.deadline);
    if (!live.ok() && live.error().IsNotFound()) return Status::Ok();
    if (!live.ok() && !live.error().IsRetryable()) return live.error().ToStatus().WithContext("wait for " + key.ToString());
    if (Clock::now() + options.interval >= options.deadline)
      return Unavailable(key.ToString() + " was still there when the deadline passed" +
                         (key.kind == "Namespace" ? " (the namespace is still terminating)" : ""));
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace

std::optional<ResourceRef> FindResource(const std::vector<ResourceRef>& served, const ObjectKey& key) {
  for (const ResourceRef& r : served)
    if (r.group == key.group && r.kind == key.kind) return r;
  for (const ResourceRef& r : served)
    if (r.kind == key.kind && SameObject(ObjectKey{r.group, r.kind, key.ns, key.name}, key)) return r;
  return std::nullopt;
}

Result<int> DeleteStepAndWait(KubeClient& client, TaskPool& pool, const DeletionStep& step,
                              const std::vector<ResourceRef>& served, const DeleteStepOptions& options,
                              InstallProgress& progress) {
  std::mutex mutex;
  Status failure;
  int existed = 0;
  for (const ObjectKey& key : step.objects) {
    pool.Post([&, key] {
      std::optional<ResourceRef> ref = FindResource(served, key);
      if (!ref) return;  // the kind is gone, and its objects with it
      Result<bool> deleted = DeleteOne(client, *ref, key, options);
      Status s = deleted.ok() ? Status::Ok() : deleted.status();
      if (s.ok() && !options.dry_run) s = WaitGone(client, *ref, key, options);
      std::lock_guard<std::mutex> lock(mutex);
      if (!s.ok()) {
        if (failure.ok()) failure = s;
        return;
      }
      if (*deleted) {
        ++existed;
        progress.Emit({options.verb, "  " + key.ToString() + " " + options.verb,
                       {{"object", key.ToString()}, {"dryRun", options.dry_run}}});
      }
    });
  }
  pool.Wait();
  if (!failure.ok()) return failure;
  return existed;
}

}  // namespace ferry::installer
