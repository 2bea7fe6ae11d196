// SelftestReport: what `ferry selftest` checked and measured, and the series its charts draw.
//
// The report is plain data; the self-test fills it, report_text.h prints it on a terminal,
// report_html.h draws it, and ToJson/FromJson keep it as report.json. The JSON field names below
// are stable (scripts read them); units are in the names: *_seconds, *_ms.
//
//   {"format_version": 1, "ferry_version": "0.1.0", "namespace": "ferry-selftest",
//    "passed": true,                                   // every check passed (written, not read)
//    "checks": [{"name", "passed", "expected", "seen", "hint"}],
//    "gateway": {"address": "10.0.0.5:31380", "how": "NodePort 31380 on node address 10.0.0.5"},
//    "scale_to_zero": {"observed": true, "seconds_after_last_request": 62.4},
//    "cold_start": {"measured": true, "connect_seconds", "first_byte_seconds", "total_seconds",
//                   "timeline": [{"label": "request sent", "t_seconds": 0}, ...]},
//    "phases": [{"name": "autoscale", "url", "concurrency", "duration_seconds", "target",
//                "peak_pods", "note",
//                "series": [{"t_seconds", "pods", "in_flight", "rps", "p50_ms", "p95_ms", "p99_ms"}]}]}
//
// FromJson accepts a missing field as its default (older or partial reports still load) but
// rejects a field of the wrong type, naming it ("checks[2].passed: expected a boolean").
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "common/status.h"
#include "selftest/load_generator.h"

namespace ferry::selftest {

inline constexpr int kReportFormatVersion = 1;

// One check: passed or not, and for a failure what was expected, what was seen, what to look at.
struct ReportCheck {
  std::string name;      // "helloworld answers through the gateway"
  bool passed = false;
  std::string expected;  // "status 200, body \"Hello World!\""
  std::string seen;      // "status 503, body \"no healthy upstream\""
  std::string hint;      // "pod helloworld-00001-x: waiting, reason ImagePullBackOff"
};

// The gateway the probes went through and how it was found.
struct ReportGateway {
  std::string address;  // host:port
  std::string how;      // "LoadBalancer of istio-system/istio-ingressgateway", "--gateway", ...
};

struct ScaleToZeroResult {
  bool observed = false;                   // the revision's pods all went away
  double seconds_after_last_request = 0;   // when they did
};

// A moment of the cold start, in seconds since the request was sent.
struct TimelinePoint {
  std::string label;  // "request sent", "pod scheduled", "pod ready", "first byte", ...
  double t_seconds = 0;
};

struct ColdStartResult {
  bool measured = false;
  double connect_seconds = 0;
  double first_byte_seconds = 0;
  double total_seconds = 0;
  std::vector<TimelinePoint> timeline;  // whatever the self-test could observe, in any order
};

// One second of a load phase: the pods seen and the load generator's window.
struct SeriesPoint {
  double t_seconds = 0;  // end of the window, since the phase started
  int pods = 0;          // the revision's ready pods
  int in_flight = 0;
  double rps = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0;  // 0 when nothing completed in the window
};

// Builds a point from a load window and the pod count observed when it closed.
SeriesPoint SeriesPointFromWindow(const LoadWindow& window, int pods);

// A load phase (the autoscale sample, then helloworld under the same load).
struct LoadPhase {
  std::string name;  // "autoscale", "helloworld"
  std::string url;
  int concurrency = 0;
  double duration_seconds = 0;
  int target = 0;         // autoscaling.knative.dev/target
  int peak_pods = 0;
  std::string note;       // e.g. why helloworld needs fewer pods than autoscale
  std::vector<SeriesPoint> series;
};

struct SelftestReport {
  std::string ferry_version;
  std::string ns;  // "namespace" in JSON
  std::vector<ReportCheck> checks;
  ReportGateway gateway;
  ScaleToZeroResult scale_to_zero;
  ColdStartResult cold_start;
  std::vector<LoadPhase> phases;

  // True when there is at least one check and every check passed.
  bool Passed() const;
};

nlohmann::json ToJson(const SelftestReport& report);

// Reads a report written by ToJson. A non-OK Status names the field that is wrong.
Result<SelftestReport> FromJson(const nlohmann::json& json);

// Parses report.json text; `where` names the file in errors.
Result<SelftestReport> ParseReport(const std::string& text, const std::string& where);

}  // namespace ferry::selftest
