// SelftestReport to and from report.json, with field-naming errors instead of json exceptions.
#include "selftest/selftest_report.h"

#include <cmath>
#include <string>

namespace ferry::selftest {

using nlohmann::json;

SeriesPoint SeriesPointFromWindow(const LoadWindow& window, int pods) {
  return {.t_seconds = window.end_seconds,
          .pods = pods,
          .in_flight = window.in_flight,
          .rps = window.requests_per_second,
          .p50_ms = window.p50_seconds * 1000,
          .p95_ms = window.p95_seconds * 1000,
          .p99_ms = window.p99_seconds * 1000};
}

bool SelftestReport::Passed() const {
  if (checks.empty()) return false;
  for (const ReportCheck& check : checks) {
    if (!check.passed) return false;
  }
  return true;
}

namespace {

// NaN and infinity have no JSON spelling (nlohmann writes null); a missing measurement is 0.
double Finite(double v) { return std::isfinite(v) ? v : 0.0; }

json CheckJson(const ReportCheck& c) {
  return {{"name", c.name}, {"passed", c.passed}, {"expected", c.expected}, {"seen", c.seen}, {"hint", c.hint}};
}

json PointJson(const SeriesPoint& p) {
  return {{"t_seconds", Finite(p.t_seconds)}, {"pods", p.pods},          {"in_flight", p.in_flight},
          {"rps", Finite(p.rps)},             {"p50_ms", Finite(p.p50_ms)}, {"p95_ms", Finite(p.p95_ms)},
          {"p99_ms", Finite(p.p99_ms)}};
}

json PhaseJson(const LoadPhase& phase) {
  json series = json::array();
  for (const SeriesPoint& p : phase.series) series.push_back(PointJson(p));
  return {{"name", phase.name},
          {"url", phase.url},
          {"concurrency", phase.concurrency},
          {"duration_seconds", Finite(phase.duration_seconds)},
          {"target", phase.target},
          {"peak_pods", phase.peak_pods},
          {"note", phase.note},
          {"series", std::move(series)}};
}

// Reads fields of one JSON object into C++ values; the first type error is kept with its path.
class FieldReader {
 public:
  FieldReader(const json& object, std::string path, Status* error)
      : object_(object), path_(std::move(path)), error_(error) {
    if (!object_.is_object()) Fail(path_, "expected an object");
  }

  void Str(const char* key, std::string* out) {
    if (const json* v = Find(key, &json::is_string, "a string")) *out = v->get<std::string>();
  }
  void Bool(const char* key, bool* out) {
    if (const json* v = Find(key, &json::is_boolean, "a boolean")) *out = v->get<bool>();
  }
  void Num(const char* key, double* out) {
    if (const json* v = Find(key, &json::is_number, "a number")) *out = v->get<double>();
  }
  void Int(const char* key, int* out) {
    if (const json* v = Find(key, &json::is_number_integer, "an integer")) *out = v->get<int>();
  }
  // Calls read(element, element_path) for each element of the array at `key`.
  template <typename F>
  void Array(const char* key, F read) {
    const json* v = Find(key, &json::is_array, "an array");
    if (!v) return;
    for (size_t i = 0; i < v->size() && error_->ok(); ++i) read((*v)[i], Sub(key) + "[" + std::to_string(i) + "]");
  }
  // Returns the object at `key`, or nullptr when it is absent or of the wrong type (then failing).
  const json* Object(const char* key) { return Find(key, &json::is_object, "an object"); }
  std::string Sub(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

 private:
  const json* Find(const char* key, bool (json::*is_type)() const noexcept, const char* type) {
    if (!error_->ok() || !object_.is_object()) return nullptr;
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;  // absent: keep the default
    if (!((*it).*is_type)()) {
      Fail(Sub(key), std::string("expected ") + type);
      return nullptr;
    }
    return &*it;
  }
  void Fail(const std::string& where, const std::string& what) {
    if (error_->ok()) *error_ = InvalidArgument((where.empty() ? "report" : where) + ": " + what);
  }

  const json& object_;
  std::string path_;
  Status* error_;
};

void ReadPoint(const json& j, const std::string& path, Status* error, SeriesPoint* p) {
  FieldReader r(j, path, error);
  r.Num("t_seconds", &p->t_seconds);
  r.Int("pods", &p->pods);
  r.Int("in_flight", &p->in_flight);
  r.Num("rps", &p->rps);
  r.Num("p50_ms", &p->p50_ms);
  r.Num("p95_ms", &p->p95_ms);
  r.Num("p99_ms", &p->p99_ms);
}

void ReadPhase(const json& j, const std::string& path, Status* error, LoadPhase* phase) {
  FieldReader r(j, path, error);
  r.Str("name", &phase->name);
  r.Str("url", &phase->url);
  r.Int("concurrency", &phase->concurrency);
  r.Num("duration_seconds", &phase->duration_seconds);
  r.Int("target", &phase->target);
  r.Int("peak_pods", &phase->peak_pods);
  r.Str("note", &phase->note);
  r.Array("series", [&](const json& e, const std::string& p) {
    ReadPoint(e, p, error, &phase->series.emplace_back());
  });
}

}  // namespace

json ToJson(const SelftestReport& report) {
  json checks = json::array();
  for (const ReportCheck& c : report.checks) checks.push_back(CheckJson(c));
  json timeline = json::array();
  for (const TimelinePoint& p : report.cold_start.timeline) {
    timeline.push_back({{"label", p.label}, {"t_seconds", Finite(p.t_seconds)}});
  }
  json phases = json::array();
  for (const LoadPhase& phase : report.phases) phases.push_back(PhaseJson(phase));
  const ColdStartResult& cold = report.cold_start;
  return {{"format_version", kReportFormatVersion},
          {"ferry_version", report.ferry_version},
          {"namespace", report.ns},
          {"passed", report.Passed()},
          {"checks", std::move(checks)},
          {"gateway", {{"address", report.gateway.address}, {"how", report.gateway.how}}},
          {"scale_to_zero",
           {{"observed", report.scale_to_zero.observed},
            {"seconds_after_last_request", Finite(report.scale_to_zero.seconds_after_last_request)}}},
          {"cold_start",
           {{"measured", cold.measured},
            {"connect_seconds", Finite(cold.connect_seconds)},
            {"first_byte_seconds", Finite(cold.first_byte_seconds)},
            {"total_seconds", Finite(cold.total_seconds)},
            {"timeline", std::move(timeline)}}},
          {"phases", std::move(phases)}};
}

Result<SelftestReport> FromJson(const json& j) {
  Status error;
  SelftestReport report;
  FieldReader r(j, "", &error);
  int version = kReportFormatVersion;
  r.Int("format_version", &version);
  if (error.ok() && version != kReportFormatVersion) {
    return Unsupported("report format_version " + std::to_string(version) + " (this ferry reads " +
                       std::to_string(kReportFormatVersion) + ")");
  }
  r.Str("ferry_version", &report.ferry_version);
  r.Str("namespace", &report.ns);
  r.Array("checks", [&](const json& e, const std::string& path) {
    ReportCheck& c = report.checks.emplace_back();
    FieldReader cr(e, path, &error);
    cr.Str("name", &c.name);
    cr.Bool("passed", &c.passed);
    cr.Str("expected", &c.expected);
    cr.Str("seen", &c.seen);
    cr.Str("hint", &c.hint);
  });
  if (const json* g = r.Object("gateway")) {
    FieldReader gr(*g, r.Sub("gateway"), &error);
    gr.Str("address", &report.gateway.address);
    gr.Str("how", &report.gateway.how);
  }
  if (const json* s = r.Object("scale_to_zero")) {
    FieldReader sr(*s, r.Sub("scale_to_zero"), &error);
    sr.Bool("observed", &report.scale_to_zero.observed);
    sr.Num("seconds_after_last_request", &report.scale_to_zero.seconds_after_last_request);
  }
  if (const json* c = r.Object("cold_start")) {
    ColdStartResult& cold = report.cold_start;
    FieldReader cr(*c, r.Sub("cold_start"), &error);
    cr.Bool("measured", &cold.measured);
    cr.Num("connect_seconds", &cold.connect_seconds);
    cr.Num("first_byte_seconds", &cold.first_byte_seconds);
    cr.Num("total_seconds", &cold.total_seconds);
    cr.Array("timeline", [&](const json& e, const std::string& path) {
      TimelinePoint& p = cold.timeline.emplace_back();
      FieldReader pr(e, path, &error);
      pr.Str("label", &p.label);
      pr.Num("t_seconds", &p.t_seconds);
    });
  }
  r.Array("phases", [&](const json& e, const std::string& path) {
    ReadPhase(e, path, &error, &report.phases.emplace_back());
  });
  if (!error.ok()) return error;
  return report;
}

Result<SelftestReport> ParseReport(const std::string& text, const std::string& where) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return InvalidArgument(where + ": not valid JSON");
  Result<SelftestReport> report = FromJson(j);
  if (!report.ok()) return report.status().WithContext(where);
  return report;
}

}  // namespace ferry::selftest
