// The Kubernetes API emulator (tests/lib/ferrytest/kube) as a child process of a Catch2 test:
// started in a fresh temporary directory, ready once DIR/state.json exists, killed (with its
// process group) and cleaned up in the destructor. Also: the emulator's admin API, and kubeconfig
// loading for its contexts (admin, cert-admin, viewer, basic).
#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/http_client.h"
#include "installer/kube_client.h"
#include "installer/kubeconfig.h"

#ifndef FERRY_PYTHON
#define FERRY_PYTHON "python3"
#endif
#ifndef FERRY_TEST_LIB
#error "FERRY_TEST_LIB (tests/lib) must be defined by tests/CMakeLists.txt"
#endif

namespace ferry::testing {

// Client options with fast retries: the tests check that retries happen, not how long they take.
inline installer::KubeClientOptions FastRetries() {
  installer::KubeClientOptions options;
  options.retry.base_delay = std::chrono::milliseconds(10);
  options.retry.max_delay = std::chrono::milliseconds(50);
  options.retry.max_retry_after = std::chrono::milliseconds(1500);
  return options;
}

// Polls `condition` until it is true or `timeout` passes; returns whether it became true.
inline bool WaitUntil(const std::function<bool()>& condition,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // polling interval, not synchronisation
  }
  return true;
}

class EmulatorProcess {
 public:
  // `args`: extra serve flags, e.g. {"--crd-established-delay", "1"}.
  explicit EmulatorProcess(const std::vector<std::string>& args = {}) {
    char pattern[] = "/tmp/ferry-kube-test-XXXXXX";
    if (!mkdtemp(pattern)) throw std::runtime_error("cannot make a temporary directory");
    dir_ = pattern;
    std::vector<std::string> argv = {FERRY_PYTHON, "-m", "ferrytest.kube", "serve", "--dir", dir_};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string log = dir_ + "/emulator.log";
    pid_ = fork();
    if (pid_ == 0) {
      setpgid(0, 0);
      setenv("PYTHONPATH", FERRY_TEST_LIB, 1);
      FILE* out = std::fopen(log.c_str(), "w");
      if (out) {
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
      }
      std::vector<char*> raw;
      for (auto& a : argv) raw.push_back(a.data());
      raw.push_back(nullptr);
      execvp(raw[0], raw.data());
      _exit(127);
    }
    setpgid(pid_, pid_);  // also here: the destructor may signal the group before the child runs
    std::string state_path = dir_ + "/state.json";
    bool ready = WaitUntil([&] { return std::filesystem::exists(state_path) || Exited(); }, std::chrono::seconds(60));
    if (!ready || Exited()) {
      std::string text = ReadFile(log);
      Stop();
      throw std::runtime_error("the emulator did not start:\n" + text);
    }
    nlohmann::json state = nlohmann::json::parse(ReadFile(state_path));
    server = state["server"];
    ca_file = state["ca_file"];
    admin_token = state["admin_token"];
    kubeconfig = state["kubeconfig"];
    TlsOptions tls{.ca_file = ca_file};
    admin_http_ = std::make_unique<HttpClient>(HttpClientOptions{.tls = tls});
  }

  ~EmulatorProcess() { Stop(); }
  EmulatorProcess(const EmulatorProcess&) = delete;
  EmulatorProcess& operator=(const EmulatorProcess&) = delete;

  // The ClusterConfig of one of the kubeconfig's contexts, via the real kubeconfig loader.
  installer::ClusterConfig Config(const std::string& context = "admin") const {
    Result<installer::ClusterConfig> config = installer::LoadClusterConfig({.path = kubeconfig, .context = context});
    if (!config.ok()) throw std::runtime_error("loading the emulator's kubeconfig: " + config.status().ToString());
    return *config;
  }

  std::string CaPem() const { return ReadFile(ca_file); }

  // One request as the admin to any path (the admin API under /_emulator/ or the Kubernetes API).
  HttpResponse Request(const std::string& method, const std::string& path, const nlohmann::json& body = nullptr) {
    HttpRequest request{.method = method, .url = server + path};
    request.headers = {"Authorization: Bearer " + admin_token, "Accept: application/json"};
    if (!body.is_null()) {
      request.headers.push_back("Content-Type: application/json");
      request.body = body.dump();
    }
    Result<HttpResponse> r = admin_http_->Send(request);
    if (!r.ok()) throw std::runtime_error(method + " " + path + ": " + r.status().ToString());
    return *r;
  }

  void Fault(const nlohmann::json& rule) { Request("POST", "/_emulator/faults", rule); }
  void ClearFaults() { Request("DELETE", "/_emulator/faults"); }
  void AddToken(const std::string& token, const std::string& user) {
    Request("POST", "/_emulator/tokens", {{"token", token}, {"user", user}, {"groups", {"system:masters"}}});
  }
  void Compact() { Request("POST", "/_emulator/compact"); }
  void ClearRequests() { Request("DELETE", "/_emulator/requests"); }
  // [{method, path (with query), content_type, user, code}] in arrival order.
  nlohmann::json Requests() {
    nlohmann::json log = nlohmann::json::parse(Request("GET", "/_emulator/requests").body);
    return log.value("requests", nlohmann::json::array());
  }
  // Requests whose method matches and whose path contains `fragment`.
  std::vector<nlohmann::json> RequestsTo(const std::string& method, const std::string& fragment) {
    std::vector<nlohmann::json> out;
    for (const auto& r : Requests())
      if (r.value("method", "") == method && r.value("path", "").find(fragment) != std::string::npos) out.push_back(r);
    return out;
  }

  std::string server, ca_file, admin_token, kubeconfig;
  const std::string& dir() const { return dir_; }

 private:
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  bool Exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return false;
  }

  void Stop() {
    if (pid_ > 0) {
      kill(-pid_, SIGTERM);
      if (!WaitUntil([&] { return Exited(); }, std::chrono::seconds(10))) {
        kill(-pid_, SIGKILL);
        waitpid(pid_, nullptr, 0);
      }
      pid_ = -1;
    }
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }

  std::string dir_;
  pid_t pid_ = -1;
  std::unique_ptr<HttpClient> admin_http_;
};

}  // namespace ferry::testing
