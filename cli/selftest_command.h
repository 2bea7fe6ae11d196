// Running the self-test and reporting it, shared by `ferry selftest` and `ferry install --selftest`.
#pragma once

#include <string>

#include "installer/kube_client.h"
#include "selftest/selftest_report.h"
#include "selftest/selftest_run.h"

namespace ferry::cli {

// Runs the self-test on the cluster `client` talks to, progress on stderr ("selftest: ..."), and
// writes report.json and report.html into `report_dir` when it is not empty.
struct SelftestOutcome {
  selftest::SelftestReport report;
  Status written;  // writing the report; OK when there was nothing to write
};
SelftestOutcome RunSelftestWithReport(installer::KubeClient& client, const selftest::SelftestOptions& options,
                                      const std::string& report_dir);

}  // namespace ferry::cli
