// The flags that say which cluster to talk to (--kubeconfig, --context, --namespace), shared by
// `cluster info`, `install` and `selftest`, and turning them into a loaded ClusterConfig.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "common/status.h"
#include "installer/cluster_config.h"
#include "installer/kubeconfig.h"

namespace ferry::cli {

struct KubeFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_name;
};

void AddKubeFlags(CLI::App* command, KubeFlags* flags);

installer::KubeconfigOptions MakeKubeconfigOptions(const KubeFlags& flags);

// LoadClusterConfig with the flags' options.
Result<installer::ClusterConfig> LoadKubeFlags(const KubeFlags& flags);

}  // namespace ferry::cli
