#include "common/retry.h"

#include <catch2/catch.hpp>

using namespace ferry;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {
Result<HttpResponse> Answer(long status, std::string retry_after = "") {
  HttpResponse r;
  r.status = status;
  if (!retry_after.empty()) r.headers.emplace_back("retry-after", retry_after);
  return r;
}
}  // namespace

TEST_CASE("transient failures are retried, answers that will not change are not") {
  CHECK(IsRetryable(Answer(429)));
  CHECK(IsRetryable(Answer(500)));
  CHECK(IsRetryable(Answer(502)));
  CHECK(IsRetryable(Answer(503)));
  CHECK(IsRetryable(Answer(504)));
  CHECK(IsRetryable(Result<HttpResponse>(Unavailable("connection reset"))));
  CHECK_FALSE(IsRetryable(Answer(200)));
  CHECK_FALSE(IsRetryable(Answer(401)));
  CHECK_FALSE(IsRetryable(Answer(403)));
  CHECK_FALSE(IsRetryable(Answer(404)));
  CHECK_FALSE(IsRetryable(Answer(400)));
  CHECK_FALSE(IsRetryable(Result<HttpResponse>(TlsError("bad certificate"))));
  CHECK_FALSE(IsRetryable(Result<HttpResponse>(NotFound("cannot resolve host"))));
}

TEST_CASE("Retry-After is read in seconds or as an HTTP date") {
  const long long now = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  CHECK(ParseRetryAfter("120", now) == seconds(120));
  CHECK(ParseRetryAfter(" 7 ", now) == seconds(7));
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:50:07 GMT", now) == seconds(30));
  CHECK(ParseRetryAfter("Sun, 06 Nov 1994 08:49:00 GMT", now) == seconds(0));  // in the past: now
  CHECK_FALSE(ParseRetryAfter("", now).has_value());
  CHECK_FALSE(ParseRetryAfter("soon", now).has_value());
  CHECK_FALSE(ParseRetryAfter("-5", now).has_value());
}

TEST_CASE("backoff doubles per attempt, is capped, and keeps at least half its ceiling") {
  RetryPolicy p;
  p.base_delay = milliseconds(500);
  p.max_delay = milliseconds(4000);
  CHECK(BackoffDelay(p, 1, 0.0) == milliseconds(250));
  CHECK(BackoffDelay(p, 1, 0.999) <= milliseconds(500));
  CHECK(BackoffDelay(p, 2, 0.0) == milliseconds(500));
  CHECK(BackoffDelay(p, 3, 0.0) == milliseconds(1000));
  CHECK(BackoffDelay(p, 10, 0.999) <= milliseconds(4000));
  CHECK(BackoffDelay(p, 10, 0.0) == milliseconds(2000));
}

TEST_CASE("a server's Retry-After wins over backoff, up to the policy's ceiling") {
  RetryPolicy p;
  CHECK(RetryDelay(p, 1, Answer(429, "3"), 0.0) == milliseconds(3000));
  CHECK(RetryDelay(p, 1, Answer(503), 0.0) == BackoffDelay(p, 1, 0.0));
  CHECK(RetryDelay(p, 1, Answer(429, "999999"), 0.0) == p.max_retry_after);
}
