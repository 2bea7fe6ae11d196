#include "installer/kube_client.h"

#include <algorithm>
#include <thread>

#include "common/log.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;

std::string Quoted(std::string_view s) { return "\"" + std::string(s) + "\""; }

KubeResult<nlohmann::json> ParseJson(const HttpResponse& response, const std::string& context) {
  if (response.body.empty()) return nlohmann::json();
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return LocalApiError("InternalError", "the server's answer is not JSON (HTTP " + std::to_string(response.status) + ")",
                         context);
  return body;
}

std::string MetadataString(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object()) return "";
  const nlohmann::json& value = object["metadata"].value(key, nlohmann::json());
  return value.is_string() ? value.get<std::string>() : "";
}

}  // namespace

KubeClient::KubeClient(ClusterConfig config, std::shared_ptr<CredentialSource> credentials, KubeClientOptions options)
    : config_(std::move(config)),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      http_([this] {
        HttpClientOptions http;
        http.tls.verify = !config_.insecure_skip_tls_verify;
        http.tls.ca_pem = config_.ca_pem;
        http.tls.server_name = config_.tls_server_name;
        http.tls.client_cert_pem = config_.client_cert_pem;
        http.tls.client_key_pem = config_.client_key_pem;
        http.proxy_url = config_.proxy_url;
        return http;
      }()) {}

Deadline KubeClient::DeadlineOr(Deadline deadline) const {
  return deadline == Deadline{} ? Clock::now() + options_.default_timeout : deadline;
}

std::string KubeClient::NamespaceFor(const ResourceRef& ref, std::string_view ns) const {
  if (!ref.namespaced || ns == "*") return "";
  return ns.empty() ? config_.namespace_name : std::string(ns);
}

std::string KubeClient::ResourcePath(const ResourceRef& ref, std::string_view ns, std::string_view name) {
  std::string path = ref.group.empty() ? "/api/" + ref.version : "/apis/" + ref.group + "/" + ref.version;
  if (ref.namespaced && !ns.empty()) path += "/namespaces/" + UrlEncode(ns);
  path += "/" + ref.plural;
  if (!name.empty()) path += "/" + UrlEncode(name);
  return path;
}

std::string KubeClient::Describe(std::string_view verb, const ResourceRef& ref, std::string_view ns,
                                 std::string_view name) {
  std::string text = std::string(verb) + " " + ref.Label();
  if (!name.empty()) text += " " + Quoted(name);
  if (ref.namespaced && !ns.empty()) text += " in namespace " + Quoted(ns);
  return text;
}

KubeResult<HttpResponse> KubeClient::Send(const RawRequest& request) {
  const Deadline deadline = DeadlineOr(request.deadline);
  const std::string context =
      (request.what.empty() ? request.method + " " + request.path : request.what) + " (server " + config_.server + ")";
  bool refreshed = false;
  for (int attempt = 1;; ++attempt) {
    Credential credential;
    if (credentials_) {
      Result<Credential> current = credentials_->Current();
      if (!current.ok()) return TransportApiError(current.status(), context);
      credential = std::move(*current);
    }
    HttpRequest http{.method = request.method, .url = config_.server + request.path};
    http.headers.push_back("Accept: " + request.accept);
    if (!request.body.empty() || request.method == "POST" || request.method == "PATCH" || request.method == "PUT") {
      http.headers.push_back("Content-Type: " + request.content_type);
      http.body = request.body;
    }
    if (!credential.authorization.empty()) http.headers.push_back("Authorization: " + credential.authorization);
    http.client_cert_pem = credential.client_cert_pem;
    http.client_key_pem = credential.client_key_pem;
    http.follow_redirects = false;
    http.body_writer = request.body_writer;
    http.cancelled = request.cancelled;
    bool streaming = static_cast<bool>(request.body_writer);
    http.allow_idle = streaming;
    if (!streaming) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      http.timeout = std::max(left, std::chrono::milliseconds(1000));  // one short try even when late
    }
    bool sent = true;
    http.request_sent = &sent;

    Result<HttpResponse> result = http_.Send(http);
    if (result.ok() && result->status >= 200 && result->status < 300) return std::move(result).value();

    if (result.ok() && result->status == 401 && credentials_ && !refreshed) {
      // The token may have expired or rotated: ask the source for a fresh one, once.
      refreshed = true;
      Result<Credential> fresh = credentials_->Refresh();
      if (!fresh.ok()) return TransportApiError(fresh.status().WithContext("refreshing credentials after 401"), context);
      continue;
    }

    ApiError error = result.ok() ? ApiErrorFromResponse(*result, context) : TransportApiError(result.status(), context);
    // A create that reached the server may have happened: only ask again when it did not, or when
    // the server said it did nothing (429).
    bool may_repeat = request.idempotent || (!result.ok() && !sent) || (result.ok() && result->status == 429);
    if (!request.retry || !error.IsRetryable() || !may_repeat || attempt >= options_.retry.max_attempts) return error;
    auto delay = RetryDelay(options_.retry, attempt, result, RandomUnit());
    if (error.retry_after_seconds && result.ok() && result->Header("retry-after").empty())
      delay = std::min<std::chrono::milliseconds>(std::chrono::seconds(*error.retry_after_seconds),
                                                  options_.retry.max_retry_after);
    if (Clock::now() + delay > deadline) {
      error.context += " (gave up after " + std::to_string(attempt) + " attempts: deadline)";
      return error;
    }
    Log(LogLevel::kInfo, context + ": " + error.ServerText() + "; retrying in " + std::to_string(delay.count()) + "ms");
    std::this_thread::sleep_for(delay);
  }
}

KubeResult<nlohmann::json> KubeClient::SendJson(const RawRequest& request) {
  KubeResult<HttpResponse> response = Send(request);
  if (!response.ok()) return response.error();
  return ParseJson(*response, (request.what.empty() ? request.method + " " + request.path : request.what) +
                                  " (server " + config_.server + ")");
}

KubeResult<nlohmann::json> KubeClient::FetchJson(const std::string& path, const std::string& accept, Deadline deadline) {
  return SendJson(RawRequest{.path = path, .accept = accept, .deadline = deadline, .what = "discovery GET " + path});
}

KubeResult<std::vector<ResourceRef>> KubeClient::FetchDiscovery(Deadline deadline) {
  deadline = DeadlineOr(deadline);
  KubeResult<nlohmann::json> core = FetchJson("/api", kAggregatedDiscoveryAccept, deadline);
  if (!core.ok()) return core.error();
  if (IsAggregatedDiscovery(*core)) {
    KubeResult<nlohmann::json> groups = FetchJson("/apis", kAggregatedDiscoveryAccept, deadline);
    if (!groups.ok()) return groups.error();
    std::vector<ResourceRef> all = ParseAggregatedDiscovery(*core);
    std::vector<ResourceRef> more = ParseAggregatedDiscovery(*groups);
    all.insert(all.end(), more.begin(), more.end());
    return all;
  }
  // An older server: one list per group/version.
  std::vector<std::string> paths;
  for (const std::string& v : ParseGroupVersions(*core)) paths.push_back("/api/" + v);
  KubeResult<nlohmann::json> groups = FetchJson("/apis", "application/json", deadline);
  if (!groups.ok()) return groups.error();
  for (const std::string& gv : ParseGroupVersions(*groups)) paths.push_back("/apis/" + gv);
  std::vector<ResourceRef> all;
  for (const std::string& path : paths) {
    KubeResult<nlohmann::json> list = FetchJson(path, "application/json", deadline);
    if (!list.ok()) {
      // One broken aggregated API (metrics-server down) must not hide every other kind.
      if (path == "/api/v1") return list.error();
      Log(LogLevel::kWarning, "discovery skipped " + path + ": " + list.error().ToString());
      continue;
    }
    std::vector<ResourceRef> refs = ParseResourceList(*list);
    all.insert(all.end(), refs.begin(), refs.end());
  }
  return all;
}

KubeResult<std::vector<ResourceRef>> KubeClient::RefreshDiscovery(Deadline deadline) {
  std::lock_guard<std::mutex> lock(refresh_mutex_);
  KubeResult<std::vector<ResourceRef>> refs = FetchDiscovery(deadline);
  if (refs.ok()) discovery_.Replace(*refs);
  return refs;
}

KubeResult<ResourceRef> KubeClient::Resolve(std::string_view api_version, std::string_view kind) {
  uint64_t seen = discovery_.generation();
  if (seen > 0)
    if (auto ref = discovery_.Find(api_version, kind)) return *ref;
  {
    std::lock_guard<std::mutex> lock(refresh_mutex_);
    if (discovery_.generation() == seen) {  // nobody refreshed while we waited for the lock
      KubeResult<std::vector<ResourceRef>> refs = FetchDiscovery({});
      if (!refs.ok()) return refs.error();
      discovery_.Replace(*refs);
    }
  }
  if (auto ref = discovery_.Find(api_version, kind)) return *ref;
  return LocalApiError("NotFound",
                       "no matches for kind " + Quoted(kind) + " in version " + Quoted(api_version) +
                           " (ensure CRDs are installed first)",
                       "resolve " + std::string(kind) + " (server " + config_.server + ")");
}

KubeResult<nlohmann::json> KubeClient::Get(const ResourceRef& ref, std::string_view ns, std::string_view name,
                                           Deadline deadline) {
  std::string n = NamespaceFor(ref, ns);
  return SendJson({.path = ResourcePath(ref, n, name), .deadline = deadline, .what = Describe("get", ref, n, name)});
}

KubeResult<nlohmann::json> KubeClient::List(const ResourceRef& ref, std::string_view ns, const ListOptions& options) {
  const std::string n = NamespaceFor(ref, ns);
  const Deadline deadline = DeadlineOr(options.deadline);
  nlohmann::json merged;
  std::string continue_token;
  int page_size = options.page_size;
  while (true) {
    std::string query;
    auto add = [&query](const std::string& key, const std::string& value) {
      if (!value.empty()) query += (query.empty() ? "?" : "&") + key + "=" + UrlEncode(value);
    };
    add("labelSelector", options.label_selector);
    add("fieldSelector", options.field_selector);
    if (page_size > 0) add("limit", std::to_string(page_size));
    add("continue", continue_token);
    KubeResult<nlohmann::json> page =
        SendJson({.path = ResourcePath(ref, n) + query, .deadline = deadline, .what = Describe("list", ref, n)});
    if (!page.ok()) {
      if (page.error().IsGone() && !continue_token.empty() && page_size > 0) {
        // The continue token expired (compaction): start over with one full list.
        merged = nlohmann::json();
        continue_token.clear();
        page_size = 0;
        continue;
      }
      return page.error();
    }
    if (!page->is_object())
      return LocalApiError("InternalError", "the list is not an object", Describe("list", ref, n));
    std::string next = MetadataString(*page, "continue");
    nlohmann::json items = page->value("items", nlohmann::json::array());
    if (!items.is_array()) items = nlohmann::json::array();
    // A real server's typed lists (every built-in kind) carry no kind/apiVersion in their items:
    // the List names them. Readers decide by kind, so each item gets the request's, as client-go's
    // unstructured decoding does.
    for (auto& item : items) {
      if (!item.is_object()) continue;
      if (!item.contains("kind")) item["kind"] = ref.kind;
      if (!item.contains("apiVersion")) item["apiVersion"] = ref.GroupVersion();
    }
    if (merged.is_null()) {
      merged = std::move(*page);
      merged["items"] = std::move(items);
    } else {
      for (auto& item : items) merged["items"].push_back(std::move(item));
    }
    continue_token = next;
    if (continue_token.empty()) {
      if (merged.contains("metadata") && merged["metadata"].is_object()) merged["metadata"].erase("continue");
      return merged;
    }
  }
}

KubeResult<nlohmann::json> KubeClient::Create(const ResourceRef& ref, std::string_view ns, const nlohmann::json& object,
                                              const CreateOptions& options) {
  std::string n = NamespaceFor(ref, ns);
  std::string query = "?fieldManager=" + UrlEncode(options_.field_manager);
  if (options.dry_run) query += "&dryRun=All";
  return SendJson({.method = "POST",
                   .path = ResourcePath(ref, n) + query,
                   .body = object.dump(),
                   .idempotent = false,
                   .deadline = options.deadline,
                   .what = Describe("create", ref, n, MetadataString(object, "name"))});
}

KubeResult<nlohmann::json> KubeClient::Apply(const ResourceRef& ref, std::string_view ns, const nlohmann::json& object,
                                             const ApplyOptions& options) {
  std::string n = NamespaceFor(ref, ns);
  std::string name = MetadataString(object, "name");
  if (name.empty())
    return LocalApiError("Invalid", "the object has no metadata.name (server-side apply needs one)",
                         Describe("apply", ref, n));
  std::string query = "?fieldManager=" + UrlEncode(options_.field_manager) + "&force=" + (options.force ? "true" : "false");
  if (options.dry_run) query += "&dryRun=All";
  // The apply content type is YAML, and JSON is YAML: the server takes the object as it is.
  return SendJson({.method = "PATCH",
                   .path = ResourcePath(ref, n, name) + query,
                   .body = object.dump(),
                   .content_type = "application/apply-patch+yaml",
                   .deadline = options.deadline,
                   .what = Describe("apply", ref, n, name)});
}

KubeResult<nlohmann::json> KubeClient::Apply(const nlohmann::json& object, const ApplyOptions& options) {
  std::string api_version = object.is_object() ? object.value("apiVersion", "") : "";
  std::string kind = object.is_object() ? object.value("kind", "") : "";
  if (api_version.empty() || kind.empty())
    return LocalApiError("Invalid", "the object has no apiVersion or kind", "apply " + MetadataString(object, "name"));
  KubeResult<ResourceRef> ref = Resolve(api_version, kind);
  if (!ref.ok()) return ref.error();
  return Apply(*ref, MetadataString(object, "namespace"), object, options);
}

KubeResult<nlohmann::json> KubeClient::Delete(const ResourceRef& ref, std::string_view ns, std::string_view name,
                                              const DeleteOptions& options) {
  std::string n = NamespaceFor(ref, ns);
  nlohmann::json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!options.propagation_policy.empty()) body["propagationPolicy"] = options.propagation_policy;
  if (options.dry_run) body["dryRun"] = {"All"};
  if (options.grace_period_seconds) body["gracePeriodSeconds"] = *options.grace_period_seconds;
  return SendJson({.method = "DELETE",
                   .path = ResourcePath(ref, n, name),
                   .body = body.dump(),
                   .deadline = options.deadline,
                   .what = Describe("delete", ref, n, name)});
}

std::unique_ptr<KubeClient> MakeKubeClient(const ClusterConfig& config, KubeClientOptions options) {
  return std::make_unique<KubeClient>(config, MakeCredentialSource(config), std::move(options));
}

}  // namespace ferry::installer
