// FormatReportText: the self-test's terminal summary, one line per check and the key numbers.
//
//   PASS  helloworld answers through the gateway
//   FAIL  autoscale reaches 4 pods
//           expected: at least 4 pods   seen: 2 pods   look at: pod autoscale-x: ImagePullBackOff
//   gateway:        10.0.0.5:31380 (NodePort 31380 on node address 10.0.0.5)
//   scale to zero:  62.4 s after the last request
//   cold start:     2.775 s total (connect 0.001 s, first byte 2.774 s)
//   load autoscale: peak 5 pods, 50 concurrent for 30 s, target 10
//   result:         FAILED, 4 of 5 checks passed
#pragma once

#include <string>

#include "selftest/selftest_report.h"

namespace ferry::selftest {

std::string FormatReportText(const SelftestReport& report);

}  // namespace ferry::selftest
