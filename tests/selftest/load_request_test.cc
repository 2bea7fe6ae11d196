// The bytes `ferry load` writes for each plain-HTTP request: built once from the flags, in the
// shape servers expect, with the user's headers replacing ferry's own where they overlap.
#include "selftest/load_request.h"

#include <catch2/catch.hpp>

using namespace ferry;
using namespace ferry::selftest;

namespace {

LoadRequest Make(const LoadOptions& o) {
  Result<LoadRequest> r = LoadRequest::Make(o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_CASE("a GET carries Host and User-Agent and nothing it does not need") {
  LoadOptions o;
  o.url = "http://127.0.0.1:8080/path?q=1#fragment";
  LoadRequest r = Make(o);
  CHECK_FALSE(r.tls());
  CHECK(r.target() == "127.0.0.1:8080");
  CHECK(r.path() == "/path?q=1");
  CHECK(r.Serialize("GET", r.path(), true) ==
        "GET /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: ferry-load/" FERRY_VERSION "\r\n\r\n");
}

TEST_CASE("the default port is left out of Host, an IPv6 address keeps its brackets there") {
  LoadOptions o;
  o.url = "http://example.test:80";
  LoadRequest r = Make(o);
  CHECK(r.path() == "/");
  CHECK_THAT(r.Serialize("GET", "/", true), Catch::Contains("\r\nHost: example.test\r\n"));
  o.url = "http://[::1]:8080/";
  LoadRequest v6 = Make(o);
  CHECK(v6.host() == "::1");
  CHECK_THAT(v6.Serialize("GET", "/", true), Catch::Contains("\r\nHost: [::1]:8080\r\n"));
}

TEST_CASE("a body goes with its length and type; keep-alive off asks the server to close") {
  LoadOptions o;
  o.url = "http://h:1/api";
  o.method = "PUT";
  o.body = "{\"a\":1}";
  o.content_type = "application/json";
  o.keep_alive = false;
  LoadRequest r = Make(o);
  std::string bytes = r.Serialize("PUT", "/api", true);
  CHECK_THAT(bytes, Catch::StartsWith("PUT /api HTTP/1.1\r\n"));
  CHECK_THAT(bytes, Catch::Contains("\r\nContent-Type: application/json\r\nContent-Length: 7\r\n"));
  CHECK_THAT(bytes, Catch::EndsWith("\r\nConnection: close\r\n\r\n{\"a\":1}"));
  CHECK_THAT(r.Serialize("GET", "/api", false), !Catch::Contains("Content-Length"));
}

TEST_CASE("headers from -H and --host replace ferry's Host and User-Agent; --host wins over -H Host") {
  LoadOptions o;
  o.url = "http://127.0.0.1:8080/";
  o.headers = {"user-agent: mine", "Host: from-h.test", "X-A: 1"};
  o.host = "from-flag.test";
  std::string bytes = Make(o).Serialize("GET", "/", true);
  CHECK_THAT(bytes, Catch::Contains("\r\nuser-agent: mine\r\n"));
  CHECK_THAT(bytes, !Catch::Contains("ferry-load"));
  CHECK_THAT(bytes, Catch::Contains("\r\nHost: from-flag.test\r\n"));
  CHECK_THAT(bytes, !Catch::Contains("from-h.test"));
  CHECK_THAT(bytes, !Catch::Contains("127.0.0.1"));
  CHECK_THAT(bytes, Catch::Contains("\r\nX-A: 1\r\n"));
}

TEST_CASE("credentials in the URL become Basic authorization, never part of the target") {
  LoadOptions o;
  o.url = "http://user:pa%3Ass@h:1/";
  LoadRequest r = Make(o);
  CHECK(r.target() == "h:1");
  CHECK_THAT(r.Serialize("GET", "/", true), Catch::Contains("\r\nAuthorization: Basic dXNlcjpwYTpzcw==\r\n"));
}
