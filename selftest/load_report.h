// How a load run is shown: hey's text report, and the same numbers as JSON (`--output json`).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "selftest/load_generator.h"

namespace ferry::selftest {

// hey's response-time histogram: 11 marks from fastest to slowest, 10 equal steps apart; each
// request counts in the first mark not below its latency.
struct HistogramBar {
  double mark_seconds = 0;
  uint64_t count = 0;
};
std::vector<HistogramBar> HeyHistogram(const LatencyHistogram& latency);

// The percentiles hey lists under "Latency distribution".
inline constexpr int kReportPercentiles[] = {10, 25, 50, 75, 90, 95, 99};

// hey's report: Summary, Response time histogram, Latency distribution, Details, Status code
// distribution, Error distribution, plus a line on connections opened (keep-alive at work).
std::string FormatLoadReport(const LoadResult& result);

// One JSON object with the same numbers in seconds, and the per-window timeline.
nlohmann::json LoadReportJson(const LoadResult& result);

}  // namespace ferry::selftest
