#include "mirror/registry_client.h"

#include <nlohmann/json.hpp>

#include <cctype>
#include <ctime>
#include <thread>

#include "common/base64.h"
#include "common/log.h"
#include "common/sha256.h"

namespace ferry {
namespace {

std::string ScopesKey(const std::vector<std::string>& scopes) {
  std::string key;
  for (const auto& s : scopes) key += s + " ";
  return key;
}

std::vector<AuthChallenge> ChallengesOf(const HttpResponse& response) {
  std::vector<AuthChallenge> challenges;
  for (const auto& value : response.HeaderValues("www-authenticate"))
    for (auto& c : ParseWwwAuthenticate(value)) challenges.push_back(std::move(c));
  return challenges;
}

bool IsDigest(const std::string& identifier) { return identifier.find(':') != std::string::npos; }

// An upload location with the digest that completes it (the location may carry a query already).
std::string WithDigest(const std::string& location, const std::string& digest) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + UrlEncode(digest);
}

// "CODE: message" of each error in a registry's JSON error body, or the raw start of the body.
std::string RegistryErrorText(const HttpResponse& response) {
  auto doc = nlohmann::json::parse(response.body, nullptr, false);
  std::string text;
  if (doc.is_object() && doc.contains("errors") && doc["errors"].is_array()) {
    for (const auto& e : doc["errors"]) {
      if (!e.is_object()) continue;
      if (!text.empty()) text += "; ";
      text += e.value("code", std::string("ERROR")) + ": " + e.value("message", std::string());
    }
  }
  if (text.empty() && !response.body.empty() && response.body.size() < 200 &&
      response.Header("content-type").find("text") != std::string::npos)
    text = response.body;
  return text;
}

}  // namespace

std::string PullScope(const std::string& repository) { return "repository:" + repository + ":pull"; }
std::string PushScope(const std::string& repository) { return "repository:" + repository + ":pull,push"; }

RegistryClient::RegistryClient(std::string registry, std::string api_host, RegistryOptions options)
    : registry_(std::move(registry)),
      api_host_(std::move(api_host)),
      options_(std::move(options)),
      http_(HttpClientOptions{.tls = options_.tls}) {}

RegistryClient::~RegistryClient() = default;

std::string RegistryClient::Where(const std::string& repository) const {
  return "registry " + registry_ + (repository.empty() ? "" : ", repository " + repository);
}

// How to give credentials; the ways that keep the password out of `ps` and /proc.
std::string RegistryClient::CredentialsHint() const {
  const std::string& f = options_.flag_prefix;
  std::string env = "FERRY_";
  for (char c : f) env += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return "pass --" + f + "-creds-file FILE (USER:PASS), --" + f + "-creds USER with --" + f + "-password-stdin, or " +
         env + "_USERNAME and " + env + "_PASSWORD; or run docker login";
}

std::string RegistryClient::RepoScope(const std::string& repository) const {
  return options_.push ? PushScope(repository) : PullScope(repository);
}

Status RegistryClient::EnsurePinged() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (pinged_) return ping_status_;
  ping_status_ = Ping();
  // A transient failure is not kept: the caller's next attempt pings again.
  pinged_ = ping_status_.code() != StatusCode::kUnavailable;
  return ping_status_;
}

// Called with mutex_ held.
Status RegistryClient::Ping() {
  auto ping = [&](const std::string& scheme) -> Result<HttpResponse> {
    Result<HttpResponse> r = Unavailable("not tried");
    for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
      r = http_.Send(HttpRequest{.url = scheme + "://" + api_host_ + "/v2/"});
      if (!IsRetryable(r) || attempt == options_.retry.max_attempts) break;
      std::this_thread::sleep_for(RetryDelay(options_.retry, attempt, r, RandomUnit()));
    }
    return r;
  };
  std::string scheme = options_.plain_http ? "http" : "https";
  Result<HttpResponse> r = ping(scheme);
  if (!r.ok() && !options_.plain_http && IsLoopbackHost(api_host_) &&
      (r.status().code() == StatusCode::kTls || r.status().code() == StatusCode::kUnavailable)) {
    // Like docker, a loopback registry may speak plain HTTP without being told.
    Result<HttpResponse> plain = ping("http");
    if (plain.ok() && (plain->status == 200 || plain->status == 401)) {
      scheme = "http";
      r = std::move(plain);
    }
  }
  if (!r.ok()) {
    const Status& s = r.status();
    std::string f = options_.flag_prefix;
    if (s.code() == StatusCode::kTls)
      return TlsError(Where("") + ": " + s.message() + ". If the registry uses a private CA, pass --" + f +
                      "-ca-cert FILE; to skip verification, --" + f + "-tls-verify=false; for plain HTTP, --" + f +
                      "-plain-http");
    return Status(s.code(), Where("") + ": " + s.message());
  }
  if (r->status != 200 && r->status != 401)
    return Status(IsRetryableStatus(r->status) ? StatusCode::kUnavailable : StatusCode::kNotFound,
                  Where("") + ": GET /v2/ answered HTTP " + std::to_string(r->status) +
                      "; this does not look like a container registry");
  if (r->status == 401) challenges_ = ChallengesOf(*r);
  base_url_ = scheme + "://" + api_host_;
  return Status::Ok();
}

Result<HttpResponse> RegistryClient::SendOnce(HttpRequest request, const std::vector<std::string>& scopes,
                                              std::string* sent_auth) {
  WaitIfThrottled();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (request.url.starts_with("/")) request.url = base_url_ + request.url;
    // The registry's Authorization goes to the registry only: an absolute Location (an upload
    // session on a storage backend or another host) gets the request without it.
    auto it = auth_by_scope_.find(ScopesKey(scopes));
    if (it != auth_by_scope_.end() && SameOrigin(request.url, base_url_)) {
      request.headers.push_back(it->second);
      *sent_auth = it->second;
    }
  }
  Result<HttpResponse> r = http_.Send(request);
  NoteThrottle(r);
  return r;
}

void RegistryClient::WaitIfThrottled() {
  std::chrono::steady_clock::time_point until;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    until = not_before_;
  }
  if (until > std::chrono::steady_clock::now()) std::this_thread::sleep_until(until);
}

// A registry that says how long to wait (429 or 503 with Retry-After) gets that pause for every
// request of this client, not only for the one that was refused.
void RegistryClient::NoteThrottle(const Result<HttpResponse>& r) {
  if (!r.ok() || (r->status != 429 && r->status != 503)) return;
  auto after = ParseRetryAfter(r->Header("retry-after"), static_cast<long long>(std::time(nullptr)));
  if (!after) return;
  auto pause = std::min(std::chrono::duration_cast<std::chrono::milliseconds>(*after), options_.retry.max_retry_after);
  std::lock_guard<std::mutex> lock(mutex_);
  not_before_ = std::max(not_before_, std::chrono::steady_clock::now() + pause);
}

Result<HttpResponse> RegistryClient::Execute(HttpRequest request, const std::vector<std::string>& scopes,
                                             const std::string& repository) {
  FERRY_RETURN_IF_ERROR(EnsurePinged());
  bool have_auth;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    have_auth = auth_by_scope_.count(ScopesKey(scopes)) > 0;
    if (!have_auth && challenges_.empty()) have_auth = true;  // the registry asked for nothing
  }
  bool authorized_now = false;
  if (!have_auth) {
    // Authorise before the first request so that streamed bodies are never sent twice.
    std::vector<AuthChallenge> challenges;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      challenges = challenges_;
    }
    FERRY_RETURN_IF_ERROR(Authorize(challenges, scopes, repository, ""));
    authorized_now = true;
  }
  for (int attempt = 1;; ++attempt) {
    std::string sent_auth;
    Result<HttpResponse> r = SendOnce(request, scopes, &sent_auth);
    bool replayable = !request.body_reader && (!request.body_writer || r.ok());
    if (r.ok() && r->status == 401 && !authorized_now && replayable) {
      // token expired, or scope widened
      FERRY_RETURN_IF_ERROR(Authorize(ChallengesOf(*r), scopes, repository, sent_auth));
      authorized_now = true;
      continue;
    }
    if (!IsRetryable(r) || !replayable || attempt >= options_.retry.max_attempts) {
      if (!r.ok()) return r.status().WithContext(Where(repository));
      return r;
    }
    auto delay = RetryDelay(options_.retry, attempt, r, RandomUnit());
    Log(LogLevel::kInfo, Where(repository) + ": " + (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()) +
                             "; retrying in " + std::to_string(delay.count()) + " ms");
    std::this_thread::sleep_for(delay);
  }
}

Status RegistryClient::Authorize(const std::vector<AuthChallenge>& challenges, const std::vector<std::string>& scopes,
                                 const std::string& repository, const std::string& refused) {
  const AuthChallenge* bearer = nullptr;
  const AuthChallenge* basic = nullptr;
  for (const auto& c : challenges) {
    if (c.scheme == "bearer" && !bearer) bearer = &c;
    if (c.scheme == "basic" && !basic) basic = &c;
  }
  std::string header;
  if (bearer) {
    Result<std::string> token = FetchToken(*bearer, scopes, repository);
    if (!token.ok()) return token.status();
    header = "Authorization: Bearer " + *token;
  } else if (basic) {
    const auto& cred = options_.credential;
    if (!cred || cred->username.empty())
      return Unauthenticated(Where(repository) + ": the registry requires a login; " + CredentialsHint());
    header = "Authorization: Basic " + Base64Encode(cred->username + ":" + cred->password);
  } else {
    return Unauthenticated(Where(repository) + ": access denied, and the registry offered no usable "
                                               "authentication scheme (WWW-Authenticate)");
  }
  // Only a 401 to these very credentials means they are wrong: before any request, another thread
  // of the same copy may simply have stored the same header first.
  if (basic && !bearer && header == refused)
    return Unauthenticated(Where(repository) + ": the registry rejected the credentials of user " +
                           options_.credential->username);
  std::lock_guard<std::mutex> lock(mutex_);
  auth_by_scope_[ScopesKey(scopes)] = header;
  return Status::Ok();
}

Result<std::string> RegistryClient::FetchToken(const AuthChallenge& challenge, const std::vector<std::string>& scopes,
                                               const std::string& repository) {
  auto realm = challenge.params.find("realm");
  if (realm == challenge.params.end() || realm->second.empty())
    return Unauthenticated(Where(repository) + ": Bearer challenge without a realm");
  std::string query;
  if (auto service = challenge.params.find("service"); service != challenge.params.end())
    query += "service=" + UrlEncode(service->second);
  for (const auto& scope : scopes) query += std::string(query.empty() ? "" : "&") + "scope=" + UrlEncode(scope);

  const auto& cred = options_.credential;
  // Credentials go to a token service over https only; plain http is for a loopback service, or a
  // registry the user told to talk plain HTTP (--*-plain-http): nothing secret leaves in clear.
  bool secure_realm = SameOrigin(realm->second, "https://" + UrlHost(realm->second)) ||
                      IsLoopbackHost(UrlHost(realm->second));
  if (cred && !cred->empty() && !secure_realm && !options_.plain_http)
    return Unauthenticated(Where(repository) + ": the registry's token service " + realm->second +
                           " is not https; ferry does not send credentials to it in clear (for a registry that "
                           "really is plain HTTP, pass --" + options_.flag_prefix + "-plain-http)");
  HttpRequest request;
  if (cred && !cred->identity_token.empty()) {
    // OAuth2 refresh-token grant, as docker does with an identity token.
    request.method = "POST";
    request.url = realm->second;
    request.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    request.body = query + "&grant_type=refresh_token&client_id=ferry&refresh_token=" + UrlEncode(cred->identity_token);
  } else {
    request.url = realm->second + (realm->second.find('?') == std::string::npos ? "?" : "&") + query;
    if (cred && !cred->username.empty())
      request.headers.push_back("Authorization: Basic " + Base64Encode(cred->username + ":" + cred->password));
  }
  request.max_buffered_body = 1 << 20;
  Result<HttpResponse> r = Unavailable("not tried");
  for (int attempt = 1; attempt <= options_.retry.max_attempts; ++attempt) {
    r = http_.Send(request);
    if (!IsRetryable(r) || attempt == options_.retry.max_attempts) break;
    std::this_thread::sleep_for(RetryDelay(options_.retry, attempt, r, RandomUnit()));
  }
  std::string service_host = UrlHost(realm->second);
  if (!r.ok()) return r.status().WithContext(Where(repository) + ": token service " + service_host);
  if (r->status == 401 || r->status == 403) {
    if (cred && !cred->empty())
      return Unauthenticated(Where(repository) + ": the token service " + service_host +
                             " rejected the credentials" + (cred->username.empty() ? "" : " of user " + cred->username));
    return Unauthenticated(Where(repository) + ": anonymous access refused by the token service " + service_host +
                           "; " + CredentialsHint());
  }
  if (r->status != 200)
    return Status(IsRetryableStatus(r->status) ? StatusCode::kUnavailable : StatusCode::kInternal,
                  Where(repository) + ": token service " + service_host + " answered HTTP " + std::to_string(r->status));
  auto doc = nlohmann::json::parse(r->body, nullptr, false);
  std::string token;
  if (doc.is_object()) {
    if (doc.contains("token") && doc["token"].is_string()) token = doc["token"].get<std::string>();
    if (token.empty() && doc.contains("access_token") && doc["access_token"].is_string())
      token = doc["access_token"].get<std::string>();
  }
  if (token.empty()) return Internal(Where(repository) + ": token service " + service_host + " returned no token");
  return token;
}

Status RegistryClient::ErrorFor(const HttpResponse& response, const std::string& repository,
                                const std::string& what) const {
  std::string text = RegistryErrorText(response);
  std::string detail = "HTTP " + std::to_string(response.status) + (text.empty() ? "" : " " + text);
  std::string message = Where(repository) + ": " + what + ": " +
                        (response.status == 404 ? "not found (" + detail + ")" : detail);
  switch (response.status) {
    case 401:
      return Unauthenticated(message + (options_.credential ? " (the credentials were not accepted)"
                                                            : "; " + CredentialsHint()));
    case 403: return PermissionDenied(message);
    case 404: return NotFound(message);
    default:
      return Status(IsRetryableStatus(response.status) ? StatusCode::kUnavailable : StatusCode::kInternal, message);
  }
}

std::string RegistryClient::ResolveLocation(const std::string& location) const {
  if (location.starts_with("http://") || location.starts_with("https://")) return location;
  return base_url_ + (location.starts_with("/") ? "" : "/") + location;
}

Result<Manifest> RegistryClient::GetManifest(const std::string& repository, const std::string& identifier) {
  std::string what = registry_ + "/" + repository + (IsDigest(identifier) ? "@" : ":") + identifier;
  HttpRequest request{.url = "/v2/" + repository + "/manifests/" + identifier, .headers = {ManifestAcceptHeader()}};
  request.max_buffered_body = kMaxManifestBytes;
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) {
    if (r.status().code() == StatusCode::kDataLoss)
      return InvalidArgument(what + ": manifest is larger than the 4 MiB limit registries enforce; refusing it");
    return r.status();
  }
  if (r->status != 200) return ErrorFor(*r, repository, "manifest " + identifier);
  std::string served_digest = r->Header("docker-content-digest");
  Result<Manifest> m = ParseManifest(std::move(r->body), r->Header("content-type"), what);
  if (!m.ok()) return m.status();
  if (IsDigest(identifier) && m->digest != identifier)
    return DataLoss(Where(repository) + ": manifest " + identifier + " was served with bytes that hash to " + m->digest);
  if (!served_digest.empty() && served_digest != m->digest)
    return DataLoss(Where(repository) + ": manifest " + identifier + " claims digest " + served_digest +
                    " but its bytes hash to " + m->digest);
  return m;
}

Result<std::optional<std::string>> RegistryClient::HeadManifest(const std::string& repository,
                                                                const std::string& identifier) {
  HttpRequest request{.method = "HEAD", .url = "/v2/" + repository + "/manifests/" + identifier,
                      .headers = {ManifestAcceptHeader()}};
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) return r.status();
  if (r->status == 404) return std::optional<std::string>();
  if (r->status != 200) return ErrorFor(*r, repository, "manifest " + identifier);
  std::string digest = r->Header("docker-content-digest");
  if (digest.empty()) {
    Result<Manifest> m = GetManifest(repository, identifier);
    if (!m.ok()) return m.status();
    digest = m->digest;
  }
  return std::optional<std::string>(digest);
}

Status RegistryClient::PutManifest(const std::string& repository, const std::string& identifier,
                                   const Manifest& manifest, bool* subject_accepted) {
  HttpRequest request{.method = "PUT", .url = "/v2/" + repository + "/manifests/" + identifier,
                      .headers = {"Content-Type: " + manifest.media_type}, .body = manifest.bytes};
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) return r.status();
  if (r->status != 201 && r->status != 200) return ErrorFor(*r, repository, "pushing manifest " + identifier);
  if (subject_accepted) *subject_accepted = !r->Header("oci-subject").empty();
  return Status::Ok();
}

Result<std::vector<std::string>> RegistryClient::ListTags(const std::string& repository) {
  std::vector<std::string> tags;
  std::string url = "/v2/" + repository + "/tags/list?n=1000";
  for (int page = 0; page < 1000 && !url.empty(); ++page) {
    HttpRequest request{.url = url};
    request.max_buffered_body = 16 << 20;
    Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
    if (!r.ok()) return r.status();
    if (r->status == 404) return tags;  // no such repository: no tags
    if (r->status != 200) return ErrorFor(*r, repository, "listing tags");
    auto doc = nlohmann::json::parse(r->body, nullptr, false);
    if (!doc.is_object()) return Internal(Where(repository) + ": the tag list is not JSON");
    if (doc.contains("tags") && doc["tags"].is_array())
      for (const auto& t : doc["tags"])
        if (t.is_string()) tags.push_back(t.get<std::string>());
    // Link: </v2/x/tags/list?n=1000&last=y>; rel="next"
    std::string link = r->Header("link");
    size_t open = link.find('<'), close = link.find('>');
    url = link.find("rel=\"next\"") != std::string::npos && open != std::string::npos && close > open
              ? link.substr(open + 1, close - open - 1)
              : "";
    if (!url.empty() && !url.starts_with("/")) url = ResolveLocation(url);
  }
  return tags;
}

Result<std::optional<Manifest>> RegistryClient::GetReferrers(const std::string& repository,
                                                             const std::string& digest) {
  HttpRequest request{.url = "/v2/" + repository + "/referrers/" + digest,
                      .headers = {"Accept: " + std::string(media_type::kOciIndex)}};
  request.max_buffered_body = kMaxManifestBytes;
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) return r.status();
  // A registry with the API never answers 404 here (OCI distribution 1.1): 404 means no API.
  if (r->status == 404 || r->status == 405) return std::optional<Manifest>();
  if (r->status != 200) return ErrorFor(*r, repository, "listing the referrers of " + digest);
  // Generated by the registry, not stored: no digest to check.
  Result<Manifest> index = ParseManifest(std::move(r->body), media_type::kOciIndex,
                                         registry_ + "/" + repository + ": referrers of " + digest);
  if (!index.ok()) return index.status();
  return std::optional<Manifest>(std::move(*index));
}

Result<bool> RegistryClient::HasBlob(const std::string& repository, const std::string& digest) {
  HttpRequest request{.method = "HEAD", .url = "/v2/" + repository + "/blobs/" + digest};
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) return r.status();
  if (r->status == 200) return true;
  if (r->status == 404) return false;
  return ErrorFor(*r, repository, "checking blob " + digest);
}

Result<bool> RegistryClient::MountBlob(const std::string& repository, const std::string& digest,
                                       const std::string& from) {
  HttpRequest request{.method = "POST", .url = "/v2/" + repository + "/blobs/uploads/?mount=" + UrlEncode(digest) +
                                                   "&from=" + UrlEncode(from)};
  Result<HttpResponse> r = Execute(request, {RepoScope(repository), PullScope(from)}, repository);
  if (!r.ok()) return r.status();
  if (r->status == 201) return true;
  if (r->status == 202) {
    // Declined: the registry opened an ordinary upload instead. Close it; the caller uploads.
    std::string location = r->Header("location");
    if (!location.empty())
      (void)Execute(HttpRequest{.method = "DELETE", .url = ResolveLocation(location)}, {RepoScope(repository)},
                    repository);
    return false;
  }
  if (r->status == 401 || r->status == 403 || r->status == 404) return false;  // no access to `from`
  return ErrorFor(*r, repository, "mounting blob " + digest + " from " + from);
}

Status RegistryClient::ReadBlob(const std::string& repository, const Descriptor& blob, const BodyWriter& writer,
                                int64_t offset) {
  int64_t skip = offset;  // bytes the caller already has
  HttpRequest request{.url = "/v2/" + repository + "/blobs/" + blob.digest};
  request.body_writer = [&](std::string_view chunk) -> Status {
    int64_t drop = std::min<int64_t>(skip, static_cast<int64_t>(chunk.size()));
    skip -= drop;
    chunk.remove_prefix(static_cast<size_t>(drop));
    return chunk.empty() ? Status::Ok() : writer(chunk);
  };
  Result<HttpResponse> r = Execute(request, {RepoScope(repository)}, repository);
  if (!r.ok()) return r.status();
  if (r->status != 200) return ErrorFor(*r, repository, "reading blob " + blob.digest);
  return Status::Ok();
}

// Opens an upload session; its location, absolute.
Result<std::string> RegistryClient::StartUpload(const std::string& repository, const std::string& digest,
                                                const std::vector<std::string>& scopes) {
  Result<HttpResponse> start =
      Execute(HttpRequest{.method = "POST", .url = "/v2/" + repository + "/blobs/uploads/"}, scopes, repository);
  if (!start.ok()) return start.status();
  if (start->status != 202) return ErrorFor(*start, repository, "starting upload of " + digest);
  return ResolveLocation(start->Header("location"));
}

Status RegistryClient::PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) {
  std::vector<std::string> scopes = {RepoScope(repository)};
  Result<std::string> started = StartUpload(repository, blob.digest, scopes);
  if (!started.ok()) return started.status();
  std::string location = std::move(*started);
  std::string commit = WithDigest(location, blob.digest);
  HttpRequest put{.method = "PUT", .url = commit, .headers = {"Content-Type: application/octet-stream"},
                  .body_reader = reader, .body_size = static_cast<uint64_t>(blob.size)};
  Result<HttpResponse> done = Execute(put, scopes, repository);
  if (done.ok() && (done->status == 201 || done->status == 204)) return Status::Ok();
  // The upload stays open on the registry until it expires; close it now.
  (void)Execute(HttpRequest{.method = "DELETE", .url = location}, scopes, repository);
  if (!done.ok()) return done.status();
  return ErrorFor(*done, repository, "uploading blob " + blob.digest);
}

}  // namespace ferry
