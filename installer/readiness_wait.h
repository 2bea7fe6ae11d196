// Waiting until applied objects are ready (readiness.h), by listing them again at a short
// interval: one List per resource and namespace per round, so a wave of twenty Deployments costs
// one request per round, not twenty. Says what is still awaited whenever that changes.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "installer/install_progress.h"
#include "installer/kube_client.h"
#include "installer/manifest_objects.h"
#include "installer/readiness.h"

namespace ferry::installer {

struct WaitOptions {
  Deadline deadline{};
  std::chrono::milliseconds interval{200};
  std::string what;  // "CRDs established", for the progress lines
  ReadinessOptions readiness;  // what not to wait for
  // How often to look at the pods of workloads still pending and say each new problem (a pull that
  // failed, a crash loop) while waiting on; zero: never.
  std::chrono::milliseconds problems_every{5000};
};

struct WaitOutcome {
  bool ready = false;               // every object Current before the deadline
  std::vector<Readiness> pending;   // the objects that were not (last seen state), in input order
  std::vector<nlohmann::json> pending_objects;  // their last live copies (null when not found)
  std::vector<ManifestObject> pending_manifests;  // their manifests
  std::vector<Readiness> waived;  // counted as ready only because options.readiness said so (once each)
  int rounds = 0;
};

// Returns when every object in `objects` is Current (ready = true) or when the deadline passes
// (ready = false, pending says why). An API error that retries could not get past (Forbidden,
// a server gone for longer than the client's retries) is returned as the error.
KubeResult<WaitOutcome> WaitUntilReady(KubeClient& client, const std::vector<ManifestObject>& objects,
                                       const WaitOptions& options, InstallProgress& progress);

}  // namespace ferry::installer
