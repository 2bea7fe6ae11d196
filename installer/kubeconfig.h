// Loading a kubeconfig (or the in-cluster service account) into a ClusterConfig, the way kubectl
// and client-go do: $KUBECONFIG as a merged list of files, --kubeconfig, --context,
// current-context and the context's namespace.
//
// Errors are InvalidArgument (a broken file), NotFound (a file, context, cluster or user that is
// not there), Unsupported (auth-provider, impersonation) or IoError, and name the file, the field
// ("users[1].user.client-key-data") and the line. No message quotes a token, password or key.
#pragma once

#include <string>

#include "common/status.h"
#include "installer/cluster_config.h"

namespace ferry::installer {

struct KubeconfigOptions {
  std::string path;                // --kubeconfig FILE; empty: $KUBECONFIG (list, ':'-separated),
                                   // else ~/.kube/config, else the in-cluster service account
  std::string context;             // --context; empty = current-context
  std::string namespace_override;  // --namespace; empty = the context's namespace, else "default"
};

// Merging follows client-go's loader: across the $KUBECONFIG list the first file that defines a
// cluster, user or context name wins for that name, and the first file that sets current-context
// wins. Files of the list that do not exist are skipped; an explicit `path` that does not exist is
// NotFound. When no file exists at all and the process runs in a pod (KUBERNETES_SERVICE_HOST is
// set), the in-cluster configuration is used.
//
// Relative paths in a file (certificate-authority, client-certificate, client-key, tokenFile, an
// exec command containing '/') resolve against that file's directory. Referenced files are read
// now (the token file is re-read by the credential source); *-data fields are base64.
Result<ClusterConfig> LoadClusterConfig(const KubeconfigOptions& options);

// The service account of the pod this runs in: `directory`/token (re-read on refresh), ca.crt and
// namespace (optional, else "default"), and
// https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
Result<ClusterConfig> LoadInClusterConfig(
    const std::string& directory = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace ferry::installer
