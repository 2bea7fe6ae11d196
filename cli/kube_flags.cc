#include "cli/kube_flags.h"

namespace ferry::cli {

void AddKubeFlags(CLI::App* command, KubeFlags* flags) {
  command->add_option("--kubeconfig", flags->kubeconfig,
                      "kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else in-cluster)");
  command->add_option("--context", flags->context, "kubeconfig context to use (default: current-context)");
  command->add_option("-n,--namespace", flags->namespace_name,
                      "Namespace for namespaced objects (default: the context's namespace)");
}

installer::KubeconfigOptions MakeKubeconfigOptions(const KubeFlags& flags) {
  return installer::KubeconfigOptions{
      .path = flags.kubeconfig, .context = flags.context, .namespace_override = flags.namespace_name};
}

Result<installer::ClusterConfig> LoadKubeFlags(const KubeFlags& flags) {
  return installer::LoadClusterConfig(MakeKubeconfigOptions(flags));
}

}  // namespace ferry::cli
