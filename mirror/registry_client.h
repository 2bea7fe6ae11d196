// A client for one registry speaking the OCI distribution API (/v2/): manifests and blobs, with
// token and Basic auth, retries, and TLS settings. Thread-safe.
//
// Every error names the registry and the repository; credentials never appear in any message.
// Requests that carry no streamed body are retried on transient failures up to
// RegistryOptions::retry.max_attempts times (see common/retry.h); streamed blob transfers are not.
// The copy engine sets max_attempts to 1 and retries whole steps itself, so no request is retried
// at two levels. A registry that answers 429 or 503 with Retry-After is given that pause: no
// request of this client is sent to it before the time it named.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/retry.h"
#include "mirror/auth_challenge.h"
#include "mirror/credentials.h"
#include "mirror/manifest.h"

namespace ferry {

struct RegistryOptions {
  std::optional<Credential> credential;  // none = anonymous
  TlsOptions tls;
  bool plain_http = false;  // talk http://; loopback hosts fall back to it on their own
  RetryPolicy retry;
  std::string flag_prefix = "dest";  // "src" or "dest": which flags the hints in messages name
  bool push = false;  // a destination: ask for pull,push on its repositories
};

class RegistryClient {
 public:
  // `registry` as in an ImageReference ("docker.io", "localhost:5000"); `api_host` where to connect.
  RegistryClient(std::string registry, std::string api_host, RegistryOptions options);
  ~RegistryClient();

  const std::string& registry() const { return registry_; }

  // GET a manifest by tag or digest. When `identifier` is a digest, the bytes must hash to it.
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier);
  // The digest a registry reports for a manifest; nullopt when it does not exist.
  Result<std::optional<std::string>> HeadManifest(const std::string& repository, const std::string& identifier);
  // `subject_accepted`, when given, says whether the registry indexed the manifest's subject (it
  // answered with OCI-Subject, OCI 1.1); false means the referrers fallback tag is the pusher's job.
  Status PutManifest(const std::string& repository, const std::string& identifier, const Manifest& manifest,
                     bool* subject_accepted = nullptr);
  // Every tag of `repository` (all pages); empty when the repository does not exist.
  Result<std::vector<std::string>> ListTags(const std::string& repository);
  // The OCI 1.1 Referrers API: an index of the manifests whose subject is `digest`. nullopt when the
  // registry has no such API (404), so the caller looks for the fallback tag sha256-<hex> instead.
  Result<std::optional<Manifest>> GetReferrers(const std::string& repository, const std::string& digest);

  Result<bool> HasBlob(const std::string& repository, const std::string& digest);
  // Asks the registry to link a blob from another repository. true = mounted; false = declined.
  Result<bool> MountBlob(const std::string& repository, const std::string& digest, const std::string& from);
  // Streams a blob's bytes from byte `offset` on to `writer` (the blob is read from its start and
  // the first `offset` bytes are dropped: what a transfer cut short already delivered).
  Status ReadBlob(const std::string& repository, const Descriptor& blob, const BodyWriter& writer, int64_t offset = 0);
  // Uploads `blob.size` bytes from `reader` in two requests: POST opens the upload, one PUT carries
  // the bytes and commits them under `blob.digest` (the registry checks the digest). An error from
  // `reader`, or fewer bytes than `blob.size`, aborts the PUT, so nothing is committed.
  Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader);

 private:
  Status EnsurePinged();
  Status Ping();
  Result<HttpResponse> Execute(HttpRequest request, const std::vector<std::string>& scopes,
                               const std::string& repository);
  // `sent_auth`: the Authorization header the request carried ("" for none).
  Result<HttpResponse> SendOnce(HttpRequest request, const std::vector<std::string>& scopes, std::string* sent_auth);
  void WaitIfThrottled();
  void NoteThrottle(const Result<HttpResponse>& response);
  // `refused`: the Authorization header a 401 just answered ("" when authorising before any request).
  Status Authorize(const std::vector<AuthChallenge>& challenges, const std::vector<std::string>& scopes,
                   const std::string& repository, const std::string& refused);
  Result<std::string> FetchToken(const AuthChallenge& challenge, const std::vector<std::string>& scopes,
                                 const std::string& repository);
  Status ErrorFor(const HttpResponse& response, const std::string& repository, const std::string& what) const;
  std::string Where(const std::string& repository) const;
  std::string ResolveLocation(const std::string& location) const;
  Result<std::string> StartUpload(const std::string& repository, const std::string& digest,
                                  const std::vector<std::string>& scopes);
  std::string RepoScope(const std::string& repository) const;
  std::string CredentialsHint() const;

  std::string registry_;
  std::string api_host_;
  RegistryOptions options_;
  HttpClient http_;

  std::mutex mutex_;
  bool pinged_ = false;
  Status ping_status_;  // a registry that failed its ping fails every later call of the run fast
  std::string base_url_;                          // "https://host" or "http://host"
  std::vector<AuthChallenge> challenges_;            // from the /v2/ ping
  std::map<std::string, std::string> auth_by_scope_;  // scopes key -> "Authorization: ..."
  std::chrono::steady_clock::time_point not_before_{};  // the registry asked for a pause until then
};

std::string PullScope(const std::string& repository);
std::string PushScope(const std::string& repository);

}  // namespace ferry
