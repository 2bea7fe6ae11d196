// Where a cluster is and how to authenticate to it: what a kubeconfig context (or the in-cluster
// service account) resolves to, ready for the Kubernetes client. Produced by kubeconfig.h,
// consumed by kube_client.h.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ferry::installer {

// A client-go exec credential plugin (users[].user.exec).
struct ExecConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or v1beta1
  std::string command;
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  bool provide_cluster_info = false;
  std::string install_hint;
};

struct ClusterConfig {
  std::string server;           // "https://host:port", no trailing slash
  std::string tls_server_name;  // name to verify (and send as SNI) instead of the server's host
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;           // certificate-authority(-data), PEM; empty = the system store
  std::string proxy_url;

  // Static credentials (any may be empty).
  std::string client_cert_pem, client_key_pem;
  std::string token;
  std::string token_file;  // re-read on every refresh (rotated service-account tokens)
  std::string username, password;
  std::optional<ExecConfig> exec;

  std::string namespace_name = "default";  // the context's namespace
  std::string context_name;                // empty for in-cluster
  std::string source;                      // where this came from, for messages: "kubeconfig ~/.kube/config, context kind-a"
};

// What to present on one request.
struct Credential {
  std::string authorization;                   // full header value: "Bearer …" or "Basic …"; empty = none
  std::string client_cert_pem, client_key_pem; // client certificate (static or from an exec plugin)
  std::optional<std::chrono::system_clock::time_point> expiry;
};

// Supplies the credential for each request. Current() may cache; Refresh() is called after a 401
// and must obtain a fresh one (re-run the exec plugin, re-read the token file). Thread-safe.
class CredentialSource {
 public:
  virtual ~CredentialSource() = default;
  virtual Result<Credential> Current() = 0;
  virtual Result<Credential> Refresh() = 0;
};

// The source for a config: static token / basic / client cert, token file, or exec plugin.
std::shared_ptr<CredentialSource> MakeCredentialSource(const ClusterConfig& config);

}  // namespace ferry::installer
