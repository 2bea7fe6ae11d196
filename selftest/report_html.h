// RenderHtml: the self-test's report as one self-contained HTML page (report.html).
//
// The page is opened in restricted networks, so it carries everything inline: CSS in a <style>
// element, charts as inline SVG, the system font stack; no scripts, fonts or images are fetched.
// For each load phase it draws four charts over time (seconds since the phase started), each an
// <svg class="chart" data-series="..." data-phase="<phase name>">:
//   data-series="pods"       the revision's ready pods
//   data-series="in-flight"  requests in flight
//   data-series="rps"        requests per second
//   data-series="latency"    p50, p95 and p99 in milliseconds, one line each
// Each line is a <path class="line" data-label="...">; a chart without points says "no data".
// The cold start is <svg class="timeline" data-series="cold-start">, a horizontal bar cut into
// labelled phases, each moment's label (<text class="mark">, in time order) in a lane above or below
// the bar where it clears its neighbours; the checks are <table class="checks"> with one
// <tr class="pass|fail"> each. Charts and timeline scale to the page: the charts fill each row of a
// grid, the timeline the width up to 960 px.
// Every string from the report is HTML-escaped. The same report always renders the same bytes.
#pragma once

#include <string>
#include <string_view>

#include "selftest/selftest_report.h"

namespace ferry::selftest {

std::string RenderHtml(const SelftestReport& report);

// Escapes & < > " ' for use in element text and quoted attribute values.
std::string HtmlEscape(std::string_view text);

}  // namespace ferry::selftest
