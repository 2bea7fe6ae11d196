// The exec credential plugin protocol: spawn, KUBERNETES_EXEC_INFO in, ExecCredential out.
#include "installer/exec_credential.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <set>
#include <utility>
#include <vector>

#include "common/base64.h"

extern char** environ;

namespace ferry::installer {
namespace {

constexpr size_t kMaxStdout = 1 << 20;    // an ExecCredential is a few KiB
constexpr size_t kKeptStderr = 16 << 10;  // the tail is what explains a failure
constexpr size_t kStderrLinesInError = 5;

// What happened to one run of the plugin.
struct PluginRun {
  bool not_found = false;
  int exit_code = 0;  // meaningful when signal == 0
  int signal = 0;     // non-zero when the plugin was killed
  bool stdout_too_long = false;
  std::string out, err;  // err keeps the last kKeptStderr bytes
};

// Closes the pipe ends still open when the run ends, however it ends.
struct Pipes {
  int out[2] = {-1, -1}, err[2] = {-1, -1};
  ~Pipes() {
    for (int fd : {out[0], out[1], err[0], err[1]}) {
      if (fd >= 0) close(fd);
    }
  }
};

// Our environment with `extra` added; an extra variable replaces ours of the same name.
std::vector<std::string> PluginEnvironment(
    const std::vector<std::pair<std::string, std::string>>& extra) {
  std::set<std::string> replaced;
  for (const auto& [name, value] : extra) replaced.insert(name);
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (!replaced.contains(std::string(text.substr(0, text.find('='))))) env.emplace_back(text);
  }
  for (const auto& [name, value] : extra) env.push_back(name + "=" + value);
  return env;
}

// Reads stdout and stderr until both close. stdout past kMaxStdout is dropped (and flagged);
// stderr keeps only its tail.
void Collect(Pipes& pipes, PluginRun& run) {
  pollfd fds[2] = {{pipes.out[0], POLLIN, 0}, {pipes.err[0], POLLIN, 0}};
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        fds[i].fd = -1;  // closed by ~Pipes
        continue;
      }
      if (i == 0) {
        if (run.out.size() + size_t(n) > kMaxStdout) {
          run.stdout_too_long = true;
        } else {
          run.out.append(buf, size_t(n));
        }
      } else {
        run.err.append(buf, size_t(n));
        if (run.err.size() > kKeptStderr) run.err.erase(0, run.err.size() - kKeptStderr);
      }
    }
  }
}

// Runs the plugin to completion. A Status only when it could not even be tried.
Result<PluginRun> Spawn(const ExecConfig& exec, const std::vector<std::string>& env) {
  Pipes pipes;
  if (pipe2(pipes.out, O_CLOEXEC) != 0 || pipe2(pipes.err, O_CLOEXEC) != 0) {
    return Internal(std::string("cannot create pipes: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // No terminal and no input: ferry never runs plugins interactively.
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipes.out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipes.err[1], 2);

  std::vector<char*> argv, envp;
  argv.push_back(const_cast<char*>(exec.command.c_str()));
  for (const std::string& arg : exec.args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);

  pid_t pid = -1;
  // A name without '/' is looked up on our PATH, like client-go's exec.LookPath.
  int rc = posix_spawnp(&pid, exec.command.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  PluginRun run;
  if (rc == ENOENT) {
    run.not_found = true;
    return run;
  }
  if (rc != 0) return Unauthenticated(std::string("cannot be started: ") + std::strerror(rc));
  close(pipes.out[1]);
  pipes.out[1] = -1;
  close(pipes.err[1]);
  pipes.err[1] = -1;

  Collect(pipes, run);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  } else {
    run.exit_code = WEXITSTATUS(status);
  }
  return run;
}

// ": last lines of stderr" (up to kStderrLinesInError, each shortened), or "" when it was silent.
std::string StderrTail(const std::string& err) {
  std::vector<std::string> lines;
  size_t end = err.size();
  while (end > 0 && lines.size() < kStderrLinesInError) {
    size_t start = err.rfind('\n', end - 1);
    start = start == std::string::npos ? 0 : start + 1;
    std::string line = err.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.size() > 300) line = line.substr(0, 300) + "...";
    if (!line.empty()) lines.insert(lines.begin(), line);
    end = start == 0 ? 0 : start - 1;
  }
  if (lines.empty()) return "";
  std::string tail = "; its stderr ends with:";
  for (const std::string& line : lines) tail += "\n  " + line;
  return tail;
}

std::string Describe(const ExecConfig& exec, const ClusterConfig& cluster) {
  std::string text = "exec plugin \"" + exec.command + "\"";
  if (!cluster.source.empty()) text += " (" + cluster.source + ")";
  return text;
}

// "line L, column C" of a byte offset, for JSON errors that must not quote the text.
std::string Position(std::string_view text, size_t byte) {
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

// Reads an optional string member; anything else but a string or null is an error.
Result<std::string> StringMember(const nlohmann::json& object, const char* key,
                                 const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return InvalidArgument(where + ": " + key + " is not a string");
  return it->get<std::string>();
}

int Digits(std::string_view text, size_t pos, size_t count, bool& ok) {
  int value = 0;
  if (pos + count > text.size()) {
    ok = false;
    return 0;
  }
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') ok = false;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text) {
  // 2006-01-02T15:04:05[.999999999](Z|+07:00)
  bool ok = text.size() >= 20 && text[4] == '-' && text[7] == '-' &&
            (text[10] == 'T' || text[10] == 't') && text[13] == ':' && text[16] == ':';
  std::tm tm{};
  tm.tm_year = Digits(text, 0, 4, ok) - 1900;
  tm.tm_mon = Digits(text, 5, 2, ok) - 1;
  tm.tm_mday = Digits(text, 8, 2, ok);
  tm.tm_hour = Digits(text, 11, 2, ok);
  tm.tm_min = Digits(text, 14, 2, ok);
  tm.tm_sec = Digits(text, 17, 2, ok);
  size_t pos = 19;
  std::chrono::nanoseconds fraction{0};
  if (ok && pos < text.size() && text[pos] == '.') {
    size_t start = ++pos;
    long long nanos = 0, scale = 1000000000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (scale > 1) {
        scale /= 10;
        nanos += (text[pos] - '0') * scale;
      }
      ++pos;
    }
    ok = pos > start;
    fraction = std::chrono::nanoseconds(nanos);
  }
  int offset_seconds = 0;
  if (ok && pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (ok && pos + 6 == text.size() && (text[pos] == '+' || text[pos] == '-') &&
             text[pos + 3] == ':') {
    int sign = text[pos] == '-' ? -1 : 1;
    offset_seconds =
        sign * (Digits(text, pos + 1, 2, ok) * 3600 + Digits(text, pos + 4, 2, ok) * 60);
    pos += 6;
  } else {
    ok = false;
  }
  if (!ok || pos != text.size() || tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
      tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60) {
    return InvalidArgument("\"" + std::string(text) + "\" is not an RFC 3339 time");
  }
  std::time_t seconds = timegm(&tm) - offset_seconds;
  // system_clock counts nanoseconds and ends in 2262; plugins saying "9999" mean "never".
  constexpr auto kLast = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::system_clock::time_point::max());
  if (seconds >= kLast.time_since_epoch().count()) {
    return std::chrono::time_point_cast<std::chrono::system_clock::duration>(kLast);
  }
  return std::chrono::system_clock::from_time_t(seconds) +
         std::chrono::duration_cast<std::chrono::system_clock::duration>(fraction);
}

std::string ExecInfoJson(const ExecConfig& exec, const ClusterConfig& cluster) {
  nlohmann::json spec = {{"interactive", false}};
  if (exec.provide_cluster_info) {
    // Empty fields are left out, as Go's omitempty does; server is always there.
    nlohmann::json info = {{"server", cluster.server}};
    if (!cluster.tls_server_name.empty()) info["tls-server-name"] = cluster.tls_server_name;
    if (cluster.insecure_skip_tls_verify) info["insecure-skip-tls-verify"] = true;
    if (!cluster.ca_pem.empty()) info["certificate-authority-data"] = Base64Encode(cluster.ca_pem);
    if (!cluster.proxy_url.empty()) info["proxy-url"] = cluster.proxy_url;
    spec["cluster"] = std::move(info);
  }
  nlohmann::json root = {
      {"apiVersion", exec.api_version}, {"kind", "ExecCredential"}, {"spec", std::move(spec)}};
  return root.dump();
}

Result<Credential> ParseExecCredential(std::string_view output, const std::string& api_version,
                                       const std::string& command) {
  std::string where = "exec plugin \"" + command + "\"";
  nlohmann::json root;
  try {
    root = nlohmann::json::parse(output);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() quotes the text near the error, which may be the token.
    size_t byte = e.byte > 0 ? e.byte - 1 : 0;
    return InvalidArgument(where + " printed malformed JSON (" + Position(output, byte) +
                           "); it must print an ExecCredential");
  }
  if (!root.is_object()) return InvalidArgument(where + " printed JSON that is not an object");

  Result<std::string> version = StringMember(root, "apiVersion", where);
  if (!version.ok()) return version.status();
  if (*version != api_version) {
    return InvalidArgument(where + " returned apiVersion \"" + *version +
                           "\", but the kubeconfig asks for \"" + api_version + "\"");
  }
  Result<std::string> kind = StringMember(root, "kind", where);
  if (!kind.ok()) return kind.status();
  if (*kind != "ExecCredential") {
    return InvalidArgument(where + " returned kind \"" + *kind + "\", not ExecCredential");
  }
  auto status = root.find("status");
  if (status == root.end() || !status->is_object()) {
    return InvalidArgument(where + " returned an ExecCredential without a status");
  }

  std::string status_where = where + ", status";
  Result<std::string> token = StringMember(*status, "token", status_where);
  if (!token.ok()) return token.status();
  Result<std::string> cert = StringMember(*status, "clientCertificateData", status_where);
  if (!cert.ok()) return cert.status();
  Result<std::string> key = StringMember(*status, "clientKeyData", status_where);
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty()) {
    return InvalidArgument(status_where + ": clientCertificateData and clientKeyData must come " +
                           "together, and only one was returned");
  }
  if (token->empty() && cert->empty()) {
    return InvalidArgument(status_where + ": neither a token nor a client certificate and key");
  }

  Credential credential;
  if (!token->empty()) credential.authorization = "Bearer " + *token;
  credential.client_cert_pem = *cert;
  credential.client_key_pem = *key;
  Result<std::string> expiry = StringMember(*status, "expirationTimestamp", status_where);
  if (!expiry.ok()) return expiry.status();
  if (!expiry->empty()) {
    Result<std::chrono::system_clock::time_point> when = ParseRfc3339(*expiry);
    if (!when.ok()) {
      return InvalidArgument(status_where + ": expirationTimestamp " + when.status().message());
    }
    credential.expiry = *when;
  }
  return credential;
}

Result<Credential> RunExecPlugin(const ExecConfig& exec, const ClusterConfig& cluster) {
  std::string where = Describe(exec, cluster);
  std::vector<std::pair<std::string, std::string>> extra = exec.env;
  extra.emplace_back("KUBERNETES_EXEC_INFO", ExecInfoJson(exec, cluster));

  Result<PluginRun> run = Spawn(exec, PluginEnvironment(extra));
  if (!run.ok()) return run.status().WithContext(where);
  if (run->not_found) {
    std::string hint = exec.install_hint.empty() ? "" : "\n" + exec.install_hint;
    return NotFound(where + ": command not found" +
                    (exec.command.find('/') == std::string::npos ? " on PATH" : "") + hint);
  }
  if (run->signal != 0) {
    return Unauthenticated(where + " was killed by signal " + std::to_string(run->signal) +
                           StderrTail(run->err));
  }
  if (run->exit_code != 0) {
    return Unauthenticated(where + " failed with exit status " + std::to_string(run->exit_code) +
                           StderrTail(run->err));
  }
  if (run->stdout_too_long) return InvalidArgument(where + " printed more than 1 MiB");
  Result<Credential> credential = ParseExecCredential(run->out, exec.api_version, exec.command);
  if (!credential.ok()) {
    std::string message = credential.status().message();
    if (!cluster.source.empty()) message += " (" + cluster.source + ")";
    return Status(credential.status().code(), message + StderrTail(run->err));
  }
  return credential;
}

}  // namespace ferry::installer
