// The Kubernetes REST client: get, list, create, server-side apply, delete and raw requests against
// one API server, with discovery (kind -> resource) cached and refreshed on demand.
//
// Objects are nlohmann::json. Every call ends in a KubeResult: the value, or an ApiError that keeps
// the server's Status (code, reason, message, causes) apart from transport failures.
//
// Retries: transport errors, 429 (honouring Retry-After) and 500/502/503/504 are retried with
// backoff for idempotent calls (GET, LIST, apply PATCH, DELETE); a create (POST) only when the
// request never reached the server or the server said 429. All retries stop at the call's
// deadline. A 401 makes the client ask its CredentialSource for a fresh credential once, then try
// again (exec plugins, rotated token files).
//
// Thread-safe: the installer applies objects concurrently from a TaskPool.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.h"
#include "common/retry.h"
#include "installer/api_error.h"
#include "installer/cluster_config.h"
#include "installer/discovery.h"

namespace ferry::installer {

using Deadline = std::chrono::steady_clock::time_point;

struct KubeClientOptions {
  RetryPolicy retry;
  // How long one call (with its retries) may take when the caller gives no deadline.
  std::chrono::milliseconds default_timeout{60000};
  std::string field_manager = "ferry";
};

struct ListOptions {
  std::string label_selector;  // "app=x,tier!=db"
  std::string field_selector;  // "metadata.name=x"
  int page_size = 500;         // `limit` per request; pages are followed with `continue`
  Deadline deadline{};         // zero: now + default_timeout
};

struct ApplyOptions {
  bool force = false;    // take ownership of fields another manager owns (else 409 Conflict)
  bool dry_run = false;  // dryRun=All: validated and admitted, not stored
  Deadline deadline{};
};

struct CreateOptions {
  bool dry_run = false;
  Deadline deadline{};
};

struct DeleteOptions {
  std::string propagation_policy = "Background";  // Foreground, Background or Orphan
  bool dry_run = false;
  std::optional<int> grace_period_seconds;  // 0: kill at once (kubectl --force --grace-period=0)
  Deadline deadline{};
};

// A request built by hand (GET /version, POST a review): path with query, optional JSON body.
struct RawRequest {
  std::string method = "GET";
  std::string path;  // "/version", "/apis/authentication.k8s.io/v1/selfsubjectreviews"
  std::string body;
  std::string content_type = "application/json";
  std::string accept = "application/json";
  bool idempotent = true;  // false for POST that creates: retried only when it never arrived
  bool retry = true;       // false: one attempt (plus the 401 refresh); the caller retries itself
  Deadline deadline{};
  // Streams (watch): the body goes to body_writer, no stall limit, `cancelled` can abort.
  BodyWriter body_writer;
  std::function<bool()> cancelled;
  std::string what;  // for messages: "get deployments.apps \"x\" in namespace \"y\""
};

class KubeClient {
 public:
  // `credentials` may be null (no authentication: a test server, a proxy that adds it).
  KubeClient(ClusterConfig config, std::shared_ptr<CredentialSource> credentials, KubeClientOptions options = {});
  KubeClient(const KubeClient&) = delete;
  KubeClient& operator=(const KubeClient&) = delete;

  const ClusterConfig& config() const { return config_; }
  const KubeClientOptions& options() const { return options_; }

  // The resource for apiVersion + kind. When discovery does not know it, refreshes discovery once
  // and looks again; then fails with reason "NotFound" and kubectl's text:
  // no matches for kind "X" in version "G/V".
  KubeResult<ResourceRef> Resolve(std::string_view api_version, std::string_view kind);
  // Fetches discovery again (after CRDs were established, or to start from scratch).
  KubeResult<std::vector<ResourceRef>> RefreshDiscovery(Deadline deadline = {});

  // `ns` is ignored for cluster-scoped resources; empty means the config's namespace for namespaced ones.
  KubeResult<nlohmann::json> Get(const ResourceRef& ref, std::string_view ns, std::string_view name,
                                 Deadline deadline = {});
  // All pages merged into one List object: {"items": [...], "metadata": {"resourceVersion"}}. Every
  // item has kind and apiVersion (the request's, where the server left them out, as real servers do
  // for built-in kinds).
  // `ns` empty lists the config's namespace; "*" lists across all namespaces.
  KubeResult<nlohmann::json> List(const ResourceRef& ref, std::string_view ns, const ListOptions& options = {});
  KubeResult<nlohmann::json> Create(const ResourceRef& ref, std::string_view ns, const nlohmann::json& object,
                                    const CreateOptions& options = {});
  // Server-side apply of `object` (which names itself in metadata.name) as field manager "ferry".
  KubeResult<nlohmann::json> Apply(const ResourceRef& ref, std::string_view ns, const nlohmann::json& object,
                                   const ApplyOptions& options = {});
  // Resolves the object's apiVersion/kind, then applies it in its metadata.namespace.
  KubeResult<nlohmann::json> Apply(const nlohmann::json& object, const ApplyOptions& options = {});
  KubeResult<nlohmann::json> Delete(const ResourceRef& ref, std::string_view ns, std::string_view name,
                                    const DeleteOptions& options = {});

  // Sends a request with authentication and the retry rules above. A 2xx answer comes back as it
  // is (body parsed by the caller); anything else as an ApiError.
  KubeResult<HttpResponse> Send(const RawRequest& request);
  // Send() plus JSON parsing of the answer (an empty body is null).
  KubeResult<nlohmann::json> SendJson(const RawRequest& request);

  // "/api/v1/namespaces/ns/configmaps[/name]" or "/apis/apps/v1/...". `ns` already defaulted.
  static std::string ResourcePath(const ResourceRef& ref, std::string_view ns, std::string_view name = "");
  // The namespace a call for `ref` uses: empty for cluster-scoped, else `ns` or the default.
  std::string NamespaceFor(const ResourceRef& ref, std::string_view ns) const;
  // "get deployments.apps \"x\" in namespace \"y\"" for messages.
  static std::string Describe(std::string_view verb, const ResourceRef& ref, std::string_view ns,
                              std::string_view name = "");

 private:
  Deadline DeadlineOr(Deadline deadline) const;
  KubeResult<std::vector<ResourceRef>> FetchDiscovery(Deadline deadline);
  KubeResult<nlohmann::json> FetchJson(const std::string& path, const std::string& accept, Deadline deadline);

  ClusterConfig config_;
  std::shared_ptr<CredentialSource> credentials_;
  KubeClientOptions options_;
  HttpClient http_;
  DiscoveryCache discovery_;
  std::mutex refresh_mutex_;  // one discovery refresh at a time; others wait and reuse it
};

// A client for a loaded config, with the credential source MakeCredentialSource gives.
std::unique_ptr<KubeClient> MakeKubeClient(const ClusterConfig& config, KubeClientOptions options = {});

}  // namespace ferry::installer
