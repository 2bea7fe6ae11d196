// The URL checks that decide where credentials may go.
//
// IsLoopbackHost decides whether ferry may fall back to plain HTTP (and so send credentials in
// clear) and whether a token realm may be http://: it must be true only for addresses that cannot
// leave the machine, whatever a host name looks like.
#include <catch2/catch.hpp>

#include "common/http_client.h"

namespace ferry {
namespace {

TEST_CASE("IsLoopbackHost: localhost, 127.0.0.0/8 and ::1, with or without a port") {
  for (const char* host : {"localhost", "localhost:5000", "LocalHost:5000", "127.0.0.1", "127.0.0.1:5000",
                           "127.255.255.254:1", "[::1]", "[::1]:5000", "[0:0:0:0:0:0:0:1]:443",
                           "[::ffff:127.0.0.1]:5000"}) {
    INFO(host);
    CHECK(IsLoopbackHost(host));
  }
}

TEST_CASE("IsLoopbackHost: a name that only starts like a loopback address is not one") {
  for (const char* host : {"127.example.com", "127.example.com:5000", "127.0.0.1.nip.io", "127.0.0.1.evil.example:443",
                           "localhost.example.com", "localhost.:5000x", "my-localhost", "128.0.0.1",
                           "10.0.0.1:5000", "[::2]:5000", "[::1]x", "[::1", "::1]:5000", "127.0.0.1:50a0",
                           "127.0.0.1:", "127.1", "0x7f.0.0.1", "", ":5000", "[]:5000", "registry.example.com"}) {
    INFO(host);
    CHECK_FALSE(IsLoopbackHost(host));
  }
}

TEST_CASE("SameOrigin: scheme, host and port must all agree; default ports count") {
  CHECK(SameOrigin("https://reg.example.com/v2/", "https://reg.example.com/v2/a/blobs/uploads/1?x=y"));
  CHECK(SameOrigin("https://Reg.Example.com:443/v2/", "https://reg.example.com/upload"));
  CHECK(SameOrigin("http://127.0.0.1:5000", "http://127.0.0.1:5000/v2/x"));
  CHECK(SameOrigin("http://[::1]:5000/a", "http://[::1]:5000/b"));
  CHECK_FALSE(SameOrigin("https://reg.example.com/v2/", "http://reg.example.com/v2/"));
  CHECK_FALSE(SameOrigin("https://reg.example.com/", "https://reg.example.com:8443/"));
  CHECK_FALSE(SameOrigin("https://reg.example.com/", "https://storage.example.com/upload"));
  CHECK_FALSE(SameOrigin("https://reg.example.com/", "https://reg.example.com.evil.example/"));
  CHECK_FALSE(SameOrigin("https://reg.example.com/", "https://user@reg.example.com/"));
  CHECK_FALSE(SameOrigin("http://127.0.0.1:5000/", "http://127.0.0.2:5000/"));
  CHECK_FALSE(SameOrigin("/v2/relative", "/v2/relative"));
}

}  // namespace
}  // namespace ferry
