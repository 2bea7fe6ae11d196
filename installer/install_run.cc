// The install sequence: waves, waits, inventory, prune; see install_run.h.
#include "installer/install_run.h"

#include <set>

#include "common/task_pool.h"
#include "installer/failure_report.h"
#include "installer/inventory.h"
#include "installer/object_deleter.h"
#include "installer/readiness_wait.h"
#include "installer/wave_applier.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// The inventory an earlier install left, if any.
Result<std::optional<Inventory>> ReadInventory(KubeClient& client, Deadline deadline) {
  KubeResult<ResourceRef> ref = client.Resolve("v1", "ConfigMap");
  if (!ref.ok()) return ref.status();
  KubeResult<json> live = client.Get(*ref, kInventoryNamespace, kInventoryName, deadline);
  if (!live.ok()) {
    if (live.error().IsNotFound()) return std::optional<Inventory>();
    return live.error().ToStatus().WithContext("read the inventory of the last install");
  }
  Result<Inventory> inventory = ParseInventory(*live);
  if (!inventory.ok()) return inventory.status();
  return std::optional<Inventory>(std::move(*inventory));
}

Status WriteInventory(KubeClient& client, const Inventory& inventory, Deadline deadline) {
  for (const json& object : {InventoryNamespaceObject(), InventoryConfigMap(inventory)}) {
    KubeResult<json> applied = client.Apply(object, {.force = true, .deadline = deadline});
    if (!applied.ok()) return applied.error().ToStatus().WithContext("record the inventory in " + std::string(kInventoryNamespace));
  }
  return Status::Ok();
}

// The plan's objects that a wave's wait is about.
std::vector<ManifestObject> WaitTargets(const ApplyPlan& plan, const ApplyWave& wave) {
  std::vector<ManifestObject> out;
  if (wave.wait == WaitFor::kAllReady) {
    for (const ApplyWave& w : plan.waves)
      for (const ManifestObject& o : w.objects)
        if (HasReadinessRule(o.object)) out.push_back(o);
    return out;
  }
  std::set<ObjectKey> wanted(wave.wait_for.begin(), wave.wait_for.end());
  for (const ApplyWave& w : plan.waves)
    for (const ManifestObject& o : w.objects)
      if (wanted.count(o.key)) out.push_back(o);
  return out;
}

// True when every object the wait gave up on is a LoadBalancer Service that only lacks an address.
bool OnlyLoadBalancersPending(const WaitOutcome& outcome) {
  if (outcome.pending_objects.empty()) return false;
  for (const json& live : outcome.pending_objects)
    if (live.is_null() || !ReadinessOf(live, {.wait_for_load_balancer = false}).waived) return false;
  return true;
}

// The error for a wait that timed out, with what to do when only load balancers are missing.
Status WaitTimedOut(const char* what, const WaitOutcome& outcome) {
  std::string first = outcome.pending.empty() ? "" : ": " + outcome.pending.front().message;
  std::string text = "timed out waiting for " + std::string(what) + " (" + std::to_string(outcome.pending.size()) +
                     " not ready" + first + ")";
  if (OnlyLoadBalancersPending(outcome))
    text += "; only a LoadBalancer address is missing: on a cluster without a load-balancer controller, "
            "install with --no-wait-load-balancer and reach the gateway through its NodePort";
  return Unavailable(text);
}

const char* WaitLabel(WaitFor wait) {
  switch (wait) {
    case WaitFor::kCrdsEstablished: return "CRDs established";
    case WaitFor::kDeploymentsAvailable: return "webhook Deployments available";
    case WaitFor::kAllReady: return "everything ready";
    case WaitFor::kNothing: break;
  }
  return "nothing";
}

// Prunes what the old inventory has and the new one lacks (CRDs stay: deleting one deletes
// every custom resource of its kind). Returns how many were deleted, and the CRDs kept.
Result<int> Prune(KubeClient& client, TaskPool& pool, const std::vector<InventoryEntry>& candidates,
                  const InstallOptions& options, Deadline deadline, InstallProgress& progress,
                  std::vector<InventoryEntry>* kept) {
  DeletionPlan order = DeletionOrder(candidates, /*include_crds=*/false);
  for (const InventoryEntry& e : candidates)
    for (const ObjectKey& crd : order.kept_crds)
      if (e.key == crd) kept->push_back(e);
  if (order.steps.empty()) return 0;
  KubeResult<std::vector<ResourceRef>> served = client.RefreshDiscovery(deadline);
  if (!served.ok()) return served.status().WithContext("prune");
  int pruned = 0;
  for (const DeletionStep& step : order.steps) {
    Result<int> n = DeleteStepAndWait(client, pool, step, *served,
                                      {.deadline = deadline, .dry_run = options.dry_run, .interval = options.poll_interval,
                                       .verb = "pruned"},
                                      progress);
    if (!n.ok()) return n.status().WithContext("prune " + step.name);
    pruned += *n;
  }
  return pruned;
}

// Adds to `outcome` the workloads of waves 0..last that were not waited for and are not ready
// either: when a wait times out, a missing image elsewhere in the release is worth naming too.
void AddOtherUnreadyWorkloads(KubeClient& client, const ApplyPlan& plan, size_t last,
                              const std::vector<ManifestObject>& waited, const InstallOptions& options,
                              WaitOutcome& outcome) {
  std::set<ObjectKey> seen;
  for (const ManifestObject& o : waited) seen.insert(o.key);
  std::vector<ManifestObject> others;
  for (size_t w = 0; w <= last; ++w)
    for (const ManifestObject& o : plan.waves[w].objects)
      if (!seen.count(o.key) && IsWorkloadKey(o.key)) others.push_back(o);
  if (others.empty()) return;
  NullProgress quiet;
  // One round: the deadline is already here.
  KubeResult<WaitOutcome> now =
      WaitUntilReady(client, others,
                     {.deadline = Clock::now(), .readiness = {.wait_for_load_balancer = options.wait_for_load_balancer},
                      .problems_every = std::chrono::milliseconds(0)},
                     quiet);
  if (!now.ok() || now->ready) return;
  outcome.pending.insert(outcome.pending.end(), now->pending.begin(), now->pending.end());
  outcome.pending_objects.insert(outcome.pending_objects.end(), now->pending_objects.begin(), now->pending_objects.end());
  outcome.pending_manifests.insert(outcome.pending_manifests.end(), now->pending_manifests.begin(),
                                   now->pending_manifests.end());
}

}  // namespace

std::vector<std::string> PlanNamespaces(const ApplyPlan& plan) {
  std::set<std::string> names;
  for (const ApplyWave& w : plan.waves)
    for (const ManifestObject& o : w.objects) {
      if (o.key.group.empty() && o.key.kind == "Namespace") names.insert(o.key.name);
      if (!o.key.ns.empty()) names.insert(o.key.ns);
    }
  return {names.begin(), names.end()};
}

Result<InstallSummary> RunInstall(KubeClient& client, const ApplyPlan& plan, const InstallOptions& options,
                                  InstallProgress& progress) {
  const Deadline deadline = Clock::now() + options.timeout;
  TaskPool pool(options.concurrency);
  InstallSummary summary;

  Result<std::optional<Inventory>> old = ReadInventory(client, deadline);
  if (!old.ok()) return old.status();
  Inventory current = InventoryOf(plan, options.profile, options.version);
  std::vector<InventoryEntry> candidates;
  if (old->has_value()) candidates = PruneCandidates(**old, current);
  if (!options.dry_run) {
    // Recorded before anything is applied, with what the old install had, so that an install
    // that fails half-way can still be uninstalled completely.
    Inventory both = current;
    both.entries.insert(both.entries.end(), candidates.begin(), candidates.end());
    FERRY_RETURN_IF_ERROR(WriteInventory(client, both, deadline));
  }

  const size_t total = plan.waves.size();
  for (size_t i = 0; i < total; ++i) {
    const ApplyWave& wave = plan.waves[i];
    std::string title = "wave " + std::to_string(i + 1) + " of " + std::to_string(total) + ": " + wave.name;
    progress.Emit({"wave", title + " (" + std::to_string(wave.objects.size()) + " objects)",
                   {{"wave", i + 1}, {"of", total}, {"name", wave.name}, {"objects", wave.objects.size()}}});
    Result<std::vector<AppliedObject>> applied =
        ApplyObjects(client, pool, wave.objects, {.deadline = deadline, .dry_run = options.dry_run}, progress);
    if (!applied.ok()) {
      // A webhook that cannot be called: say why its pods are not serving.
      summary.diagnosis = DiagnoseWebhook(client, applied.status().message(), Clock::now() + std::chrono::seconds(20));
      for (const std::string& line : summary.diagnosis) progress.Emit({"diagnosis", line, {{"line", line}}});
      return applied.status();
    }
    for (const AppliedObject& a : *applied) {
      switch (a.outcome) {
        case ApplyOutcome::kCreated: ++summary.created; break;
        case ApplyOutcome::kConfigured: ++summary.configured; break;
        case ApplyOutcome::kUnchanged: ++summary.unchanged; break;
        case ApplyOutcome::kSkipped: ++summary.skipped; break;
      }
    }
    if (options.dry_run || wave.wait == WaitFor::kNothing) continue;
    std::vector<ManifestObject> targets = WaitTargets(plan, wave);
    if (targets.empty()) continue;
    KubeResult<WaitOutcome> waited =
        WaitUntilReady(client, targets,
                       {.deadline = deadline, .interval = options.poll_interval, .what = WaitLabel(wave.wait),
                        .readiness = {.wait_for_load_balancer = options.wait_for_load_balancer}},
                       progress);
    if (!waited.ok()) return waited.status().WithContext(std::string("wait for ") + WaitLabel(wave.wait));
    for (const Readiness& r : waited->waived) {
      std::string line = "  " + r.message + " (not waited for: --no-wait-load-balancer)";
      progress.Emit({"note", line, {{"note", line.substr(2)}}});
    }
    if (!waited->ready) {
      WaitOutcome unready = *waited;
      AddOtherUnreadyWorkloads(client, plan, i, targets, options, unready);
      summary.diagnosis = DiagnoseUnready(client, unready, PlanNamespaces(plan), Clock::now() + std::chrono::seconds(20));
      for (const std::string& line : summary.diagnosis) progress.Emit({"diagnosis", line, {{"line", line}}});
      return WaitTimedOut(WaitLabel(wave.wait), *waited);
    }
    progress.Emit({"ready", "  " + std::string(WaitLabel(wave.wait)) + " (" + std::to_string(targets.size()) + ")",
                   {{"wait", WaitLabel(wave.wait)}, {"objects", targets.size()}}});
    if (wave.wait == WaitFor::kCrdsEstablished) {
      KubeResult<std::vector<ResourceRef>> refreshed = client.RefreshDiscovery(deadline);
      if (!refreshed.ok()) return refreshed.status().WithContext("refresh discovery after the CRDs");
    }
  }

  std::vector<InventoryEntry> kept_crds;
  if (!candidates.empty()) {
    Result<int> pruned = Prune(client, pool, candidates, options, deadline, progress, &kept_crds);
    if (!pruned.ok()) return pruned.status();
    summary.pruned = *pruned;
  }
  if (!options.dry_run) {
    current.entries.insert(current.entries.end(), kept_crds.begin(), kept_crds.end());
    FERRY_RETURN_IF_ERROR(WriteInventory(client, current, deadline));
  }
  return summary;
}

}  // namespace ferry::installer
