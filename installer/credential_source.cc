// Placeholder until the credential sources land (kubeconfig work in progress).
#include "installer/cluster_config.h"

namespace ferry::installer {

std::shared_ptr<CredentialSource> MakeCredentialSource(const ClusterConfig&) { return nullptr; }

}  // namespace ferry::installer
