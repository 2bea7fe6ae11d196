#include "mirror/credentials.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/base64.h"

extern char** environ;

namespace ferry {
namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kDockerHubServerUrl = "https://index.docker.io/v1/";
constexpr size_t kMaxHelperOutput = 1 << 20;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

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

struct ProcessOutput {
  int exit_code = 0;
  std::string out, err;
};

class FdCloser {
 public:
  explicit FdCloser(std::initializer_list<int*> fds) : fds_(fds) {}
  ~FdCloser() {
    for (int* fd : fds_) {
      if (*fd >= 0) close(*fd);
    }
  }

 private:
  std::vector<int*> fds_;
};

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// Runs `program get` found on PATH, writes `input` to its stdin, collects stdout and stderr.
// stdin is a socket so a helper that exits without reading cannot SIGPIPE us (MSG_NOSIGNAL).
Result<ProcessOutput> RunHelper(const std::string& program, std::string_view input) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  FdCloser closer({&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]});
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0 ||
      pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
    return Internal(std::string("cannot create pipes: ") + std::strerror(errno));
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[1], 0);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  std::string get = "get";
  char* argv[] = {const_cast<char*>(program.c_str()), get.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    if (rc == ENOENT) return Unauthenticated("not installed (not found on PATH)");
    return Internal(std::string("cannot start: ") + std::strerror(rc));
  }
  CloseFd(in[1]);
  CloseFd(out[1]);
  CloseFd(err[1]);

  (void)send(in[0], input.data(), input.size(), MSG_NOSIGNAL);
  CloseFd(in[0]);

  ProcessOutput result;
  bool too_long = false;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;  // closed by FdCloser
        continue;
      }
      if (sinks[i]->size() + size_t(n) > kMaxHelperOutput) {
        too_long = true;
      } else {
        sinks[i]->append(buf, size_t(n));
      }
    }
  }

  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (too_long) return Internal("printed more than 1 MiB");
  return result;
}

// The first line of a failing helper's message, for the error; never JSON, which may hold
// a secret.
std::string HelperMessage(const ProcessOutput& output) {
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

  Result<ProcessOutput> run = RunHelper(program, server_url);
  if (!run.ok()) return Status(run.status().code(), context + ": " + run.status().message());
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

// Turns a byte offset into "line L, column C" (both from 1).
std::string Position(const std::string& text, size_t byte) {
  size_t line = 1, column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
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
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    if (errno == ENOENT) return config;
    return IoError("cannot read docker config " + path + ": " + std::strerror(errno));
  }
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
  bool failed = std::ferror(file);
  int read_errno = errno;
  std::fclose(file);
  if (failed) {
    return IoError("cannot read docker config " + path + ": " + std::strerror(read_errno));
  }

  std::string where = "docker config " + path;
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the text near the error, which may be a secret.
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    return InvalidArgument(where + ": malformed JSON at " + Position(text, byte));
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
