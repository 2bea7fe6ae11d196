// A client for one registry speaking the OCI distribution API (/v2/): manifests and blobs, with
// token and Basic auth, retries, and TLS settings. Thread-safe.
//
// Every error names the registry and the repository; credentials never appear in any message.
// Requests that carry no streamed body are retried on transient failures (see common/retry.h);
// streamed blob transfers are not, and are retried by the caller as a whole.
#pragma once

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
  Status PutManifest(const std::string& repository, const std::string& identifier, const Manifest& manifest);

  Result<bool> HasBlob(const std::string& repository, const std::string& digest);
  // Asks the registry to link a blob from another repository. true = mounted; false = declined.
  Result<bool> MountBlob(const std::string& repository, const std::string& digest, const std::string& from);
  // Streams a blob's bytes to `writer`.
  Status ReadBlob(const std::string& repository, const Descriptor& blob, const BodyWriter& writer);
  // Uploads `blob.size` bytes from `reader`. `verify` runs after the bytes are sent and before the
  // upload is committed: a non-OK Status cancels the upload, so no manifest can reference the blob.
  Status WriteBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader,
                   const std::function<Status()>& verify);
  // Uploads `blob.size` bytes from `reader` in two requests: POST opens the upload, one PUT carries
  // the bytes and commits them under `blob.digest` (the registry checks the digest). An error from
  // `reader`, or fewer bytes than `blob.size`, aborts the PUT, so nothing is committed.
  Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader);

 private:
  Status EnsurePinged();
  Status Ping();
  Result<HttpResponse> Execute(HttpRequest request, const std::vector<std::string>& scopes,
                               const std::string& repository);
  Result<HttpResponse> SendOnce(HttpRequest request, const std::vector<std::string>& scopes);
  Status Authorize(const std::vector<AuthChallenge>& challenges, const std::vector<std::string>& scopes,
                   const std::string& repository);
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
};

std::string PullScope(const std::string& repository);
std::string PushScope(const std::string& repository);

}  // namespace ferry
