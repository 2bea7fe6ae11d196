// Watch against the Kubernetes API emulator: events in order, resumed from the last
// resourceVersion after a cut connection, a relist (RESYNC) after 410, and the ways a watch ends.
#include <catch2/catch.hpp>

#include <mutex>
#include <thread>

#include "installer/watch.h"
#include "tests/installer/emulator_process.h"
#include "tests/installer/tcp_relay.h"

using namespace ferry::installer;
using ferry::testing::EmulatorProcess;
using ferry::testing::FastRetries;
using ferry::testing::TcpRelay;
using ferry::testing::WaitUntil;
using nlohmann::json;

namespace {

json ConfigMap(const std::string& name, const std::string& value = "v") {
  return {{"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}, {"labels", {{"app", "w"}}}}},
          {"data", {{"k", value}}}};
}

// Collects "TYPE name" lines from a watch running on its own thread.
class Recorder {
 public:
  WatchControl Add(const WatchEvent& e) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (e.type == "BOOKMARK") return WatchControl::kContinue;
    std::string name = e.type == "RESYNC" ? std::to_string(e.object["items"].size()) + " items"
                                          : e.object["metadata"].value("name", "");
    lines_.push_back(e.type + " " + name);
    return lines_.back() == stop_at_ ? WatchControl::kStop : WatchControl::kContinue;
  }
  bool Saw(const std::string& line) {
    std::lock_guard<std::mutex> lock(mutex_);
    return std::find(lines_.begin(), lines_.end(), line) != lines_.end();
  }
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }
  std::string stop_at_;

 private:
  std::mutex mutex_;
  std::vector<std::string> lines_;
};

std::string ParamOf(const std::string& path, const std::string& key) {
  size_t at = path.find(key + "=");
  if (at == std::string::npos) return "";
  at += key.size() + 1;
  return path.substr(at, path.find('&', at) - at);
}

}  // namespace

TEST_CASE("a watch resumes from the last resourceVersion after its connection is cut", "[emulator]") {
  EmulatorProcess kube;
  // The client reaches the emulator through a relay the test can cut; TLS passes through it.
  TcpRelay relay(std::stoi(kube.server.substr(kube.server.rfind(':') + 1)));
  ClusterConfig config = kube.Config("admin");
  config.server = "https://127.0.0.1:" + std::to_string(relay.port());
  KubeClient client(config, MakeCredentialSource(config), FastRetries());
  ResourceRef cm = *client.Resolve("v1", "ConfigMap");
  REQUIRE(client.Apply(cm, "", ConfigMap("a")).ok());

  Recorder recorder;
  recorder.stop_at_ = "DELETED a";
  KubeResult<WatchSummary> summary = ApiError{};
  std::thread watcher([&] {
    summary = Watch(client, cm, "", {.label_selector = "app=w"}, [&](const WatchEvent& e) { return recorder.Add(e); });
  });
  REQUIRE(WaitUntil([&] { return recorder.Saw("ADDED a"); }));
  KubeResult<json> b = client.Apply(cm, "", ConfigMap("b"));
  REQUIRE(b.ok());
  REQUIRE(WaitUntil([&] { return recorder.Saw("ADDED b"); }));

  kube.ClearRequests();
  relay.CutAll();
  REQUIRE(client.Apply(cm, "", ConfigMap("c")).ok());
  CHECK(WaitUntil([&] { return recorder.Saw("ADDED c"); }));
  REQUIRE(client.Delete(cm, "", "a").ok());
  watcher.join();

  INFO(summary.error().ToString());
  REQUIRE(summary.ok());
  CHECK(recorder.lines() == std::vector<std::string>{"ADDED a", "ADDED b", "ADDED c", "DELETED a"});
  CHECK(summary->connections >= 2);
  CHECK(summary->end == WatchEnd::kCallback);
  // The new connection asked for what came after b, not for everything again.
  std::vector<json> watches = kube.RequestsTo("GET", "watch=1");
  REQUIRE_FALSE(watches.empty());
  CHECK(ParamOf(watches.front()["path"], "resourceVersion") == (*b)["metadata"]["resourceVersion"]);
}

TEST_CASE("a watch whose resourceVersion was compacted away lists again and says so", "[emulator]") {
  EmulatorProcess kube;
  auto client = MakeKubeClient(kube.Config("admin"), FastRetries());
  ResourceRef cm = *client->Resolve("v1", "ConfigMap");
  KubeResult<json> first = client->Apply(cm, "", ConfigMap("a"));
  REQUIRE(first.ok());
  std::string old_version = (*first)["metadata"]["resourceVersion"];
  REQUIRE(client->Apply(cm, "", ConfigMap("b")).ok());
  REQUIRE(client->Apply(cm, "", ConfigMap("a", "changed")).ok());
  kube.Compact();

  Recorder recorder;
  recorder.stop_at_ = "ADDED c";
  std::thread writer([&] {
    // Written once the relist happened, so the watch must go on after it.
    WaitUntil([&] { return recorder.Saw("RESYNC 2 items"); });
    (void)client->Apply(cm, "", ConfigMap("c"));
  });
  KubeResult<WatchSummary> summary =
      Watch(*client, cm, "", {.label_selector = "app=w", .resource_version = old_version},
            [&](const WatchEvent& e) { return recorder.Add(e); });
  writer.join();
  INFO(summary.error().ToString());
  REQUIRE(summary.ok());
  CHECK(summary->relists == 1);
  CHECK(recorder.lines() == std::vector<std::string>{"RESYNC 2 items", "ADDED c"});
}

TEST_CASE("a watch ends on its stop token, its deadline, or repeated failures", "[emulator]") {
  EmulatorProcess kube;
  auto client = MakeKubeClient(kube.Config("admin"), FastRetries());
  ResourceRef cm = *client->Resolve("v1", "ConfigMap");
  auto ignore = [](const WatchEvent&) { return WatchControl::kContinue; };

  SECTION("stop token, while the stream is idle") {
    std::stop_source stop;
    KubeResult<WatchSummary> summary = ApiError{};
    std::thread watcher([&] { summary = Watch(*client, cm, "", {.stop = stop.get_token()}, ignore); });
    REQUIRE(WaitUntil([&] { return !kube.RequestsTo("GET", "watch=1").empty(); }));
    stop.request_stop();
    watcher.join();
    REQUIRE(summary.ok());
    CHECK(summary->end == WatchEnd::kStopRequested);
  }
  SECTION("deadline") {
    KubeResult<WatchSummary> summary =
        Watch(*client, cm, "", {.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(300)}, ignore);
    REQUIRE(summary.ok());
    CHECK(summary->end == WatchEnd::kDeadline);
  }
  SECTION("a server that keeps failing") {
    kube.Fault({{"method", "GET"}, {"path", "watch=1"}, {"count", 0}, {"code", 503}});
    KubeResult<WatchSummary> summary = Watch(*client, cm, "", {.max_failures = 3}, ignore);
    REQUIRE_FALSE(summary.ok());
    CHECK(summary.error().code == 503);
    CHECK(summary.error().ToString().find("3 connections in a row failed") != std::string::npos);
    CHECK(kube.RequestsTo("GET", "watch=1").size() == 3);
  }
  SECTION("a non-retryable error at once") {
    ResourceRef missing = cm;
    missing.plural = "nosuchthings";
    KubeResult<WatchSummary> summary = Watch(*client, missing, "", {.resource_version = "1"}, ignore);
    REQUIRE_FALSE(summary.ok());
    CHECK(summary.error().IsNotFound());
  }
}
