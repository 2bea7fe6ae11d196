// Runs a client-go exec credential plugin (users[].user.exec, e.g. gke-gcloud-auth-plugin or
// aws-iam-authenticator) and reads the ExecCredential it prints. No caching here: that is the
// credential source's job (credential_source.cc).
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "installer/cluster_config.h"

namespace ferry::installer {

// Runs `exec.command exec.args...` directly (no shell), with the process environment plus
// exec.env, KUBERNETES_EXEC_INFO = ExecInfoJson(exec, cluster), stdin from /dev/null, and parses
// its standard output with ParseExecCredential.
// Errors (all naming the command; a failing plugin's last lines of stderr are included):
//  - NotFound: the command does not exist (the message carries exec.install_hint);
//  - Unavailable: the plugin ran past HelperTimeout() (common/subprocess.h) and was stopped;
//  - Unauthenticated: the plugin exited non-zero or was killed;
//  - InvalidArgument: what it printed is not a usable ExecCredential.
Result<Credential> RunExecPlugin(const ExecConfig& exec, const ClusterConfig& cluster);

// The ExecCredential handed to the plugin: apiVersion from `exec`, spec.interactive false, and
// spec.cluster (server, certificate-authority-data, insecure-skip-tls-verify, tls-server-name,
// proxy-url) when exec.provide_cluster_info.
std::string ExecInfoJson(const ExecConfig& exec, const ClusterConfig& cluster);

// Parses a plugin's output. It must be an ExecCredential of `api_version` with a status holding a
// token, or a client certificate and key, or both; expirationTimestamp (RFC 3339) is optional.
// `command` is only used in messages, which never quote the token or key.
Result<Credential> ParseExecCredential(std::string_view output, const std::string& api_version,
                                       const std::string& command);

// "2024-05-01T12:00:00Z", with optional fractional seconds and a "+02:00" style offset.
Result<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view text);

}  // namespace ferry::installer
