#include "selftest/load_report.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

namespace ferry::selftest {
namespace {

void Appendf(std::string& out, const char* format, ...) __attribute__((format(printf, 2, 3)));
void Appendf(std::string& out, const char* format, ...) {
  char line[512];
  va_list args;
  va_start(args, format);
  int n = std::vsnprintf(line, sizeof line, format, args);
  va_end(args);
  if (n > 0) out.append(line, std::min<size_t>(n, sizeof line - 1));
}

double Sec(uint64_t micros) { return micros / 1e6; }

// hey's bar: 40 characters for the fullest mark, rounded.
std::string Bar(uint64_t count, uint64_t fullest) {
  std::string bar;
  if (fullest == 0) return bar;
  for (uint64_t i = 0, n = (count * 40 + fullest / 2) / fullest; i < n; ++i) bar += "\u220e";
  return bar;
}

nlohmann::json PhaseJson(const PhaseStats& p) {
  return {{"average", p.MeanSeconds()}, {"fastest", Sec(p.min_micros)}, {"slowest", Sec(p.max_micros)}};
}

}  // namespace

std::vector<HistogramBar> HeyHistogram(const LatencyHistogram& latency) {
  std::vector<HistogramBar> bars(11);
  if (latency.count() == 0) return {};
  double fastest = Sec(latency.min_micros()), slowest = Sec(latency.max_micros());
  double step = (slowest - fastest) / 10;
  for (size_t i = 0; i < 10; ++i) bars[i].mark_seconds = fastest + step * i;
  bars[10].mark_seconds = slowest;
  size_t bar = 0;
  latency.ForEachBucket([&](uint64_t micros, uint64_t count) {
    while (bar < 10 && Sec(micros) > bars[bar].mark_seconds) ++bar;
    bars[bar].count += count;
  });
  return bars;
}

std::string FormatLoadReport(const LoadResult& r) {
  std::string out;
  const LatencyHistogram& lat = r.latency;
  Appendf(out, "\nSummary:\n");
  Appendf(out, "  Total:\t%.4f secs\n", r.total_seconds);
  if (lat.count() > 0) {
    Appendf(out, "  Slowest:\t%.4f secs\n", Sec(lat.max_micros()));
    Appendf(out, "  Fastest:\t%.4f secs\n", Sec(lat.min_micros()));
    Appendf(out, "  Average:\t%.4f secs\n", lat.MeanMicros() / 1e6);
  }
  Appendf(out, "  Requests/sec:\t%.4f\n", r.RequestsPerSecond());
  if (r.body_bytes > 0 && r.responses > 0) {
    Appendf(out, "  \n  Total data:\t%llu bytes\n", static_cast<unsigned long long>(r.body_bytes));
    Appendf(out, "  Size/request:\t%llu bytes\n", static_cast<unsigned long long>(r.body_bytes / r.responses));
  }
  Appendf(out, "  Connections:\t%llu opened\n", static_cast<unsigned long long>(r.connections));
  if (r.abandoned > 0)
    Appendf(out, "  Abandoned:\t%llu requests in flight when stopped\n", static_cast<unsigned long long>(r.abandoned));

  if (lat.count() > 0) {
    std::vector<HistogramBar> bars = HeyHistogram(lat);
    uint64_t fullest = 0;
    for (const HistogramBar& b : bars) fullest = std::max(fullest, b.count);
    Appendf(out, "\nResponse time histogram:\n");
    for (const HistogramBar& b : bars)
      Appendf(out, "  %.3f [%llu]\t|%s\n", b.mark_seconds, static_cast<unsigned long long>(b.count),
              Bar(b.count, fullest).c_str());

    Appendf(out, "\n\nLatency distribution:\n");
    for (int p : kReportPercentiles) Appendf(out, "  %d%% in %.4f secs\n", p, Sec(lat.Percentile(p)));

    Appendf(out, "\nDetails (average, fastest, slowest):\n");
    auto phase = [&out](const char* name, const PhaseStats& p) {
      Appendf(out, "  %s:\t%.4f secs, %.4f secs, %.4f secs\n", name, p.MeanSeconds(), Sec(p.min_micros),
              Sec(p.max_micros));
    };
    phase("DNS+dialup", r.connect);
    phase("DNS-lookup", r.dns);
    phase("resp wait", r.wait);
    phase("resp read", r.read);
    phase("queued", r.queued);  // waiting in ferry before being sent: large means ferry is the bottleneck

    Appendf(out, "\nStatus code distribution:\n");
    for (const auto& [code, count] : r.status_codes)
      Appendf(out, "  [%ld]\t%llu responses\n", code, static_cast<unsigned long long>(count));
  }
  if (!r.errors.empty()) {
    Appendf(out, "\nError distribution:\n");
    for (const auto& [message, count] : r.errors)
      Appendf(out, "  [%llu]\t%s\n", static_cast<unsigned long long>(count), message.c_str());
  }
  out += "\n";
  return out;
}

nlohmann::json LoadReportJson(const LoadResult& r) {
  const LatencyHistogram& lat = r.latency;
  nlohmann::json summary = {
      {"total_seconds", r.total_seconds},
      {"requests", r.started},
      {"responses", r.responses},
      {"errors", r.error_count()},
      {"abandoned", r.abandoned},
      {"requests_per_second", r.RequestsPerSecond()},
      {"slowest_seconds", Sec(lat.max_micros())},
      {"fastest_seconds", Sec(lat.min_micros())},
      {"average_seconds", lat.MeanMicros() / 1e6},
      {"total_bytes", r.body_bytes},
      {"bytes_per_request", r.responses ? r.body_bytes / r.responses : 0},
      {"connections", r.connections},
      {"max_in_flight", r.max_in_flight},
  };
  nlohmann::json histogram = nlohmann::json::array();
  for (const HistogramBar& b : HeyHistogram(lat)) histogram.push_back({{"mark_seconds", b.mark_seconds}, {"count", b.count}});
  nlohmann::json percentiles = nlohmann::json::array();
  if (lat.count() > 0)
    for (int p : kReportPercentiles) percentiles.push_back({{"percentile", p}, {"seconds", Sec(lat.Percentile(p))}});
  nlohmann::json codes = nlohmann::json::object();
  for (const auto& [code, count] : r.status_codes) codes[std::to_string(code)] = count;
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& [message, count] : r.errors) errors.push_back({{"message", message}, {"count", count}});
  nlohmann::json timeline = nlohmann::json::array();
  for (const LoadWindow& w : r.timeline)
    timeline.push_back({{"end_seconds", w.end_seconds},
                        {"length_seconds", w.length_seconds},
                        {"in_flight", w.in_flight},
                        {"max_in_flight", w.max_in_flight},
                        {"completed", w.completed},
                        {"errors", w.errors},
                        {"requests_per_second", w.requests_per_second},
                        {"p50_seconds", w.p50_seconds},
                        {"p95_seconds", w.p95_seconds},
                        {"p99_seconds", w.p99_seconds}});
  return {{"summary", summary},
          {"histogram", histogram},
          {"latency_distribution", percentiles},
          {"details",
           {{"dns_dialup", PhaseJson(r.connect)},
            {"dns_lookup", PhaseJson(r.dns)},
            {"resp_wait", PhaseJson(r.wait)},
            {"resp_read", PhaseJson(r.read)},
            {"queued", PhaseJson(r.queued)}}},
          {"status_codes", codes},
          {"errors", errors},
          {"timeline", timeline}};
}

}  // namespace ferry::selftest
