// Which redirects `ferry load` follows over plain HTTP: those that stay on the run's scheme, host
// and port, resolved as a browser would; anything else is refused with the origin named.
#include "selftest/load_redirect.h"

#include <catch2/catch.hpp>

using namespace ferry;
using namespace ferry::selftest;

namespace {

LoadRequest Request(const std::string& url) {
  LoadOptions o;
  o.url = url;
  Result<LoadRequest> r = LoadRequest::Make(o);
  REQUIRE(r.ok());
  return std::move(*r);
}

std::string Follow(const LoadRequest& request, std::string_view current, const std::string& location) {
  Result<std::string> next = SameOriginRedirect(request, current, location);
  REQUIRE(next.ok());
  return *next;
}

}  // namespace

TEST_CASE("same-origin Locations resolve against the hop that answered") {
  LoadRequest r = Request("http://127.0.0.1:8080/a/b?x=1");
  CHECK(Follow(r, "/a/b?x=1", "/c") == "/c");
  CHECK(Follow(r, "/a/b?x=1", "c?y=2") == "/a/c?y=2");
  CHECK(Follow(r, "/a/b", "../d") == "/d");
  CHECK(Follow(r, "/a/b", "http://127.0.0.1:8080/e#frag") == "/e");
  CHECK(Follow(r, "/a/b", "//127.0.0.1:8080/f") == "/f");
}

TEST_CASE("the default port is the same origin whether written or not") {
  LoadRequest r = Request("http://example.test/");
  CHECK(Follow(r, "/", "http://example.test:80/x") == "/x");
  CHECK(Follow(r, "/", "http://EXAMPLE.test/y") == "/y");
}

TEST_CASE("another port, host or scheme is not followed and the message names the origin only") {
  LoadRequest r = Request("http://127.0.0.1:8080/");
  for (auto [location, origin] : {std::pair{"http://127.0.0.1:9090/p?token=s3cret", "http://127.0.0.1:9090"},
                                  std::pair{"http://other.test/p", "http://other.test:80"},
                                  std::pair{"https://127.0.0.1:8080/p", "https://127.0.0.1:8080"}}) {
    Result<std::string> next = SameOriginRedirect(r, "/", location);
    REQUIRE_FALSE(next.ok());
    CHECK_THAT(next.status().message(), Catch::Contains(origin) && Catch::Contains("not followed"));
    CHECK_THAT(next.status().message(), !Catch::Contains("s3cret"));
  }
}
