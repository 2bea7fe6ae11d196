// RunLoad refuses options that cannot make a sensible run, before sending anything, naming the flag.
#include "selftest/load_generator.h"

#include <catch2/catch.hpp>

using namespace ferry;
using namespace ferry::selftest;

namespace {

LoadOptions Valid() {
  LoadOptions o;
  o.url = "http://127.0.0.1:9/";
  return o;
}

std::string Refusal(const LoadOptions& o) {
  Result<LoadResult> r = RunLoad(o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  return r.status().message();
}

}  // namespace

TEST_CASE("a URL without http:// or https:// is refused") {
  LoadOptions o = Valid();
  o.url = "127.0.0.1:8080/";
  CHECK_THAT(Refusal(o), Catch::Contains("http://"));
  o.url = "ftp://127.0.0.1/";
  CHECK_THAT(Refusal(o), Catch::Contains("http://"));
}

TEST_CASE("a refused URL is not echoed: it may carry credentials") {
  LoadOptions o = Valid();
  o.url = "ftp://user:s3cret@127.0.0.1/";
  CHECK_THAT(Refusal(o), !Catch::Contains("s3cret"));
}

TEST_CASE("counts, rates and timeouts must make sense") {
  LoadOptions o = Valid();
  o.concurrency = 0;
  CHECK_THAT(Refusal(o), Catch::Contains("-c"));
  o = Valid();
  o.requests = 0;
  CHECK_THAT(Refusal(o), Catch::Contains("-n"));
  o = Valid();
  o.rate_per_worker = -1;
  CHECK_THAT(Refusal(o), Catch::Contains("-q"));
  o = Valid();
  o.timeout = std::chrono::milliseconds(-1);
  CHECK_THAT(Refusal(o), Catch::Contains("-t"));
}

TEST_CASE("headers must be 'Name: value' on one line, methods a single token") {
  LoadOptions o = Valid();
  o.headers = {"no colon here"};
  CHECK_THAT(Refusal(o), Catch::Contains("Name: value"));
  o.headers = {"X-A: 1\r\nX-Injected: 2"};
  CHECK_THAT(Refusal(o), Catch::Contains("line breaks"));
  o = Valid();
  o.host = "evil\r\nX: y";
  CHECK_THAT(Refusal(o), Catch::Contains("line breaks"));
  o = Valid();
  o.method = "GET /x";
  CHECK_THAT(Refusal(o), Catch::Contains("-m"));
}
