// `ferry uninstall`: deletes what the inventory in ferry-system says was installed, in reverse
// order (custom resources and webhook configurations while their controllers still run, then
// workloads, then configuration, then namespaces, waiting until each step is gone), and finally
// the inventory and its namespace. CRDs only when asked: deleting a CRD deletes every custom
// resource of its kind, users' Knative Services included.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"
#include "installer/install_progress.h"
#include "installer/kube_client.h"

namespace ferry::installer {

struct UninstallOptions {
  bool delete_crds = false;
  bool dry_run = false;
  // Pods that hold a terminating namespace are deleted with grace period 0 (kubectl's --force).
  bool force = false;
  std::chrono::milliseconds timeout{600000};
  int concurrency = 8;
  std::chrono::milliseconds poll_interval{200};
};

struct UninstallSummary {
  std::string profile, version;  // from the inventory
  int deleted = 0;
  std::vector<std::string> kept_crds;  // "CustomResourceDefinition services.serving.knative.dev"
};

// NotFound when the cluster has no inventory (nothing was installed by ferry, or it is gone).
Result<UninstallSummary> RunUninstall(KubeClient& client, const UninstallOptions& options, InstallProgress& progress);

}  // namespace ferry::installer
