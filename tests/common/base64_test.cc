#include "common/base64.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace ferry {
namespace {

struct Vector {
  std::string plain;
  std::string encoded;
};

// RFC 4648 section 10.
const std::vector<Vector> kRfcVectors = {
    {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST_CASE("Base64Encode matches the RFC 4648 vectors") {
  for (const auto& v : kRfcVectors) {
    CHECK(Base64Encode(v.plain) == v.encoded);
  }
}

TEST_CASE("Base64Decode round-trips the RFC 4648 vectors, with or without padding") {
  for (const auto& v : kRfcVectors) {
    auto padded = Base64Decode(v.encoded);
    REQUIRE(padded.ok());
    CHECK(*padded == v.plain);

    std::string bare = v.encoded.substr(0, v.encoded.find('='));
    auto unpadded = Base64Decode(bare);
    REQUIRE(unpadded.ok());
    CHECK(*unpadded == v.plain);
  }
}

TEST_CASE("Base64Decode handles every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  auto decoded = Base64Decode(Base64Encode(all));
  REQUIRE(decoded.ok());
  CHECK(*decoded == all);
}

TEST_CASE("Base64Decode decodes a docker config auth value") {
  auto decoded = Base64Decode("dXNlcjpwYTpzczp3b3Jk");
  REQUIRE(decoded.ok());
  CHECK(*decoded == "user:pa:ss:word");
}

TEST_CASE("Base64Decode rejects malformed input without quoting it") {
  const std::vector<std::string> bad = {
      "Zm9v!",     // character outside the alphabet
      "Zm 9v",     // whitespace
      "Zm9v\n",    // trailing newline
      "Zm-_",      // URL-safe characters in the standard alphabet
      "Z",         // a lone sextet carries no whole byte
      "Zm9vY",     // same, after a full group
      "Zg=",       // partial padding
      "Zg===",     // too much padding
      "Zm=v",      // padding in the middle
      "=",         // padding only
  };
  for (const auto& text : bad) {
    auto decoded = Base64Decode(text);
    INFO("input: " << text);
    REQUIRE_FALSE(decoded.ok());
    CHECK(decoded.status().code() == StatusCode::kInvalidArgument);
    if (text.size() > 2) CHECK(decoded.status().message().find(text) == std::string::npos);
  }
}

TEST_CASE("Base64UrlEncode uses - and _ and no padding") {
  CHECK(Base64UrlEncode("\xfb\xff") == "-_8");
  CHECK(Base64Encode("\xfb\xff") == "+/8=");
  CHECK(Base64UrlEncode("f") == "Zg");
  CHECK(Base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") ==
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9");
}

TEST_CASE("Base64UrlDecode reverses Base64UrlEncode") {
  auto decoded = Base64UrlDecode("-_8");
  REQUIRE(decoded.ok());
  CHECK(*decoded == "\xfb\xff");
  CHECK_FALSE(Base64UrlDecode("+/8").ok());
}

}  // namespace
}  // namespace ferry
