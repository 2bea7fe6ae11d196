// Kubeconfig loading: find the files, pick the context of the merged config, and turn its
// cluster and user into a ClusterConfig; also the in-cluster service account. Parsing and
// merging live in kubeconfig_merge.h, typed field reads in kubeconfig_field.h.
#include "installer/kubeconfig.h"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <utility>
#include <vector>

#include "common/base64.h"
#include "installer/kubeconfig_merge.h"

namespace ferry::installer {
namespace {

constexpr char kExecV1[] = "client.authentication.k8s.io/v1";
constexpr char kExecV1beta1[] = "client.authentication.k8s.io/v1beta1";

// A path from the file, relative to the file's directory unless absolute.
std::string ResolvePath(const std::string& dir, const std::string& path) {
  if (path.empty() || path.front() == '/') return path;
  return (std::filesystem::path(dir) / path).lexically_normal().string();
}

std::string JoinNames(const std::map<std::string, NamedEntry>& entries) {
  if (entries.empty()) return "none";
  std::string names;
  for (const auto& [name, entry] : entries) names += (names.empty() ? "" : ", ") + name;
  return names;
}

// The base64 of a *-data field, decoded. Go's decoder skips line breaks; so do we.
Result<std::string> DecodeData(const KubeconfigField& field, const std::string& text) {
  std::string compact;
  for (char c : text) {
    if (c != '\n' && c != '\r') compact.push_back(c);
  }
  Result<std::string> decoded = Base64Decode(compact);
  if (!decoded.ok()) return field.Error("not valid base64");
  return decoded;
}

// PEM from `file_key` (a path) or `data_key` (base64); "" when neither is set.
Result<std::string> ReadPem(const NamedEntry& entry, const std::string& file_key,
                            const std::string& data_key) {
  KubeconfigField file_field = entry.body.Member(file_key);
  KubeconfigField data_field = entry.body.Member(data_key);
  Result<std::string> file = file_field.String();
  if (!file.ok()) return file.status();
  Result<std::string> data = data_field.String();
  if (!data.ok()) return data.status();
  if (!file->empty() && !data->empty()) {
    return data_field.Error("both " + file_key + " and " + data_key + " are set; keep one");
  }
  std::string pem;
  const KubeconfigField* source = &data_field;
  if (!data->empty()) {
    Result<std::string> decoded = DecodeData(data_field, *data);
    if (!decoded.ok()) return decoded.status();
    pem = std::move(*decoded);
  } else if (!file->empty()) {
    std::string path = ResolvePath(entry.dir, *file);
    Result<std::string> read = ReadLocalFile(path);
    if (!read.ok()) {
      return file_field.Error("cannot read " + path + ": " + read.status().message(),
                              read.status().code());
    }
    pem = std::move(*read);
    source = &file_field;
  } else {
    return std::string();
  }
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return source->Error("does not hold PEM data (no \"-----BEGIN\" line)");
  }
  return pem;
}

// "http(s)://host[:port][/path]" with the trailing slash removed.
Result<std::string> CheckServer(const KubeconfigField& field, std::string server) {
  if (server.empty()) return field.Error("missing: the cluster needs a server URL");
  size_t scheme_end = server.find("://");
  std::string scheme = scheme_end == std::string::npos ? "" : server.substr(0, scheme_end);
  // A URL with "user:password@" in it is not repeated.
  std::string shown = server.find('@') == std::string::npos ? "\"" + server + "\"" : "the URL";
  if (scheme != "https" && scheme != "http") {
    return field.Error(shown + " is not an http:// or https:// URL");
  }
  if (server.size() == scheme_end + 3 || server[scheme_end + 3] == '/') {
    return field.Error(shown + " has no host");
  }
  while (server.back() == '/') server.pop_back();
  return server;
}

Status ResolveCluster(const NamedEntry& entry, ClusterConfig& config) {
  KubeconfigField server_field = entry.body.Member("server");
  Result<std::string> server = server_field.String();
  if (!server.ok()) return server.status();
  Result<std::string> checked = CheckServer(server_field, *server);
  if (!checked.ok()) return checked.status();
  config.server = *checked;

  Result<std::string> ca = ReadPem(entry, "certificate-authority", "certificate-authority-data");
  if (!ca.ok()) return ca.status();
  config.ca_pem = *ca;

  KubeconfigField insecure_field = entry.body.Member("insecure-skip-tls-verify");
  Result<bool> insecure = insecure_field.Bool();
  if (!insecure.ok()) return insecure.status();
  if (*insecure && !config.ca_pem.empty()) {
    // client-go: "specifying a root certificates file with the insecure flag is not allowed".
    return insecure_field.Error(
        "cannot be true together with certificate-authority(-data); remove one of them");
  }
  config.insecure_skip_tls_verify = *insecure;

  Result<std::string> server_name = entry.body.Member("tls-server-name").String();
  if (!server_name.ok()) return server_name.status();
  config.tls_server_name = *server_name;

  KubeconfigField proxy_field = entry.body.Member("proxy-url");
  Result<std::string> proxy = proxy_field.String();
  if (!proxy.ok()) return proxy.status();
  if (!proxy->empty()) {
    std::string scheme = proxy->substr(0, proxy->find("://"));
    if (proxy->find("://") == std::string::npos ||
        (scheme != "http" && scheme != "https" && scheme != "socks5")) {
      return proxy_field.Error("must be an http://, https:// or socks5:// URL");
    }
  }
  config.proxy_url = *proxy;
  return Status::Ok();
}

Result<ExecConfig> ParseExec(const KubeconfigField& field, const std::string& dir) {
  FERRY_RETURN_IF_ERROR(field.ExpectMap());
  ExecConfig exec;
  KubeconfigField version_field = field.Member("apiVersion");
  Result<std::string> version = version_field.String();
  if (!version.ok()) return version.status();
  if (*version != kExecV1 && *version != kExecV1beta1) {
    return version_field.Error(version->empty() ? std::string("missing: use ") + kExecV1
                                                : "\"" + *version + "\" is not supported; use " +
                                                      kExecV1 + " or " + kExecV1beta1);
  }
  exec.api_version = *version;

  KubeconfigField command_field = field.Member("command");
  Result<std::string> command = command_field.String();
  if (!command.ok()) return command.status();
  if (command->empty()) return command_field.Error("missing: the exec plugin needs a command");
  // Like client-go: "./bin/plugin" is next to the kubeconfig, "plugin" is looked up on PATH.
  exec.command = command->find('/') == std::string::npos ? *command : ResolvePath(dir, *command);

  Result<std::vector<KubeconfigField>> args = field.Member("args").Items();
  if (!args.ok()) return args.status();
  for (const KubeconfigField& arg : *args) {
    Result<std::string> text = arg.String();
    if (!text.ok()) return text.status();
    exec.args.push_back(*text);
  }

  Result<std::vector<KubeconfigField>> env = field.Member("env").Items();
  if (!env.ok()) return env.status();
  for (const KubeconfigField& var : *env) {
    FERRY_RETURN_IF_ERROR(var.ExpectMap());
    Result<std::string> name = var.Member("name").String();
    if (!name.ok()) return name.status();
    if (name->empty()) return var.Member("name").Error("missing: every env entry needs a name");
    Result<std::string> value = var.Member("value").String();
    if (!value.ok()) return value.status();
    exec.env.emplace_back(*name, *value);
  }

  Result<bool> provide = field.Member("provideClusterInfo").Bool();
  if (!provide.ok()) return provide.status();
  exec.provide_cluster_info = *provide;
  Result<std::string> hint = field.Member("installHint").String();
  if (!hint.ok()) return hint.status();
  exec.install_hint = *hint;

  KubeconfigField mode_field = field.Member("interactiveMode");
  Result<std::string> mode = mode_field.String();
  if (!mode.ok()) return mode.status();
  if (*mode == "Always") {
    return mode_field.Error("Always is not supported: ferry runs plugins without a terminal",
                            StatusCode::kUnsupported);
  }
  if (!mode->empty() && *mode != "Never" && *mode != "IfAvailable") {
    return mode_field.Error("\"" + *mode + "\" is not one of Never, IfAvailable, Always");
  }
  return exec;
}

Status ResolveUser(const NamedEntry& entry, ClusterConfig& config) {
  const KubeconfigField& user = entry.body;
  if (user.Member("auth-provider").present()) {
    return user.Member("auth-provider")
        .Error("auth-provider plugins are not supported; use an exec credential plugin instead",
               StatusCode::kUnsupported);
  }
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"}) {
    if (user.Member(key).present()) {
      return user.Member(key).Error("impersonation is not supported", StatusCode::kUnsupported);
    }
  }

  Result<std::string> cert = ReadPem(entry, "client-certificate", "client-certificate-data");
  if (!cert.ok()) return cert.status();
  Result<std::string> key = ReadPem(entry, "client-key", "client-key-data");
  if (!key.ok()) return key.status();
  if (cert->empty() != key->empty()) {
    return user.Error(cert->empty() ? "client-key is set without client-certificate(-data)"
                                    : "client-certificate is set without client-key(-data)");
  }
  config.client_cert_pem = *cert;
  config.client_key_pem = *key;

  for (auto [key_name, out] :
       {std::pair("token", &config.token), std::pair("username", &config.username),
        std::pair("password", &config.password)}) {
    Result<std::string> value = user.Member(key_name).String();
    if (!value.ok()) return value.status();
    *out = *value;
  }
  if (!config.token.empty() && (!config.username.empty() || !config.password.empty())) {
    return user.Error(
        "more than one authentication method (token and username/password); keep one");
  }

  KubeconfigField token_file_field = user.Member("tokenFile");
  Result<std::string> token_file = token_file_field.String();
  if (!token_file.ok()) return token_file.status();
  if (!token_file->empty()) {
    config.token_file = ResolvePath(entry.dir, *token_file);
    // Read now so a wrong path fails at load; the credential source re-reads it.
    Result<std::string> token = ReadLocalFile(config.token_file);
    if (!token.ok()) {
      return token_file_field.Error(
          "cannot read " + config.token_file + ": " + token.status().message(),
          token.status().code());
    }
    if (TrimSpace(*token).empty()) return token_file_field.Error(config.token_file + " is empty");
  }

  if (user.Member("exec").present()) {
    Result<ExecConfig> exec = ParseExec(user.Member("exec"), entry.dir);
    if (!exec.ok()) return exec.status();
    config.exec = std::move(*exec);
  }
  return Status::Ok();
}

Result<ClusterConfig> Resolve(const MergedKubeconfig& merged, const std::string& wanted) {
  std::string name = wanted.empty() ? merged.current_context : wanted;
  if (name.empty()) {
    return InvalidArgument(merged.Label() + ": no current-context is set and no --context was " +
                           "given (contexts: " + JoinNames(merged.contexts) + ")");
  }
  auto context = merged.contexts.find(name);
  if (context == merged.contexts.end()) {
    std::string from = wanted.empty() ? " (current-context in " + merged.current_context_file + ")"
                                      : " (from --context)";
    return NotFound(merged.Label() + ": context \"" + name + "\"" + from +
                    " is not defined (contexts: " + JoinNames(merged.contexts) + ")");
  }
  const KubeconfigField& body = context->second.body;
  ClusterConfig config;
  config.context_name = name;
  config.source = "kubeconfig " + body.file() + ", context " + name;

  std::string cluster_name, user_name;
  for (auto [key, out] : {std::pair("cluster", &cluster_name), std::pair("user", &user_name),
                          std::pair("namespace", &config.namespace_name)}) {
    Result<std::string> value = body.Member(key).String();
    if (!value.ok()) return value.status();
    *out = *value;
  }
  if (config.namespace_name.empty()) config.namespace_name = "default";

  if (cluster_name.empty()) {
    return body.Member("cluster").Error("missing: the context names no cluster");
  }
  auto cluster = merged.clusters.find(cluster_name);
  if (cluster == merged.clusters.end()) {
    return body.Member("cluster").Error("cluster \"" + cluster_name + "\" is not defined in " +
                                            merged.Label() +
                                            " (clusters: " + JoinNames(merged.clusters) + ")",
                                        StatusCode::kNotFound);
  }
  FERRY_RETURN_IF_ERROR(ResolveCluster(cluster->second, config));

  if (!user_name.empty()) {  // no user: anonymous, as with kubectl
    auto user = merged.users.find(user_name);
    if (user == merged.users.end()) {
      return body.Member("user").Error("user \"" + user_name + "\" is not defined in " +
                                           merged.Label() + " (users: " + JoinNames(merged.users) +
                                           ")",
                                       StatusCode::kNotFound);
    }
    FERRY_RETURN_IF_ERROR(ResolveUser(user->second, config));
  }
  return config;
}

std::string Getenv(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? "" : value;
}

// $KUBECONFIG's entries, empty ones and repeats dropped (client-go does the same).
std::vector<std::string> SplitKubeconfigList(const std::string& list) {
  std::vector<std::string> files;
  std::set<std::string> seen;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(':', start);
    if (end == std::string::npos) end = list.size();
    std::string file = list.substr(start, end - start);
    if (!file.empty() && seen.insert(file).second) files.push_back(file);
    start = end + 1;
  }
  return files;
}

}  // namespace

Result<ClusterConfig> LoadClusterConfig(const KubeconfigOptions& options) {
  std::vector<std::string> files;
  std::string looked_at;
  bool explicit_path = !options.path.empty();
  if (explicit_path) {
    files.push_back(options.path);
  } else if (std::string list = Getenv("KUBECONFIG"); !list.empty()) {
    files = SplitKubeconfigList(list);
    looked_at = "$KUBECONFIG=" + list;
  } else if (std::string home = Getenv("HOME"); !home.empty()) {
    files.push_back(home + "/.kube/config");
    looked_at = home + "/.kube/config";
  } else {
    looked_at = "~/.kube/config ($HOME is not set)";
  }

  Result<MergedKubeconfig> merged = LoadKubeconfigFiles(files, /*skip_missing=*/!explicit_path);
  if (!merged.ok()) {
    if (explicit_path && merged.status().code() == StatusCode::kNotFound) {
      return NotFound("kubeconfig " + options.path + " (from --kubeconfig) does not exist");
    }
    return merged.status();
  }

  bool in_pod = !Getenv("KUBERNETES_SERVICE_HOST").empty();
  if (merged->files.empty() && !(in_pod && options.context.empty())) {
    return NotFound("no kubeconfig found (looked at " + looked_at +
                    "); pass --kubeconfig or set KUBECONFIG");
  }
  // With no file at all, inside a pod, client-go falls back to the service account.
  Result<ClusterConfig> config =
      merged->files.empty() ? LoadInClusterConfig() : Resolve(*merged, options.context);
  if (config.ok() && !options.namespace_override.empty()) {
    config->namespace_name = options.namespace_override;
  }
  return config;
}

Result<ClusterConfig> LoadInClusterConfig(const std::string& directory) {
  std::string where = "in-cluster configuration (service account " + directory + ")";
  std::string host = Getenv("KUBERNETES_SERVICE_HOST");
  std::string port = Getenv("KUBERNETES_SERVICE_PORT");
  if (host.empty() || port.empty()) {
    return NotFound(where + ": KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set " +
                    "(they are inside a pod); outside a cluster use a kubeconfig");
  }
  ClusterConfig config;
  config.server =
      "https://" + (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + port;
  config.source = "in-cluster service account " + directory;

  config.token_file = directory + "/token";
  Result<std::string> token = ReadLocalFile(config.token_file);
  if (!token.ok()) {
    return Status(token.status().code(),
                  where + ": cannot read " + config.token_file + ": " + token.status().message());
  }
  config.token = TrimSpace(*token);
  if (config.token.empty()) return InvalidArgument(where + ": " + config.token_file + " is empty");

  std::string ca_file = directory + "/ca.crt";
  Result<std::string> ca = ReadLocalFile(ca_file);
  if (!ca.ok()) {
    return Status(ca.status().code(),
                  where + ": cannot read " + ca_file + ": " + ca.status().message());
  }
  config.ca_pem = *ca;

  Result<std::string> ns = ReadLocalFile(directory + "/namespace");
  if (ns.ok() && !TrimSpace(*ns).empty()) config.namespace_name = TrimSpace(*ns);
  return config;
}

}  // namespace ferry::installer
