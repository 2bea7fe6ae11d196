// RunSelftest: `ferry selftest`. After an install it deploys the helloworld and autoscale samples,
// probes helloworld through the ingress gateway, watches it scale to zero, times a cold start,
// loads autoscale and helloworld while counting pods, cleans up, and returns everything it saw as
// a SelftestReport (checks plus measurements). It never stops at the first failure if later steps
// can still tell the user something; a step that cannot run is a failed check saying why.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "installer/kube_client.h"
#include "selftest/selftest_report.h"

namespace ferry::selftest {

struct SelftestOptions {
  std::string ns = "ferry-selftest";  // created when missing (and then deleted again)
  std::string gateway;                // --gateway HOST:PORT; empty: find it from the cluster
  std::string hello_image;            // empty: the image in the helloworld sample manifest
  std::string autoscale_image;        // empty: the image in the autoscale sample manifest
  std::string pull_secret;            // a docker config.json for the images' registry: stored as the
                                      // Secret ferry-mirror-pull in `ns` and named by both samples
  bool keep = false;                  // leave the samples (and namespace) in place
  int concurrency = 50;               // load phases: concurrent requests (hey -c)
  std::chrono::milliseconds duration{30000};  // load phases: how long (hey -z)
  std::chrono::milliseconds ready_timeout{300000};          // a sample Service becoming Ready
  std::chrono::milliseconds reconcile_timeout{20000};       // its first status (else Knative is not running)
  std::chrono::milliseconds scale_to_zero_timeout{120000};  // pods gone after the last request; also
                                                            // the time pods get to scale down after load
  std::chrono::milliseconds poll_interval{200};             // pod counting
};

// Called with one line per step as it starts ("deploying helloworld-go", ...).
using SelftestProgress = std::function<void(const std::string&)>;

SelftestReport RunSelftest(installer::KubeClient& client, const SelftestOptions& options,
                           const SelftestProgress& progress);

}  // namespace ferry::selftest
