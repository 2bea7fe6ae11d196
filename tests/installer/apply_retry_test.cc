// Which failed applies an install retries: the errors that go away on their own while Knative
// comes up, and none that the user must fix.
#include "installer/apply_retry.h"

#include <catch2/catch.hpp>

using namespace ferry::installer;

namespace {

ApiError Server(long code, const char* reason, const char* message) {
  ApiError e;
  e.code = code;
  e.reason = reason;
  e.message = message;
  return e;
}

}  // namespace

TEST_CASE("errors that pass while an install comes up are retried", "[apply_retry]") {
  CHECK(ClassifyApplyError(Server(500, "InternalError",
                                  "Internal error occurred: failed calling webhook \"config.webhook.serving.knative.dev\": "
                                  "failed to call webhook: Post ...: connect: connection refused"))
            .action == ApplyRetry::kRetry);
  CHECK(ClassifyApplyError(Server(409, "Conflict", "Operation cannot be fulfilled")).action == ApplyRetry::kRetry);
  CHECK(ClassifyApplyError(Server(429, "TooManyRequests", "slow down")).action == ApplyRetry::kRetry);
  CHECK(ClassifyApplyError(Server(503, "ServiceUnavailable", "unavailable")).action == ApplyRetry::kRetry);
  ApiError cut = TransportApiError(ferry::Unavailable("connection reset"), "apply");
  CHECK(ClassifyApplyError(cut).action == ApplyRetry::kRetry);
  ApiError terminating = Server(403, "Forbidden",
                                "configmaps \"x\" is forbidden: unable to create new content in namespace knative-serving "
                                "because it is being terminated");
  CHECK(ClassifyApplyError(terminating).action == ApplyRetry::kRetry);
  CHECK(ClassifyApplyError(terminating).why == "namespace still terminating");
}

TEST_CASE("a kind not yet served refreshes discovery before the retry", "[apply_retry]") {
  ApiError no_match = LocalApiError("NotFound", "no matches for kind \"Image\" in version \"caching.internal.knative.dev/v1alpha1\"", "apply");
  CHECK(ClassifyApplyError(no_match).action == ApplyRetry::kRefreshDiscovery);
  CHECK(ClassifyApplyError(Server(404, "NotFound", "the server could not find the requested resource")).action ==
        ApplyRetry::kRefreshDiscovery);
}

TEST_CASE("errors the user must fix fail at once", "[apply_retry]") {
  CHECK(ClassifyApplyError(Server(422, "Invalid", "Deployment.apps \"x\" is invalid: spec.replicas")).action ==
        ApplyRetry::kFatal);
  CHECK(ClassifyApplyError(Server(403, "Forbidden", "user \"viewer\" cannot patch resource")).action == ApplyRetry::kFatal);
  CHECK(ClassifyApplyError(Server(400, "BadRequest", "bad body")).action == ApplyRetry::kFatal);
  ApiError missing_namespace = Server(404, "NotFound", "namespaces \"nope\" not found");
  missing_namespace.kind = "namespaces";
  CHECK(ClassifyApplyError(missing_namespace).action == ApplyRetry::kFatal);
}

TEST_CASE("the delay grows, is capped, and honours Retry-After", "[apply_retry]") {
  ApiError plain = Server(500, "InternalError", "x");
  CHECK(ApplyRetryDelay(1, plain).count() == 200);
  CHECK(ApplyRetryDelay(2, plain).count() == 400);
  CHECK(ApplyRetryDelay(10, plain).count() == 2000);
  ApiError busy = Server(429, "TooManyRequests", "x");
  busy.retry_after_seconds = 3;
  CHECK(ApplyRetryDelay(1, busy).count() == 3000);
  busy.retry_after_seconds = 3600;
  CHECK(ApplyRetryDelay(1, busy).count() == 30000);
}
