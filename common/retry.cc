#include "common/retry.h"

#include <curl/curl.h>

#include <algorithm>
#include <ctime>
#include <mutex>
#include <string>

namespace ferry {

bool IsRetryableStatus(long http_status) {
  return http_status == 429 || http_status == 500 || http_status == 502 || http_status == 503 ||
         http_status == 504;
}

bool IsRetryable(const Result<HttpResponse>& result) {
  if (!result.ok()) return result.status().code() == StatusCode::kUnavailable;
  return IsRetryableStatus(result->status);
}

std::optional<std::chrono::seconds> ParseRetryAfter(std::string_view value, long long now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    if (value.size() > 9) return std::nullopt;
    return std::chrono::seconds(std::stoll(std::string(value)));
  }
  time_t when = curl_getdate(std::string(value).c_str(), nullptr);
  if (when == -1) return std::nullopt;
  return std::chrono::seconds(std::max<long long>(0, static_cast<long long>(when) - now));
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt, double random01) {
  double ceiling = static_cast<double>(policy.base_delay.count());
  for (int i = 1; i < attempt && ceiling < policy.max_delay.count(); ++i) ceiling *= 2;
  ceiling = std::min(ceiling, static_cast<double>(policy.max_delay.count()));
  // Full jitter, but never less than half the ceiling so retries still back off.
  return std::chrono::milliseconds(static_cast<long long>(ceiling * (0.5 + 0.5 * random01)));
}

std::chrono::milliseconds RetryDelay(const RetryPolicy& policy, int attempt, const Result<HttpResponse>& result,
                                     double random01) {
  if (result.ok()) {
    std::string header = result->Header("retry-after");
    if (auto after = ParseRetryAfter(header, static_cast<long long>(std::time(nullptr)))) {
      auto delay = std::chrono::duration_cast<std::chrono::milliseconds>(*after);
      return std::min(delay, policy.max_retry_after);
    }
  }
  return BackoffDelay(policy, attempt, random01);
}

double RandomUnit() {
  static std::mutex mutex;
  static std::mt19937_64 engine{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mutex);
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace ferry
