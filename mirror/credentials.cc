// Registry credentials: USER:PASS flags, docker config files and credential helpers; see credentials.h.
#include "mirror/credentials.h"

#include <cctype>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/base64.h"
#include "common/local_file.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "common/text_position.h"
#include "mirror/image_reference.h"

namespace ferry {
namespace {

constexpr std::string_view kDockerHubServerUrl = "https://index.docker.io/v1/";

// "https://Host:5000/v1/" -> "host:5000"; Docker Hub's aliases all become "docker.io".
std::string NormalizeHost(std::string_view key) {
  if (size_t scheme = key.find("://"); scheme != std::string_view::npos) {
    key.remove_prefix(scheme + 3);
  }
  key = key.substr(0, key.find('/'));
  std::string host = Lower(key);
  if (host == "index.docker.io" || host == "registry-1.docker.io") return std::string(kDockerHub);
  return host;
}

// Finds the entry for `host`: a key spelled exactly like the request wins, then the first key
// (in sorted order) that normalises to the same host.
template <typename T>
const std::pair<const std::string, T>* FindHost(const std::map<std::string, T>& entries,
                                                std::string_view requested,
                                                const std::string& host) {
  if (auto it = entries.find(std::string(requested)); it != entries.end()) return &*it;
  for (const auto& entry : entries) {
    if (NormalizeHost(entry.first) == host) return &entry;
  }
  return nullptr;
}

// The first line of a failing helper's message, for the error; never JSON, which may hold
// a secret.
std::string HelperMessage(const ProcessRun& output) {
  std::string text = output.err.empty() ? output.out : output.err;
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos || text[start] == '{') return "";
  text = text.substr(start, text.find_first_of("\r\n", start) - start);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return ": " + text;
}

Result<std::optional<Credential>> AskHelper(const std::string& name, const std::string& host) {
  std::string program = "docker-credential-" + name;
  std::string context = "credential helper " + program + " for registry " + host;
  if (name.find('/') != std::string::npos) {
    return InvalidArgument(context + ": helper names may not contain '/'");
  }
  std::string server_url = host == kDockerHub ? std::string(kDockerHubServerUrl) : host;

  Result<ProcessRun> run = RunProcess({.argv = {program, "get"}, .input = server_url});
  if (!run.ok()) return Status(run.status().code(), context + ": " + run.status().message());
  if (run->not_found) return Unauthenticated(context + ": not installed (not found on PATH)");
  if (run->timed_out) return Unavailable(context + " " + TimeoutMessage(*run));
  if (run->stdout_too_long) return Internal(context + ": printed more than 1 MiB");
  if (run->signal != 0) {
    return Unauthenticated(context + " was killed by signal " + std::to_string(run->signal) + HelperMessage(*run));
  }
  if (run->exit_code != 0) {
    if (Lower(run->out + run->err).find("credentials not found") != std::string::npos) {
      return std::optional<Credential>();
    }
    return Unauthenticated(context + " failed with exit status " +
                           std::to_string(run->exit_code) + HelperMessage(*run));
  }

  nlohmann::json reply = nlohmann::json::parse(run->out, nullptr, /*allow_exceptions=*/false);
  if (!reply.is_object()) return Internal(context + " printed something other than a JSON object");
  auto field = [&reply](const char* key) {
    auto it = reply.find(key);
    return it != reply.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::string username = field("Username"), secret = field("Secret");
  Credential credential;
  if (username == "<token>") {
    credential.identity_token = secret;
  } else {
    credential.username = username;
    credential.password = secret;
  }
  if (credential.empty()) return std::optional<Credential>();
  return std::optional<Credential>(credential);
}

// Reads an optional string member; a non-string is an error naming only the key.
Status ReadString(const nlohmann::json& object, const char* key, const std::string& where,
                  std::string& out) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(where + ": \"" + key + "\" is not a string");
  out = it->get<std::string>();
  return Status::Ok();
}

}  // namespace

Result<Credential> ParseUserPass(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) {
    return InvalidArgument("credentials must be USER:PASSWORD, and no ':' was found");
  }
  if (colon == 0) return InvalidArgument("credentials must be USER:PASSWORD, and USER is empty");
  Credential credential;
  credential.username = std::string(text.substr(0, colon));
  credential.password = std::string(text.substr(colon + 1));
  return credential;
}

Result<DockerConfig> DockerConfig::Load(const std::string& path) {
  DockerConfig config;
  config.path_ = path;
  Result<std::string> read = ReadLocalFile(path);
  if (!read.ok()) {
    if (read.status().code() == StatusCode::kNotFound) return config;
    return IoError("cannot read docker config " + path + ": " + read.status().message());
  }
  const std::string& text = *read;

  std::string where = "docker config " + path;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the text near the error, which may be a secret.
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    return InvalidArgument(where + ": malformed JSON at " + TextPosition(text, byte));
  }
  if (!root.is_object()) return InvalidArgument(where + ": top level is not a JSON object");

  try {
    if (auto auths = root.find("auths"); auths != root.end() && !auths->is_null()) {
      if (!auths->is_object()) return InvalidArgument(where + ": \"auths\" is not an object");
      for (const auto& [key, value] : auths->items()) {
        std::string entry_where = where + ", auths entry \"" + key + "\"";
        if (!value.is_object()) return InvalidArgument(entry_where + " is not an object");
        AuthEntry entry;
        FERRY_RETURN_IF_ERROR(ReadString(value, "auth", entry_where, entry.auth));
        FERRY_RETURN_IF_ERROR(ReadString(value, "username", entry_where, entry.username));
        FERRY_RETURN_IF_ERROR(ReadString(value, "password", entry_where, entry.password));
        FERRY_RETURN_IF_ERROR(
            ReadString(value, "identitytoken", entry_where, entry.identity_token));
        config.auths_[key] = std::move(entry);
      }
    }
    if (auto helpers = root.find("credHelpers"); helpers != root.end() && !helpers->is_null()) {
      if (!helpers->is_object()) {
        return InvalidArgument(where + ": \"credHelpers\" is not an object");
      }
      for (const auto& [key, value] : helpers->items()) {
        std::string name;
        FERRY_RETURN_IF_ERROR(ReadString(*helpers, key.c_str(), where + ", credHelpers", name));
        if (!name.empty()) config.cred_helpers_[key] = name;
      }
    }
    FERRY_RETURN_IF_ERROR(ReadString(root, "credsStore", where, config.creds_store_));
  } catch (const nlohmann::json::exception&) {
    return InvalidArgument(where + ": unexpected JSON structure");
  }
  return config;
}

Result<DockerConfig> DockerConfig::LoadDefault() {
  if (const char* dir = std::getenv("DOCKER_CONFIG"); dir != nullptr && *dir != '\0') {
    return Load(std::string(dir) + "/config.json");
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return Load(std::string(home) + "/.docker/config.json");
  }
  return DockerConfig();
}

// Order, as containers/image with docker's credsStore slotted in: the host's credHelpers entry
// decides alone; else an inline auths credential; else the credsStore helper.
Result<std::optional<Credential>> DockerConfig::Lookup(std::string_view registry) const {
  std::string host = NormalizeHost(registry);

  if (const auto* helper = FindHost(cred_helpers_, registry, host)) {
    return AskHelper(helper->second, host);
  }

  if (const auto* found = FindHost(auths_, registry, host)) {
    const auto& [key, entry] = *found;
    Credential credential;
    credential.username = entry.username;
    credential.password = entry.password;
    credential.identity_token = entry.identity_token;
    if (size_t start = entry.auth.find_first_not_of(" \t\r\n"); start != std::string::npos) {
      std::string where = "docker config " + path_ + ", auths entry \"" + key + "\"";
      size_t end = entry.auth.find_last_not_of(" \t\r\n");
      Result<std::string> decoded = Base64Decode(
          std::string_view(entry.auth).substr(start, end - start + 1));
      if (!decoded.ok()) {
        return InvalidArgument(where + ": \"auth\" is not valid base64");
      }
      Result<Credential> pair = ParseUserPass(*decoded);
      if (!pair.ok()) {
        return InvalidArgument(where + ": \"auth\" does not decode to USER:PASSWORD");
      }
      credential.username = pair->username;
      credential.password = pair->password;
    }
    if (!credential.empty()) return std::optional<Credential>(credential);
  }

  if (!creds_store_.empty()) return AskHelper(creds_store_, host);
  return std::optional<Credential>();
}

}  // namespace ferry
