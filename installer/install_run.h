// `ferry install` against a cluster, once the release is planned (apply_plan.h): apply wave after
// wave, wait after the waves that need it (CRDs Established then discovery refreshed, webhook
// Deployments Available, finally everything ready), record the inventory in ferry-system, and
// prune what an earlier install recorded that this release no longer has. All of it inside one
// deadline. On a wait that does not finish, the result carries the diagnosis (failure_report.h).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "installer/apply_plan.h"
#include "installer/install_progress.h"
#include "installer/kube_client.h"

namespace ferry::installer {

struct InstallOptions {
  std::string profile;  // recorded in the inventory
  std::string version;
  std::chrono::milliseconds timeout{600000};  // the whole install, waits included
  bool dry_run = false;                       // dryRun=All for every apply; no waits, no inventory
  int concurrency = 8;                        // objects applied at once inside a wave
  std::chrono::milliseconds poll_interval{200};
  // false (--no-wait-load-balancer): a LoadBalancer Service without an address counts as ready,
  // said once as a "note"; for clusters without a load-balancer controller.
  bool wait_for_load_balancer = true;
};

struct InstallSummary {
  int created = 0, configured = 0, unchanged = 0, skipped = 0, pruned = 0;
  bool changed() const { return created + configured + pruned > 0; }
  std::vector<std::string> diagnosis;  // when a wait did not finish: what is wrong, one line each
};

// Runs the plan. A failed wait returns Unavailable whose message says what was awaited (and, when
// only LoadBalancer addresses are missing, the flag that does not wait for them); the diagnosis
// lines are emitted as "diagnosis" events before that.
Result<InstallSummary> RunInstall(KubeClient& client, const ApplyPlan& plan, const InstallOptions& options,
                                  InstallProgress& progress);

// The namespaces the plan's objects live in (Namespace objects and namespaced objects), sorted.
std::vector<std::string> PlanNamespaces(const ApplyPlan& plan);

}  // namespace ferry::installer
