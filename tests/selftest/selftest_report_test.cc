// The self-test's report: report.json round trip and errors, report.html's charts, timeline,
// checks and escaping, and the terminal summary.
#include "selftest/report_html.h"
#include "selftest/report_text.h"
#include "selftest/selftest_report.h"

#include <catch2/catch.hpp>

#include <string>

using namespace ferry::selftest;

namespace {

SelftestReport SampleReport() {
  SelftestReport r;
  r.ferry_version = "0.1.0";
  r.ns = "ferry-selftest";
  r.checks = {{"helloworld answers through the gateway", true, "status 200, body \"Hello World!\"", "status 200", ""},
              {"autoscale reaches 4 pods", false, "at least 4 pods", "2 pods",
               "pod autoscale-00001-x: waiting, reason ImagePullBackOff"}};
  r.gateway = {"10.0.0.5:31380", "NodePort 31380 on node address 10.0.0.5"};
  r.scale_to_zero = {true, 62.4};
  r.cold_start = {true, 0.001, 2.774, 2.775,
                  {{"request sent", 0}, {"pod ready", 2.5}, {"pod scheduled", 0.3}, {"first byte", 2.774}}};
  LoadPhase phase{.name = "autoscale", .url = "http://autoscale.ferry-selftest.example.com/?sleep=100",
                  .concurrency = 50, .duration_seconds = 30, .target = 10, .peak_pods = 2, .note = "", .series = {}};
  for (int t = 1; t <= 30; ++t) {
    phase.series.push_back({.t_seconds = double(t), .pods = t < 5 ? 1 : 2, .in_flight = 50, .rps = 120.5 + t,
                            .p50_ms = 100.0 + t, .p95_ms = 180, .p99_ms = 250.25});
  }
  r.phases.push_back(phase);
  return r;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("report.json round trips every field") {
  SelftestReport r = SampleReport();
  nlohmann::json j = ToJson(r);
  CHECK(j["format_version"] == 1);
  CHECK(j["passed"] == false);
  CHECK(j["namespace"] == "ferry-selftest");
  CHECK(j["checks"][1]["hint"] == "pod autoscale-00001-x: waiting, reason ImagePullBackOff");
  CHECK(j["phases"][0]["series"][0]["p99_ms"] == 250.25);
  CHECK(j["cold_start"]["timeline"][2]["label"] == "pod scheduled");

  ferry::Result<SelftestReport> back = ParseReport(j.dump(), "report.json");
  REQUIRE(back.ok());
  CHECK(ToJson(*back) == j);
  CHECK(back->checks[1].passed == false);
  CHECK(back->gateway.how == "NodePort 31380 on node address 10.0.0.5");
  CHECK(back->scale_to_zero.seconds_after_last_request == 62.4);
  CHECK(back->phases[0].series.size() == 30);
  CHECK(back->phases[0].series[29].rps == 150.5);
}

TEST_CASE("report.json errors name the field") {
  nlohmann::json j = ToJson(SampleReport());
  j["checks"][1]["passed"] = "no";
  ferry::Result<SelftestReport> r = FromJson(j);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "checks[1].passed: expected a boolean");

  j = ToJson(SampleReport());
  j["phases"][0]["series"][3]["pods"] = 1.5;
  r = ParseReport(j.dump(), "/tmp/out/report.json");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "/tmp/out/report.json: phases[0].series[3].pods: expected an integer");

  CHECK(ParseReport("{not json", "report.json").status().message() == "report.json: not valid JSON");
  CHECK_FALSE(FromJson(nlohmann::json{{"format_version", 2}}).ok());
}

TEST_CASE("a report passes only when it has checks and all passed") {
  SelftestReport r;
  CHECK_FALSE(r.Passed());
  r.checks.push_back({.name = "a", .passed = true});
  CHECK(r.Passed());
  r.checks.push_back({.name = "b", .passed = false});
  CHECK_FALSE(r.Passed());
}

TEST_CASE("a load window becomes a chart point in milliseconds") {
  LoadWindow w{.end_seconds = 3, .length_seconds = 1, .in_flight = 7, .max_in_flight = 9, .completed = 40,
               .errors = 0, .requests_per_second = 40, .p50_seconds = 0.1, .p95_seconds = 0.2, .p99_seconds = 0.25};
  SeriesPoint p = SeriesPointFromWindow(w, 4);
  CHECK(p.t_seconds == 3);
  CHECK(p.pods == 4);
  CHECK(p.in_flight == 7);
  CHECK(p.rps == 40);
  CHECK(p.p50_ms == Approx(100));
  CHECK(p.p99_ms == Approx(250));
}

TEST_CASE("report.html has the four charts with lines, the timeline and the checks") {
  std::string html = RenderHtml(SampleReport());
  for (const char* series : {"pods", "in-flight", "rps", "latency"}) {
    INFO(series);
    CHECK(Contains(html, std::string("<svg class=\"chart\" data-series=\"") + series + "\" data-phase=\"autoscale\""));
  }
  CHECK(Count(html, "<path class=\"line\"") == 6);  // pods, in flight, rps, p50, p95, p99
  CHECK(Contains(html, "data-label=\"p95\""));
  CHECK(Contains(html, "time (s)"));
  CHECK(Contains(html, "<svg class=\"timeline\" data-series=\"cold-start\""));
  // The timeline is in time order: "pod scheduled" (0.3 s) comes before "pod ready" (2.5 s).
  CHECK(html.find("pod scheduled 0.300 s") < html.find("pod ready 2.500 s"));
  CHECK(Count(html, "<rect class=\"phase\"") == 3);
  CHECK(Contains(html, "<tr class=\"fail\"><td>autoscale reaches 4 pods</td><td class=\"result\">FAIL</td>"));
  CHECK(Contains(html, "<td class=\"result\">PASS</td>"));
  CHECK(Contains(html, "FAILED"));
}

TEST_CASE("report.html is self-contained") {
  std::string html = RenderHtml(SampleReport());
  CHECK_FALSE(Contains(html, "<script"));
  CHECK_FALSE(Contains(html, "<link"));
  CHECK_FALSE(Contains(html, "<img"));
  CHECK_FALSE(Contains(html, "@font-face"));
  CHECK_FALSE(Contains(html, "url("));
  CHECK_FALSE(Contains(html, "src="));
  CHECK_FALSE(Contains(html, "nan"));
  CHECK_FALSE(Contains(html, "inf\""));
}

TEST_CASE("report.html escapes every string from the report") {
  SelftestReport r = SampleReport();
  r.checks[0].name = "<script>alert(1)</script>";
  r.checks[1].seen = "body \"<b>\" & 'x'";
  r.gateway.how = "<img src=x>";
  r.cold_start.timeline[1].label = "<ready>";
  r.phases[0].name = "a\"b<c>";
  r.phases[0].note = "</p><script>";
  std::string html = RenderHtml(r);
  CHECK_FALSE(Contains(html, "<script"));
  CHECK_FALSE(Contains(html, "<img"));
  CHECK_FALSE(Contains(html, "<ready>"));
  CHECK(Contains(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CHECK(Contains(html, "body &quot;&lt;b&gt;&quot; &amp; &#39;x&#39;"));
  CHECK(Contains(html, "data-phase=\"a&quot;b&lt;c&gt;\""));
  CHECK(HtmlEscape("a&b") == "a&amp;b");
}

TEST_CASE("report.html handles a report with no measurements") {
  SelftestReport r;
  r.checks.push_back({.name = "gateway found", .passed = false, .expected = "an address", .seen = "none"});
  r.phases.push_back({.name = "helloworld"});  // a phase that produced no windows
  std::string html = RenderHtml(r);
  CHECK(Count(html, "<svg class=\"chart\"") == 4);
  CHECK(Count(html, ">no data</text>") == 4);
  CHECK_FALSE(Contains(html, "<path class=\"line\""));
  CHECK(Contains(html, "The cold start was not measured."));
  CHECK_FALSE(Contains(html, "nan"));
  CHECK_FALSE(Contains(html, "inf"));

  CHECK(Contains(RenderHtml(SelftestReport{}), "No checks ran."));
}

TEST_CASE("report.html draws the cold start from its timings when no timeline was recorded") {
  SelftestReport r = SampleReport();
  r.cold_start.timeline.clear();
  std::string html = RenderHtml(r);
  CHECK(Contains(html, "first byte 2.774 s"));
  CHECK(Contains(html, "done 2.775 s"));
}

TEST_CASE("report.html is the same bytes for the same report") {
  CHECK(RenderHtml(SampleReport()) == RenderHtml(SampleReport()));
  SelftestReport changed = SampleReport();
  changed.phases[0].series[4].pods = 3;
  CHECK(RenderHtml(changed) != RenderHtml(SampleReport()));
}

TEST_CASE("the terminal summary has a line per check and the key numbers") {
  std::string text = FormatReportText(SampleReport());
  INFO(text);
  CHECK(Contains(text, "PASS  helloworld answers through the gateway\n"));
  CHECK(Contains(text, "FAIL  autoscale reaches 4 pods\n        expected: at least 4 pods   seen: 2 pods   "
                       "look at: pod autoscale-00001-x: waiting, reason ImagePullBackOff\n"));
  CHECK(Contains(text, "gateway:         10.0.0.5:31380 (NodePort 31380 on node address 10.0.0.5)\n"));
  CHECK(Contains(text, "scale to zero:   62.4 s after the last request\n"));
  CHECK(Contains(text, "cold start:      2.775 s total (connect 0.001 s, first byte 2.774 s)\n"));
  CHECK(Contains(text, "load autoscale:  peak 2 pods, 50 concurrent for 30 s, target 10\n"));
  CHECK(Contains(text, "result:          FAILED, 1 of 2 checks passed\n"));
}
