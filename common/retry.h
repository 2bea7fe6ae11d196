// When and how long to wait before trying a request again.
//
// Retried: transport failures (kUnavailable), HTTP 5xx (500, 502, 503, 504) and 429. Never 401, 403,
// 404 or other client errors: asking again will not change the answer. The delay is exponential
// with full jitter, capped; a server's Retry-After (seconds or an HTTP date) is honoured in full,
// up to the policy's ceiling.
#pragma once

#include <chrono>
#include <functional>
#include <random>
#include <string_view>

#include "common/http_client.h"

namespace ferry {

struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base_delay{500};
  std::chrono::milliseconds max_delay{30000};
  std::chrono::milliseconds max_retry_after{300000};  // ignore absurd Retry-After values beyond this
};

bool IsRetryableStatus(long http_status);
bool IsRetryable(const Result<HttpResponse>& result);

// Seconds to wait from a Retry-After value ("120" or an HTTP date); nullopt when absent or invalid.
// `now` is seconds since the epoch (for HTTP dates).
std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, long long now);

// Delay before attempt number `attempt` (1 = the first retry). `random01` returns a value in [0,1).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt, double random01);

// The delay for a retryable result: Retry-After when the server sent one, else BackoffDelay.
std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int attempt, const Result<HttpResponse>& result,
                                     double random01);

// A uniformly distributed double in [0,1), thread-safe.
double RandomUnit();

}  // namespace ferry
