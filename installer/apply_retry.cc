// Classifying failed applies; see apply_retry.h.
#include "installer/apply_retry.h"

#include <algorithm>

namespace ferry::installer {
namespace {

bool Contains(const std::string& text, const char* needle) { return text.find(needle) != std::string::npos; }

}  // namespace

ApplyErrorClass ClassifyApplyError(const ApiError& error) {
  if (error.is_transport) return {ApplyRetry::kRetry, "connection failed"};
  const std::string& m = error.message;
  if (Contains(m, "failed calling webhook") || Contains(m, "failed calling admission webhook") ||
      Contains(m, "conversion webhook for"))
    return {ApplyRetry::kRetry, "webhook not ready"};
  if (error.IsForbidden() && Contains(m, "because it is being terminated"))
    return {ApplyRetry::kRetry, "namespace still terminating"};
  // A kind a CRD of this install defines can be missing from discovery, or answer 404 on its
  // path, for a moment after the CRD is Established (kubernetes/kubernetes#125471).
  if (Contains(m, "no matches for kind")) return {ApplyRetry::kRefreshDiscovery, "kind not yet served"};
  if (error.IsNotFound() && (error.kind.empty() || Contains(m, "the server could not find the requested resource")))
    return {ApplyRetry::kRefreshDiscovery, "kind not yet served"};
  if (error.IsConflict()) return {ApplyRetry::kRetry, "conflict"};
  if (error.IsTooManyRequests()) return {ApplyRetry::kRetry, "server busy (429)"};
  if (error.code >= 500) return {ApplyRetry::kRetry, "server error " + std::to_string(error.code)};
  return {ApplyRetry::kFatal, error.reason.empty() ? "error" : error.reason};
}

std::chrono::milliseconds ApplyRetryDelay(int attempt, const ApiError& error) {
  if (error.retry_after_seconds && *error.retry_after_seconds > 0)
    return std::chrono::milliseconds(std::min(*error.retry_after_seconds, 30) * 1000);
  int shift = std::clamp(attempt - 1, 0, 4);
  return std::chrono::milliseconds(std::min(200 << shift, 2000));
}

}  // namespace ferry::installer
