// Where registry credentials come from: "user:pass" flags and the docker client configuration
// (~/.docker/config.json with its auths, credHelpers and credsStore), so ferry logs in wherever
// `docker login` already did.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

struct Credential {
  std::string username, password;  // Basic / token-exchange credentials
  std::string identity_token;      // OAuth2 refresh token ("identitytoken", or helper "<token>")

  bool empty() const { return username.empty() && password.empty() && identity_token.empty(); }
};

// Parses "user:pass" from --src-creds/--dest-creds, splitting at the first ':' (passwords may
// contain ':'). InvalidArgument when there is no ':' or the user is empty; the message never
// contains the password.
Result<Credential> ParseUserPass(std::string_view text);

// A parsed docker client configuration file. Lookup may run credential helpers
// (docker-credential-NAME from PATH), so it can be slow; it does not cache.
class DockerConfig {
 public:
  // A missing file is an empty configuration. Malformed JSON is InvalidArgument naming the
  // file and line:column; no message ever quotes the file's content (it holds secrets).
  static Result<DockerConfig> Load(const std::string& path);

  // $DOCKER_CONFIG/config.json when DOCKER_CONFIG is set, else $HOME/.docker/config.json.
  static Result<DockerConfig> LoadDefault();

  // The credential for a registry host such as "gcr.io", "localhost:5000" or "docker.io"
  // (a scheme or path on `registry` is ignored), or nullopt when none is configured.
  // Errors: an undecodable auths entry, a credential helper that is missing or fails.
  Result<std::optional<Credential>> Lookup(std::string_view registry) const;

  const std::string& path() const { return path_; }

 private:
  struct AuthEntry {
    std::string auth;  // base64 of "user:pass"
    std::string username, password, identity_token;
  };

  std::string path_;
  std::map<std::string, AuthEntry> auths_;          // keyed as written in the file
  std::map<std::string, std::string> cred_helpers_; // keyed as written in the file
  std::string creds_store_;
};

}  // namespace ferry
