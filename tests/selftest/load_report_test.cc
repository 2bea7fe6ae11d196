// ferry load's report: hey's sections and arithmetic, and the JSON a script or the self-test reads.
#include "selftest/load_report.h"

#include <catch2/catch.hpp>

#include <string>

using namespace ferry::selftest;

namespace {

// 100 answered requests at 1..100 ms (90 × 200, 10 × 503) and 3 refused, over 2 s.
LoadResult SampleResult() {
  LoadResult r;
  r.total_seconds = 2.0;
  r.started = 103;
  r.responses = 100;
  r.connections = 4;
  r.body_bytes = 100 * 12;
  r.max_in_flight = 4;
  for (uint64_t ms = 1; ms <= 100; ++ms) {
    r.latency.Record(ms * 1000);
    r.wait.Record(ms * 800);
    r.read.Record(ms * 100);
    r.queued.Record(ms * 10);
    r.connect.Record(ms <= 4 ? 500 : 0);
    r.dns.Record(0);
  }
  r.status_codes[200] = 90;
  r.status_codes[503] = 10;
  r.errors["request to 127.0.0.1:1: Couldn't connect to server"] = 3;
  r.timeline.push_back({.end_seconds = 1, .length_seconds = 1, .in_flight = 4, .max_in_flight = 4, .completed = 60,
                        .errors = 3, .requests_per_second = 60, .p50_seconds = 0.03, .p95_seconds = 0.057,
                        .p99_seconds = 0.06});
  return r;
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the text report has hey's sections with the run's numbers") {
  std::string text = FormatLoadReport(SampleResult());
  INFO(text);
  CHECK(Contains(text, "Summary:\n  Total:\t2.0000 secs\n"));
  CHECK(Contains(text, "  Slowest:\t0.1000 secs\n"));
  CHECK(Contains(text, "  Fastest:\t0.0010 secs\n"));
  CHECK(Contains(text, "  Average:\t0.0505 secs\n"));
  CHECK(Contains(text, "  Requests/sec:\t51.5000\n"));  // 103 finished (answered or failed) / 2 s, as hey counts
  CHECK(Contains(text, "  Total data:\t1200 bytes\n  Size/request:\t12 bytes\n"));
  CHECK(Contains(text, "  Connections:\t4 opened\n"));
  CHECK(Contains(text, "Response time histogram:\n  0.001 [1]\t|"));
  // Percentiles are within 0.4% (the histogram's precision): 10 ms, 25 ms, 50 ms, ..., 99 ms.
  CHECK(Contains(text, "Latency distribution:\n  10% in 0.0100 secs\n  25% in 0.0250 secs\n  50% in 0.050"));
  CHECK(Contains(text, "  99% in 0.099"));
  CHECK(Contains(text, "Details (average, fastest, slowest):\n  DNS+dialup:\t0.0000 secs, 0.0000 secs, 0.0005 secs\n"));
  CHECK(Contains(text, "  resp wait:\t0.0404 secs, 0.0008 secs, 0.0800 secs\n"));
  CHECK(Contains(text, "  queued:\t0.0005 secs, 0.0000 secs, 0.0010 secs\n"));
  CHECK(Contains(text, "Status code distribution:\n  [200]\t90 responses\n  [503]\t10 responses\n"));
  CHECK(Contains(text, "Error distribution:\n  [3]\trequest to 127.0.0.1:1: Couldn't connect to server\n"));
}

TEST_CASE("a run where nothing answered still reports its errors, and no empty sections") {
  LoadResult r;
  r.total_seconds = 0.5;
  r.started = 10;
  r.errors["request to 127.0.0.1:1: Couldn't connect to server"] = 10;
  std::string text = FormatLoadReport(r);
  INFO(text);
  CHECK(Contains(text, "  Requests/sec:\t20.0000\n"));
  CHECK(Contains(text, "  [10]\trequest to 127.0.0.1:1: Couldn't connect to server\n"));
  CHECK_FALSE(Contains(text, "Latency distribution"));
  CHECK_FALSE(Contains(text, "Status code distribution"));
}

TEST_CASE("hey's histogram: 11 marks from fastest to slowest, each request in the first mark not below it") {
  LatencyHistogram h;
  for (uint64_t ms = 1; ms <= 100; ++ms) h.Record(ms * 1000);  // 1..100 ms
  std::vector<HistogramBar> bars = HeyHistogram(h);
  REQUIRE(bars.size() == 11);
  CHECK(bars[0].mark_seconds == Approx(0.001));
  CHECK(bars[1].mark_seconds == Approx(0.0109));
  CHECK(bars[10].mark_seconds == Approx(0.100));
  uint64_t total = 0;
  for (const HistogramBar& b : bars) total += b.count;
  CHECK(total == 100);
  CHECK(bars[0].count == 1);   // exactly the fastest
  CHECK(bars[1].count == 9);   // up to 10.9 ms: 2..10 ms
  CHECK(bars[2].count == 10);  // up to 20.8 ms: 11..20 ms
  CHECK(bars[10].count == 10); // up to the slowest: 91..100 ms
}

TEST_CASE("the JSON report carries the summary, distributions and the per-window timeline") {
  nlohmann::json j = LoadReportJson(SampleResult());
  INFO(j.dump(2));
  CHECK(j["summary"]["requests"] == 103);
  CHECK(j["summary"]["responses"] == 100);
  CHECK(j["summary"]["errors"] == 3);
  CHECK(j["summary"]["connections"] == 4);
  CHECK(j["summary"]["requests_per_second"].get<double>() == Approx(51.5));
  CHECK(j["status_codes"]["200"] == 90);
  CHECK(j["status_codes"]["503"] == 10);
  REQUIRE(j["errors"].size() == 1);
  CHECK(j["errors"][0]["count"] == 3);
  REQUIRE(j["latency_distribution"].size() == 7);
  CHECK(j["latency_distribution"][2]["percentile"] == 50);
  CHECK(j["latency_distribution"][2]["seconds"].get<double>() == Approx(0.05).epsilon(0.004));
  CHECK(j["histogram"].size() == 11);
  CHECK(j["details"]["resp_wait"]["slowest"].get<double>() == Approx(0.08));
  CHECK(j["details"]["queued"]["average"].get<double>() == Approx(0.000505));
  REQUIRE(j["timeline"].size() == 1);
  CHECK(j["timeline"][0]["in_flight"] == 4);
  CHECK(j["timeline"][0]["completed"] == 60);
  CHECK(j["timeline"][0]["p99_seconds"].get<double>() == Approx(0.06));
}
