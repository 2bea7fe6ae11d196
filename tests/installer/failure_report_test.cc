// Diagnosis lines for pods that do not start, from pods and events shaped as the kubelet writes them.
#include "installer/failure_report.h"

#include <catch2/catch.hpp>

using namespace ferry::installer;
using nlohmann::json;

namespace {

json Pod(const json& container_status, const std::string& phase = "Pending") {
  return {{"metadata", {{"name", "activator-1"}, {"namespace", "knative-serving"}}},
          {"status", {{"phase", phase}, {"containerStatuses", json::array({container_status})}}}};
}

const std::string kImage = "127.0.0.1:5000/mirror/activator:v1@sha256:" + std::string(64, 'a');

}  // namespace

TEST_CASE("ImagePullBackOff names the image and the kubelet's message from the events", "[failure_report]") {
  json pod = Pod({{"name", "activator"}, {"image", kImage},
                  {"state", {{"waiting", {{"reason", "ImagePullBackOff"}, {"message", "Back-off pulling image \"" + kImage + "\""}}}}}});
  std::string kubelet = "Failed to pull image \"" + kImage + "\": rpc error: code = NotFound desc = not found";
  std::vector<json> events = {{{"type", "Warning"}, {"reason", "Failed"}, {"message", kubelet}}};
  std::vector<std::string> lines = DiagnosePod(pod, events, nullptr);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "pod knative-serving/activator-1 container activator: ImagePullBackOff: image " + kImage +
                        " cannot be pulled: " + kubelet);
}

TEST_CASE("CrashLoopBackOff shows the last log lines", "[failure_report]") {
  json pod = Pod({{"name", "controller"}, {"image", "x"}, {"restartCount", 4},
                  {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}, "Running");
  std::vector<std::string> lines = DiagnosePod(pod, {}, [](const std::string& c, bool previous) {
    return c == "controller" && previous ? std::string("starting\npanic: no config-network") : std::string();
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find("CrashLoopBackOff (4 restarts), last log lines:") != std::string::npos);
  CHECK(lines[0].find("| panic: no config-network") != std::string::npos);
}

TEST_CASE("a container caught just after it exited shows its status and its own last lines", "[failure_report]") {
  json pod = Pod({{"name", "webhook"}, {"image", "x"}, {"restartCount", 2}, {"ready", false},
                  {"state", {{"terminated", {{"exitCode", 1}, {"reason", "Error"}}}}}}, "Running");
  std::vector<std::string> lines = DiagnosePod(pod, {}, [](const std::string&, bool previous) {
    return previous ? std::string("older run") : std::string("fatal: cannot read config");
  });
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].starts_with("pod knative-serving/activator-1 container webhook: exited with status 1 (Error) (2 restarts)"));
  CHECK(lines[0].find("| fatal: cannot read config") != std::string::npos);
}

TEST_CASE("a running container that is not ready quotes its failed probe", "[failure_report]") {
  json pod = Pod({{"name", "activator"}, {"image", "x"}, {"ready", false},
                  {"state", {{"running", {{"startedAt", "2024-01-01T00:00:00Z"}}}}}}, "Running");
  std::vector<json> events = {{{"type", "Warning"}, {"reason", "Unhealthy"},
                               {"message", "Readiness probe failed: HTTP probe failed with statuscode: 500"}}};
  std::vector<std::string> lines = DiagnosePod(pod, events, nullptr);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "pod knative-serving/activator-1 container activator: running, not ready: Readiness probe failed: "
                    "HTTP probe failed with statuscode: 500");
  json ready = Pod({{"name", "activator"}, {"image", "x"}, {"ready", true}, {"state", {{"running", json::object()}}}},
                   "Running");
  CHECK(DiagnosePod(ready, events, nullptr).empty());
}

TEST_CASE("an unscheduled pod shows the scheduler's reason", "[failure_report]") {
  json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}},
              {"status", {{"phase", "Pending"},
                          {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "False"},
                                                        {"reason", "Unschedulable"},
                                                        {"message", "0/3 nodes are available: 3 Insufficient cpu."}}})}}}};
  std::vector<std::string> lines = DiagnosePod(pod, {}, nullptr);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "pod ns/p: Pending, not scheduled: Unschedulable: 0/3 nodes are available: 3 Insufficient cpu.");
}

TEST_CASE("a starting pod has nothing to report", "[failure_report]") {
  json pod = Pod({{"name", "c"}, {"image", "x"}, {"state", {{"waiting", {{"reason", "ContainerCreating"}}}}}});
  CHECK(DiagnosePod(pod, {}, nullptr).empty());
}

TEST_CASE("warning events: newest last, limited, without repeats of what was already said", "[failure_report]") {
  auto event = [](const char* type, const char* when, const char* message) {
    return json{{"type", type}, {"reason", "Failed"}, {"lastTimestamp", when}, {"message", message},
                {"involvedObject", {{"kind", "Pod"}, {"namespace", "ns"}, {"name", "p"}}}};
  };
  std::vector<json> events = {event("Warning", "2024-01-01T00:00:03Z", "third"),
                              event("Normal", "2024-01-01T00:00:04Z", "normal"),
                              event("Warning", "2024-01-01T00:00:01Z", "first"),
                              event("Warning", "2024-01-01T00:00:02Z", "second"),
                              event("Warning", "2024-01-01T00:00:05Z", "already said")};
  std::vector<std::string> lines = WarningEventLines(events, 2, {"pod p: already said"});
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "Warning Failed Pod ns/p: second");
  CHECK(lines[1] == "Warning Failed Pod ns/p: third");
}

TEST_CASE("a LoadBalancer without an address names the flag and its NodePort", "[failure_report]") {
  json service = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kourier","namespace":"kourier-system"},
      "spec":{"type":"LoadBalancer","ports":[{"name":"https","port":443,"nodePort":31443},
                                             {"name":"http2","port":80,"nodePort":31080}]},
      "status":{"loadBalancer":{}}})");
  std::vector<std::string> lines = DiagnoseLoadBalancer(service);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] ==
        "Service kourier-system/kourier has no LoadBalancer address: the cluster may have no load-balancer controller "
        "(kind, bare metal); install with --no-wait-load-balancer and reach it at a node's address on NodePort 31080 "
        "(its port 80)");

  service["status"]["loadBalancer"]["ingress"] = json::array({{{"ip", "192.0.2.10"}}});
  CHECK(DiagnoseLoadBalancer(service).empty());
  service["spec"]["type"] = "ClusterIP";
  service["status"] = json::object();
  CHECK(DiagnoseLoadBalancer(service).empty());
}
