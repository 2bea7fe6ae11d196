// render_report: a test-only tool that turns a report.json into report.html, so the browser test
// can render the page without running a whole self-test.
//   render_report REPORT_JSON OUT_HTML
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "selftest/report_html.h"
#include "selftest/selftest_report.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: render_report REPORT_JSON OUT_HTML\n";
    return 2;
  }
  std::ifstream in(argv[1]);
  if (!in) {
    std::cerr << "render_report: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto report = ferry::selftest::ParseReport(text.str(), argv[1]);
  if (!report.ok()) {
    std::cerr << "render_report: " << report.status().message() << "\n";
    return 1;
  }
  std::ofstream out(argv[2], std::ios::binary);
  out << ferry::selftest::RenderHtml(*report);
  if (!out.flush()) {
    std::cerr << "render_report: cannot write " << argv[2] << "\n";
    return 1;
  }
  return 0;
}
