// Which failed applies are worth trying again during an install, and after how long. An install
// meets errors that go away on their own: a kind whose CRD was just established is not yet in
// discovery (404, "no matches for kind"), a webhook whose Deployment is still starting ("failed
// calling webhook"), 409 conflicts, 429 with Retry-After, 5xx, cut connections, a namespace still
// terminating from an earlier uninstall. Everything else (Invalid, Forbidden, BadRequest) is the
// user's to fix and fails at once.
#pragma once

#include <chrono>
#include <string>

#include "installer/api_error.h"

namespace ferry::installer {

enum class ApplyRetry {
  kFatal,             // report the error now
  kRetry,             // try again after a backoff
  kRefreshDiscovery,  // the kind is not known yet: refresh discovery, then try again
};

struct ApplyErrorClass {
  ApplyRetry action = ApplyRetry::kFatal;
  std::string why;  // "webhook not ready", "kind not yet served", "namespace terminating", ...
};

ApplyErrorClass ClassifyApplyError(const ApiError& error);

// The wait before attempt `attempt` + 1 (attempt >= 1): 200 ms doubling to at most 2 s, or the
// server's Retry-After when it sent one (at most 30 s).
std::chrono::milliseconds ApplyRetryDelay(int attempt, const ApiError& error);

}  // namespace ferry::installer
