// The self-test's terminal summary (report_text.h).
#include "selftest/report_text.h"

#include <cstdio>
#include <string>

namespace ferry::selftest {
namespace {

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// "label:" padded so the values line up.
std::string Key(const std::string& label) {
  std::string key = label + ":";
  if (key.size() < 16) key.resize(16, ' ');
  return key + " ";
}

}  // namespace

std::string FormatReportText(const SelftestReport& report) {
  std::string out;
  size_t passed = 0;
  for (const ReportCheck& c : report.checks) {
    out += std::string(c.passed ? "PASS  " : "FAIL  ") + c.name + "\n";
    if (c.passed) {
      ++passed;
      continue;
    }
    // A failure says what was expected, what was seen and where to look.
    std::string detail;
    if (!c.expected.empty()) detail += "expected: " + c.expected;
    if (!c.seen.empty()) detail += (detail.empty() ? "" : "   ") + std::string("seen: ") + c.seen;
    if (!c.hint.empty()) detail += (detail.empty() ? "" : "   ") + std::string("look at: ") + c.hint;
    if (!detail.empty()) out += "        " + detail + "\n";
  }
  if (!report.gateway.address.empty()) {
    out += Key("gateway") + report.gateway.address +
           (report.gateway.how.empty() ? "" : " (" + report.gateway.how + ")") + "\n";
  }
  out += Key("scale to zero") +
         (report.scale_to_zero.observed
              ? Fixed(report.scale_to_zero.seconds_after_last_request, 1) + " s after the last request"
              : std::string("not observed")) +
         "\n";
  const ColdStartResult& cold = report.cold_start;
  out += Key("cold start") +
         (cold.measured ? Fixed(cold.total_seconds, 3) + " s total (connect " + Fixed(cold.connect_seconds, 3) +
                              " s, first byte " + Fixed(cold.first_byte_seconds, 3) + " s)"
                        : std::string("not measured")) +
         "\n";
  for (const LoadPhase& phase : report.phases) {
    out += Key("load " + phase.name) + "peak " + std::to_string(phase.peak_pods) + (phase.peak_pods == 1 ? " pod, " : " pods, ") +
           std::to_string(phase.concurrency) + " concurrent for " + Fixed(phase.duration_seconds, 0) +
           " s, target " + std::to_string(phase.target) + "\n";
    if (!phase.note.empty()) out += "                 " + phase.note + "\n";
  }
  out += Key("result") + (report.Passed() ? "PASSED, " : "FAILED, ") + std::to_string(passed) + " of " +
         std::to_string(report.checks.size()) + " checks passed\n";
  return out;
}

}  // namespace ferry::selftest
