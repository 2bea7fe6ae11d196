// The exec credential plugin protocol: spawn, KUBERNETES_EXEC_INFO in, ExecCredential out.
#include "installer/exec_credential.h"

#include <ctime>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "common/subprocess.h"
#include "common/text_position.h"

namespace ferry::installer {
namespace {

constexpr size_t kStderrLinesInError = 5;

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
    return InvalidArgument(where + " printed malformed JSON (" + TextPosition(output, byte) +
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
  std::vector<std::string> extra;
  for (const auto& [name, value] : exec.env) extra.push_back(name + "=" + value);
  extra.push_back("KUBERNETES_EXEC_INFO=" + ExecInfoJson(exec, cluster));
  ProcessSpec spec{.argv = {exec.command}, .env = EnvironmentWith(extra)};
  spec.argv.insert(spec.argv.end(), exec.args.begin(), exec.args.end());

  // No terminal and no input: ferry never runs plugins interactively.
  Result<ProcessRun> run = RunProcess(spec);
  if (!run.ok()) return run.status().WithContext(where);
  if (run->not_found) {
    std::string hint = exec.install_hint.empty() ? "" : "\n" + exec.install_hint;
    return NotFound(where + ": command not found" +
                    (exec.command.find('/') == std::string::npos ? " on PATH" : "") + hint);
  }
  if (run->timed_out) return Unavailable(where + " " + TimeoutMessage(*run) + StderrTail(run->err));
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
