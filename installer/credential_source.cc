// The credential for each request: fixed values from the kubeconfig, a token file that is re-read
// (rotated service-account tokens), or an exec plugin whose answer is cached until it expires.
#include <mutex>

#include "common/base64.h"
#include "installer/cluster_config.h"
#include "installer/exec_credential.h"
#include "installer/kubeconfig_merge.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::system_clock;

// Re-run a plugin this long before its credential expires, so a request does not race the expiry.
constexpr auto kExpiryMargin = std::chrono::seconds(10);
// client-go re-reads a token file once a minute even without a 401; so do we.
constexpr auto kTokenFileMaxAge = std::chrono::minutes(1);

// Token, basic auth and client certificate as written in the config; with a token file, the
// token comes from the file instead.
class StaticSource : public CredentialSource {
 public:
  explicit StaticSource(const ClusterConfig& config) : config_(config) {
    credential_.client_cert_pem = config.client_cert_pem;
    credential_.client_key_pem = config.client_key_pem;
    if (!config.token.empty()) {
      credential_.authorization = "Bearer " + config.token;
    } else if (!config.username.empty() || !config.password.empty()) {
      credential_.authorization = "Basic " + Base64Encode(config.username + ":" + config.password);
    }
  }

  Result<Credential> Current() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!config_.token_file.empty() && (!read_at_ || Clock::now() - *read_at_ > kTokenFileMaxAge)) {
      FERRY_RETURN_IF_ERROR(ReadTokenFile());
    }
    return credential_;
  }

  Result<Credential> Refresh() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!config_.token_file.empty()) FERRY_RETURN_IF_ERROR(ReadTokenFile());
    return credential_;
  }

 private:
  Status ReadTokenFile() {
    std::string where = "token file " + config_.token_file;
    if (!config_.source.empty()) where += " (" + config_.source + ")";
    Result<std::string> text = ReadLocalFile(config_.token_file);
    if (!text.ok()) return IoError("cannot read " + where + ": " + text.status().message());
    std::string token = TrimSpace(*text);
    if (token.empty()) return IoError(where + " is empty");
    credential_.authorization = "Bearer " + token;
    read_at_ = Clock::now();
    return Status::Ok();
  }

  const ClusterConfig config_;
  std::mutex mutex_;
  Credential credential_;                     // guarded by mutex_
  std::optional<Clock::time_point> read_at_;  // guarded by mutex_; last token file read
};

// Runs the exec plugin when there is no credential yet, when it is about to expire, and on
// every Refresh(). The mutex is held while the plugin runs, so concurrent requests wait for one
// run instead of starting their own.
class ExecSource : public CredentialSource {
 public:
  explicit ExecSource(const ClusterConfig& config) : config_(config) {}

  Result<Credential> Current() override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (cached_ && (!cached_->expiry || Clock::now() + kExpiryMargin < *cached_->expiry)) {
      return *cached_;
    }
    return RunLocked();
  }

  Result<Credential> Refresh() override {
    std::lock_guard<std::mutex> lock(mutex_);
    return RunLocked();
  }

 private:
  Result<Credential> RunLocked() {
    cached_.reset();
    Result<Credential> credential = RunExecPlugin(*config_.exec, config_);
    if (credential.ok()) cached_ = *credential;
    return credential;
  }

  const ClusterConfig config_;
  std::mutex mutex_;
  std::optional<Credential> cached_;  // guarded by mutex_
};

}  // namespace

std::shared_ptr<CredentialSource> MakeCredentialSource(const ClusterConfig& config) {
  // As client-go: a token, basic auth or client certificate in the config wins over an exec
  // plugin, which then never runs.
  bool has_static = !config.token.empty() || !config.token_file.empty() ||
                    !config.username.empty() || !config.password.empty() ||
                    !config.client_cert_pem.empty();
  if (config.exec && !has_static) return std::make_shared<ExecSource>(config);
  return std::make_shared<StaticSource>(config);
}

}  // namespace ferry::installer
