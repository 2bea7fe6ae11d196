// report.html: page layout, SVG line charts with axes and legends, the cold-start bar, the checks.
#include "selftest/report_html.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace ferry::selftest {
namespace {

// Chart geometry in SVG user units: the plot area sits inside these margins.
constexpr double kWidth = 640, kHeight = 250;
constexpr double kLeft = 60, kRight = 16, kTop = 34, kBottom = 44;
constexpr double kPlotW = kWidth - kLeft - kRight, kPlotH = kHeight - kTop - kBottom;

// printf-style formatting in the C locale, so output does not depend on the user's locale.
template <typename... Args>
std::string Fmt(const char* format, Args... args) {
  int n = std::snprintf(nullptr, 0, format, args...);
  std::string out(n > 0 ? n : 0, '\0');
  std::snprintf(out.data(), out.size() + 1, format, args...);
  return out;
}

double Finite(double v) { return std::isfinite(v) ? v : 0.0; }

// Tick labels: "0", "2.5", "1000"; %g never prints trailing zeros.
std::string Num(double v) { return Fmt("%g", std::abs(v) < 1e-9 ? 0.0 : v); }

// An axis from 0 to `top` in steps of `step`, both round numbers (1, 2 or 5 times a power of ten).
struct Scale {
  double top = 1, step = 1;
};

Scale NiceScale(double max_value, bool integer) {
  if (!(max_value > 0)) return {1, integer ? 1.0 : 0.2};
  double raw = max_value / 5;
  double magnitude = std::pow(10, std::floor(std::log10(raw)));
  double norm = raw / magnitude;
  double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * magnitude;
  if (integer) step = std::max(1.0, std::round(step));
  return {std::ceil(max_value / step - 1e-9) * step, step};
}

struct Line {
  std::string label;
  std::string color;
  std::vector<std::pair<double, double>> points;  // (seconds, value)
};

// One line chart: grid, axes with ticks and labels, a legend, one <path> per line with points.
std::string Chart(const std::string& series, const std::string& phase, const std::string& title,
                  const std::string& y_label, const std::vector<Line>& lines, bool integer_y) {
  double max_x = 0, max_y = 0;
  bool any = false;
  for (const Line& line : lines) {
    for (auto [x, y] : line.points) {
      max_x = std::max(max_x, Finite(x));
      max_y = std::max(max_y, Finite(y));
      any = true;
    }
  }
  Scale xs = NiceScale(max_x, true), ys = NiceScale(max_y, integer_y);
  auto px = [&](double x) { return kLeft + Finite(x) / xs.top * kPlotW; };
  auto py = [&](double y) { return kTop + kPlotH - std::max(0.0, Finite(y)) / ys.top * kPlotH; };

  std::string out = Fmt("<svg class=\"chart\" data-series=\"%s\" data-phase=\"", series.c_str()) +
                    HtmlEscape(phase) +
                    Fmt("\" viewBox=\"0 0 %g %g\" role=\"img\">\n", kWidth, kHeight);
  out += "<title>" + HtmlEscape(title) + "</title>\n";
  out += Fmt("<text class=\"title\" x=\"%g\" y=\"16\">", kLeft) + HtmlEscape(title) + "</text>\n";
  out += "<g class=\"grid\">\n";
  for (double y = 0; y <= ys.top + ys.step / 2; y += ys.step) {
    out += Fmt("<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>\n", kLeft, py(y), kLeft + kPlotW, py(y));
  }
  out += "</g>\n<g class=\"axis\">\n";
  out += Fmt("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>\n", kLeft, kTop + kPlotH, kLeft + kPlotW,
             kTop + kPlotH);
  out += Fmt("<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\"/>\n", kLeft, kTop, kLeft, kTop + kPlotH);
  for (double x = 0; x <= xs.top + xs.step / 2; x += xs.step) {
    out += Fmt("<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" y2=\"%g\"/>", px(x), kTop + kPlotH, px(x),
               kTop + kPlotH + 5);
    out += Fmt("<text class=\"tick x\" x=\"%.1f\" y=\"%g\">%s</text>\n", px(x), kTop + kPlotH + 17,
               Num(x).c_str());
  }
  for (double y = 0; y <= ys.top + ys.step / 2; y += ys.step) {
    out += Fmt("<text class=\"tick y\" x=\"%g\" y=\"%.1f\">%s</text>\n", kLeft - 6, py(y) + 4,
               Num(y).c_str());
  }
  out += Fmt("<text class=\"label x\" x=\"%g\" y=\"%g\">time (s)</text>\n", kLeft + kPlotW / 2, kHeight - 6);
  out += Fmt("<text class=\"label y\" transform=\"translate(14 %g) rotate(-90)\">", kTop + kPlotH / 2) +
         HtmlEscape(y_label) + "</text>\n</g>\n";

  if (!any) {
    out += Fmt("<text class=\"empty\" x=\"%g\" y=\"%g\">no data</text>\n", kLeft + kPlotW / 2, kTop + kPlotH / 2);
  }
  for (const Line& line : lines) {
    if (line.points.empty()) continue;
    std::string d;
    for (size_t i = 0; i < line.points.size(); ++i) {
      d += Fmt(i == 0 ? "M%.1f %.1f" : " L%.1f %.1f", px(line.points[i].first), py(line.points[i].second));
    }
    out += "<path class=\"line\" data-label=\"" + HtmlEscape(line.label) + "\" stroke=\"" + line.color +
           "\" d=\"" + d + "\"/>\n";
    if (line.points.size() == 1) {  // a lone point draws no line segment: mark it
      out += Fmt("<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(line.points[0].first),
                 py(line.points[0].second), line.color.c_str());
    }
  }
  // The legend, top right, one swatch and label per line.
  double lx = kLeft + kPlotW - 90.0 * lines.size();
  out += "<g class=\"legend\">\n";
  for (const Line& line : lines) {
    out += Fmt("<rect x=\"%g\" y=\"8\" width=\"14\" height=\"4\" fill=\"%s\"/>", lx, line.color.c_str());
    out += Fmt("<text x=\"%g\" y=\"14\">", lx + 18) + HtmlEscape(line.label) + "</text>\n";
    lx += 90;
  }
  out += "</g>\n</svg>\n";
  return out;
}

// The four charts of one load phase.
std::string PhaseCharts(const LoadPhase& phase) {
  Line pods{"pods", "#1f77b4", {}}, in_flight{"in flight", "#ff7f0e", {}}, rps{"requests/s", "#2ca02c", {}};
  Line p50{"p50", "#1f77b4", {}}, p95{"p95", "#ff7f0e", {}}, p99{"p99", "#d62728", {}};
  for (const SeriesPoint& p : phase.series) {
    pods.points.emplace_back(p.t_seconds, p.pods);
    in_flight.points.emplace_back(p.t_seconds, p.in_flight);
    rps.points.emplace_back(p.t_seconds, p.rps);
    // A window where nothing completed has no latency; leave it out rather than draw a drop to 0.
    if (p.p50_ms > 0 || p.p95_ms > 0 || p.p99_ms > 0) {
      p50.points.emplace_back(p.t_seconds, p.p50_ms);
      p95.points.emplace_back(p.t_seconds, p.p95_ms);
      p99.points.emplace_back(p.t_seconds, p.p99_ms);
    }
  }
  std::string out = "<div class=\"charts\">\n";
  out += Chart("pods", phase.name, phase.name + ": pods", "pods", {pods}, true);
  out += Chart("in-flight", phase.name, phase.name + ": requests in flight", "requests", {in_flight}, true);
  out += Chart("rps", phase.name, phase.name + ": requests per second", "requests/s", {rps}, false);
  out += Chart("latency", phase.name, phase.name + ": latency", "ms", {p50, p95, p99}, false);
  return out + "</div>\n";
}

// The cold start's moments, in time order; built from the three timings when none were recorded.
std::vector<TimelinePoint> ColdStartPoints(const ColdStartResult& cold) {
  std::vector<TimelinePoint> points = cold.timeline;
  if (points.empty() && cold.total_seconds > 0) {
    points = {{"request sent", 0},
              {"connected", cold.connect_seconds},
              {"first byte", cold.first_byte_seconds},
              {"done", cold.total_seconds}};
  }
  std::stable_sort(points.begin(), points.end(),
                   [](const TimelinePoint& a, const TimelinePoint& b) { return a.t_seconds < b.t_seconds; });
  return points;
}

// A label's place on the timeline: its left edge, and its lane (0, 1, ... above the bar, -1, -2,
// ... below it).
struct LabelPlace {
  double left = 0, width = 0;
  int lane = 0;
};

// Puts each label (centred on its moment, kept inside the picture) in the first lane where it does
// not touch the previous label of that lane, trying above, below, then further out. Moments close in
// time (request sent 0.000 s, pod ready 0.098 s) so never print over each other.
std::vector<LabelPlace> PlaceLabels(const std::vector<double>& xs, const std::vector<std::string>& texts) {
  constexpr double kCharWidth = 6.2, kGap = 8, kMargin = 2;  // 11px system font: about 6 units a character
  std::vector<LabelPlace> places;
  std::vector<double> lane_end;  // per lane index (0: above 0, 1: below -1, 2: above 1, ...): right edge
  for (size_t i = 0; i < xs.size(); ++i) {
    LabelPlace p;
    p.width = kCharWidth * static_cast<double>(texts[i].size());
    p.left = std::clamp(xs[i] - p.width / 2, kMargin, std::max(kMargin, kWidth - kMargin - p.width));
    size_t slot = 0;
    while (slot < lane_end.size() && lane_end[slot] + kGap > p.left) ++slot;
    if (slot == lane_end.size()) lane_end.push_back(0);
    lane_end[slot] = p.left + p.width;
    p.lane = slot % 2 == 0 ? static_cast<int>(slot / 2) : -static_cast<int>(slot / 2) - 1;
    places.push_back(p);
  }
  return places;
}

std::string Timeline(const ColdStartResult& cold) {
  std::vector<TimelinePoint> points = ColdStartPoints(cold);
  if (points.empty()) return "<p class=\"empty\">The cold start was not measured.</p>\n";
  static const char* kColors[] = {"#9ecae1", "#fdae6b", "#a1d99b", "#bcbddc", "#fc9272", "#d9d9d9"};
  constexpr double kBarH = 26, kLaneH = 15, kAxisH = 30;
  double end = std::max(Finite(cold.total_seconds), Finite(points.back().t_seconds));
  Scale xs = NiceScale(end, false);
  auto px = [&](double t) { return kLeft + std::max(0.0, Finite(t)) / xs.top * kPlotW; };

  std::vector<double> marks;
  std::vector<std::string> texts;
  for (const TimelinePoint& p : points) {
    marks.push_back(px(p.t_seconds));
    texts.push_back(p.label + Fmt(" %.3f s", p.t_seconds));
  }
  std::vector<LabelPlace> places = PlaceLabels(marks, texts);
  int above = 0, below = 0;
  for (const LabelPlace& p : places) {
    above = std::max(above, p.lane + 1);
    below = std::max(below, -p.lane);
  }
  const double bar_y = 8 + kLaneH * above + 6;
  const double height = bar_y + kBarH + 6 + kLaneH * below + kAxisH;

  std::string out = Fmt(
      "<svg class=\"timeline\" data-series=\"cold-start\" viewBox=\"0 0 %g %g\" role=\"img\">\n"
      "<title>cold start timeline</title>\n",
      kWidth, height);
  // One segment from each moment to the next, named after the moment it starts from.
  for (size_t i = 0; i + 1 < points.size(); ++i) {
    double x0 = marks[i], x1 = marks[i + 1];
    out += Fmt("<rect class=\"phase\" x=\"%.1f\" y=\"%g\" width=\"%.1f\" height=\"%g\" fill=\"%s\">", x0, bar_y,
               std::max(0.0, x1 - x0), kBarH, kColors[i % 6]);
    out += "<title>" + HtmlEscape(points[i].label) + " to " + HtmlEscape(points[i + 1].label) +
           Fmt(": %.3f s", points[i + 1].t_seconds - points[i].t_seconds) + "</title></rect>\n";
  }
  // A marker from the bar out to each label's lane; the labels after all markers, so that a
  // marker passing an inner lane's label runs under it (its white halo keeps it readable).
  auto text_y = [&](const LabelPlace& p) {
    return p.lane >= 0 ? bar_y - 10 - kLaneH * p.lane : bar_y + kBarH + 17 + kLaneH * (-p.lane - 1);
  };
  for (size_t i = 0; i < points.size(); ++i) {
    double y = text_y(places[i]);
    bool above = places[i].lane >= 0;
    out += Fmt("<line class=\"marker\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", marks[i],
               above ? y + 3 : bar_y, marks[i], above ? bar_y + kBarH : y - 11);
  }
  for (size_t i = 0; i < points.size(); ++i)
    out += Fmt("<text class=\"mark\" x=\"%.1f\" y=\"%.1f\">", places[i].left, text_y(places[i])) +
           HtmlEscape(texts[i]) + "</text>\n";
  const double axis_y = height - kAxisH + 6;
  out += Fmt("<g class=\"axis\"><line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" y2=\"%.1f\"/>\n", kLeft, axis_y,
             kLeft + kPlotW, axis_y);
  for (double t = 0; t <= xs.top + xs.step / 2; t += xs.step) {
    out += Fmt("<text class=\"tick x\" x=\"%.1f\" y=\"%.1f\">%s s</text>\n", px(t), axis_y + 16, Num(t).c_str());
  }
  return out + "</g>\n</svg>\n";
}

std::string ChecksTable(const std::vector<ReportCheck>& checks) {
  if (checks.empty()) return "<p class=\"empty\">No checks ran.</p>\n";
  std::string out =
      "<table class=\"checks\">\n<tr><th>Check</th><th>Result</th><th>Expected</th><th>Seen</th>"
      "<th>What to look at</th></tr>\n";
  for (const ReportCheck& c : checks) {
    out += std::string("<tr class=\"") + (c.passed ? "pass" : "fail") + "\"><td>" + HtmlEscape(c.name) +
           "</td><td class=\"result\">" + (c.passed ? "PASS" : "FAIL") + "</td><td>" + HtmlEscape(c.expected) +
           "</td><td>" + HtmlEscape(c.seen) + "</td><td>" + HtmlEscape(c.hint) + "</td></tr>\n";
  }
  return out + "</table>\n";
}

constexpr const char* kStyle = R"(<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:2em;color:#1f2328}
h1 .verdict{padding:0 .4em;border-radius:4px;color:#fff}
.pass .result,.verdict.pass{color:#1a7f37;font-weight:bold}
.fail .result,.verdict.fail{color:#cf222e;font-weight:bold}
h1 .verdict.pass{background:#1a7f37;color:#fff}
h1 .verdict.fail{background:#cf222e;color:#fff}
table.checks{border-collapse:collapse;margin:1em 0}
table.checks td,table.checks th{border:1px solid #d0d7de;padding:.3em .6em;text-align:left;vertical-align:top}
tr.fail{background:#ffebe9}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}
dl.facts dt{font-weight:bold}
dl.facts dd{margin:0}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:12px}
svg.chart,svg.timeline{width:100%;height:auto;display:block}
svg.timeline{max-width:960px}
svg .mark{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg text{font-size:11px;fill:#1f2328}
svg .title{font-size:13px;font-weight:bold}
svg .tick.x,svg .label.x,svg .empty{text-anchor:middle}
svg .tick.y{text-anchor:end}
svg .label.y{text-anchor:middle}
svg .grid line{stroke:#eaeef2}
svg .axis line,svg .marker{stroke:#57606a}
svg path.line{fill:none;stroke-width:2}
svg .empty{fill:#8c959f}
</style>
)";

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string RenderHtml(const SelftestReport& report) {
  bool passed = report.Passed();
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<title>ferry selftest: " + std::string(passed ? "passed" : "failed") + "</title>\n";
  out += kStyle;
  out += "</head>\n<body>\n";
  out += std::string("<h1>ferry selftest <span class=\"verdict ") + (passed ? "pass\">PASSED" : "fail\">FAILED") +
         "</span></h1>\n";

  out += "<dl class=\"facts\">\n";
  out += "<dt>Namespace</dt><dd>" + HtmlEscape(report.ns) + "</dd>\n";
  out += "<dt>Gateway</dt><dd>" + HtmlEscape(report.gateway.address.empty() ? "not found" : report.gateway.address) +
         (report.gateway.how.empty() ? "" : " (" + HtmlEscape(report.gateway.how) + ")") + "</dd>\n";
  out += "<dt>Scale to zero</dt><dd>" +
         (report.scale_to_zero.observed
              ? Fmt("%.1f s after the last request", report.scale_to_zero.seconds_after_last_request)
              : std::string("not observed")) +
         "</dd>\n";
  const ColdStartResult& cold = report.cold_start;
  out += "<dt>Cold start</dt><dd>" +
         (cold.measured ? Fmt("%.3f s total (connect %.3f s, first byte %.3f s)", cold.total_seconds,
                              cold.connect_seconds, cold.first_byte_seconds)
                        : std::string("not measured")) +
         "</dd>\n";
  if (!report.ferry_version.empty()) out += "<dt>ferry</dt><dd>" + HtmlEscape(report.ferry_version) + "</dd>\n";
  out += "</dl>\n";

  out += "<h2>Checks</h2>\n" + ChecksTable(report.checks);
  out += "<h2>Cold start</h2>\n" + Timeline(cold);
  for (const LoadPhase& phase : report.phases) {
    out += "<h2>Load: " + HtmlEscape(phase.name) + "</h2>\n<p>";
    out += Fmt("%d concurrent requests for %g s, target %d per pod; peak %d pod%s.", phase.concurrency,
               Finite(phase.duration_seconds), phase.target, phase.peak_pods, phase.peak_pods == 1 ? "" : "s");
    if (!phase.url.empty()) out += " URL " + HtmlEscape(phase.url) + ".";
    out += "</p>\n";
    if (!phase.note.empty()) out += "<p class=\"note\">" + HtmlEscape(phase.note) + "</p>\n";
    out += PhaseCharts(phase);
  }
  if (report.phases.empty()) out += "<h2>Load</h2>\n<p class=\"empty\">No load phase ran.</p>\n";
  return out + "</body>\n</html>\n";
}

}  // namespace ferry::selftest
