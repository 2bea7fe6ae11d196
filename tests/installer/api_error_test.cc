// ApiError: a Kubernetes Status body becomes a typed error that reads like kubectl's.
#include <catch2/catch.hpp>

#include "installer/api_error.h"

using ferry::HttpResponse;
using ferry::StatusCode;
using namespace ferry::installer;

namespace {

HttpResponse Answer(long code, const std::string& body, std::vector<std::pair<std::string, std::string>> headers = {}) {
  HttpResponse r;
  r.status = code;
  r.body = body;
  r.headers = std::move(headers);
  return r;
}

}  // namespace

TEST_CASE("a NotFound Status reads like kubectl plus which object and server") {
  ApiError e = ApiErrorFromResponse(
      Answer(404, R"({"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,
                      "message":"deployments.apps \"x\" not found","details":{"name":"x","group":"apps","kind":"deployments"}})"),
      "get deployments.apps \"x\" in namespace \"y\" (server https://h:6443)");
  CHECK(e.IsNotFound());
  CHECK_FALSE(e.is_transport);
  CHECK(e.name == "x");
  CHECK(e.ToString() ==
        "get deployments.apps \"x\" in namespace \"y\" (server https://h:6443): Error from server (NotFound): "
        "deployments.apps \"x\" not found");
  CHECK(e.ToStatus().code() == StatusCode::kNotFound);
  CHECK_FALSE(e.IsRetryable());
}

TEST_CASE("causes a message does not already list are appended") {
  ApiError e = ApiErrorFromStatus(
      nlohmann::json::parse(R"({"kind":"Status","code":400,"reason":"BadRequest","message":"admission webhook denied the request",
                               "details":{"causes":[{"reason":"FieldValueInvalid","message":"must be positive","field":"spec.x"}]}})"),
      "");
  REQUIRE(e.causes.size() == 1);
  CHECK(e.causes[0].field == "spec.x");
  CHECK(e.ToString() == "Error from server (BadRequest): admission webhook denied the request; spec.x: must be positive");
}

TEST_CASE("an answer without a Status body still gets the reason of its code") {
  ApiError e = ApiErrorFromResponse(Answer(503, "<html>bad gateway</html>", {{"retry-after", "7"}}), "list pods");
  CHECK(e.reason == "ServiceUnavailable");
  CHECK(e.retry_after_seconds == 7);
  CHECK(e.IsRetryable());
  CHECK(e.ToStatus().code() == StatusCode::kUnavailable);
  CHECK(e.ToString().find("<html>") == std::string::npos);
}

TEST_CASE("retryAfterSeconds in the Status details is kept") {
  ApiError e = ApiErrorFromResponse(
      Answer(429, R"({"kind":"Status","code":429,"reason":"TooManyRequests","message":"slow down","details":{"retryAfterSeconds":3}})"),
      "");
  CHECK(e.IsTooManyRequests());
  CHECK(e.retry_after_seconds == 3);
}

TEST_CASE("a watch's Expired Status is Gone") {
  ApiError e = ApiErrorFromStatus(
      nlohmann::json::parse(R"j({"kind":"Status","code":410,"reason":"Expired","message":"too old resource version: 1 (5)"})j"), "");
  CHECK(e.IsGone());
  CHECK(e.reason == "Expired");
}

TEST_CASE("transport errors are apart from API errors and keep their own code") {
  ApiError tls = TransportApiError(ferry::TlsError("TLS with h:6443 failed: unable to get local issuer"), "GET /version");
  CHECK(tls.is_transport);
  CHECK(tls.code == 0);
  CHECK(tls.ToStatus().code() == StatusCode::kTls);
  CHECK_FALSE(tls.IsRetryable());
  ApiError refused = TransportApiError(ferry::Unavailable("connection to h:6443 failed: refused"), "GET /version");
  CHECK(refused.IsRetryable());
  CHECK(refused.ToString() == "GET /version: connection to h:6443 failed: refused");
}

TEST_CASE("the HTTP code names 401 and 403 for callers that only see a Status") {
  CHECK(ApiErrorFromResponse(Answer(401, ""), "").ToStatus().code() == StatusCode::kUnauthenticated);
  CHECK(ApiErrorFromResponse(Answer(403, ""), "").ToStatus().code() == StatusCode::kPermissionDenied);
  CHECK(ApiErrorFromResponse(Answer(409, ""), "").IsConflict());
  CHECK(ApiErrorFromResponse(Answer(422, ""), "").IsInvalid());
}
