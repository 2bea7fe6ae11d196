// Deleting objects step by step and waiting until they are gone; see object_deleter.h.
#include "installer/object_deleter.h"

#include "installer/namespace_holders.h"

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

// Why a namespace is still terminating, said when it changes; with `force`, its pods are deleted
// with grace period 0 (once each). Returns the latest description for the deadline's error.
std::string WatchHolders(KubeClient& client, const ObjectKey& key, const DeleteStepOptions& options,
                         InstallProgress& progress, std::string& said) {
  KubeResult<NamespaceHolders> holders = ReadNamespaceHolders(client, key.name, options.deadline);
  if (!holders.ok()) return said;
  std::string text = DescribeHolders(*holders);
  if (options.force && !holders->pods.empty()) {
    KubeResult<int> killed = ForceDeletePods(client, key.name, *holders, options.deadline);
    if (killed.ok() && *killed > 0)
      progress.Emit({"warning",
                     "  warning: --force: deleted " + std::to_string(*killed) + " pods in " + key.name +
                         " with grace period 0; their containers may run on a little longer on their nodes",
                     {{"namespace", key.name}, {"forced", *killed}}});
  }
  if (!text.empty() && text != said) {
    progress.Emit({"terminating", "  namespace " + key.name + " still terminating: " + text,
                   {{"namespace", key.name}, {"holders", text}}});
    said = text;
  }
  return said;
}

// Polls until the object answers 404. A namespace that takes a while says what holds it.
Status WaitGone(KubeClient& client, const ResourceRef& ref, const ObjectKey& key, const DeleteStepOptions& options,
                InstallProgress& progress) {
  const bool is_namespace = key.group.empty() && key.kind == "Namespace";
  const auto started = Clock::now();
  auto next_look = started + std::chrono::seconds(3);
  std::string holders;
  while (true) {
    KubeResult<nlohmann::json> live = client.Get(ref, key.ns, key.name, options.deadline);
    if (!live.ok() && live.error().IsNotFound()) return Status::Ok();
    if (!live.ok() && !live.error().IsRetryable()) return live.error().ToStatus().WithContext("wait for " + key.ToString());
    bool last = Clock::now() + options.interval >= options.deadline;
    if (is_namespace && (Clock::now() >= next_look || options.force || last)) {
      WatchHolders(client, key, options, progress, holders);
      next_look = Clock::now() + std::chrono::seconds(5);
    }
    if (last) {
      std::string text = key.ToString() + " was still there when the deadline passed";
      if (is_namespace)
        text += " (still terminating" + (holders.empty() ? std::string() : ": " + holders) +
                "); wait for the grace periods to run out, or run ferry uninstall --force to delete its pods "
                "with grace period 0";
      return Unavailable(text);
    }
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
      if (s.ok() && !options.dry_run) s = WaitGone(client, *ref, key, options, progress);
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
