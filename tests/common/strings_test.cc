#include "common/strings.h"

#include <catch2/catch.hpp>
#include <string>

namespace ferry {
namespace {

TEST_CASE("Join puts the separator between parts only") {
  CHECK(Join({}, ", ") == "");
  CHECK(Join({"a"}, ", ") == "a");
  CHECK(Join({"a", "", "c"}, "-") == "a--c");
}

TEST_CASE("Lower and Trim touch ASCII only") {
  CHECK(Lower("WWW-Authenticate: Bearer") == "www-authenticate: bearer");
  CHECK(Lower("\xC3\x84") == "\xC3\x84");  // UTF-8 bytes unchanged
  CHECK(Trim(" \t value \r\n") == "value");
  CHECK(Trim(" \n ") == "");
}

TEST_CASE("Quote escapes what would garble a terminal and cuts what would flood it") {
  CHECK(Quote("gcr.io/knative") == "\"gcr.io/knative\"");
  CHECK(Quote("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(Quote(std::string("\x1b[2J\x00", 5)) == "\"\\x1b[2J\\x00\"");
  std::string quoted = Quote(std::string(1000, 'x'));
  CHECK(quoted == "\"" + std::string(300, 'x') + "...\"");
}

TEST_CASE("IsLowerAlnum is a-z and 0-9") {
  CHECK(IsLowerAlnum('a'));
  CHECK(IsLowerAlnum('9'));
  CHECK_FALSE(IsLowerAlnum('A'));
  CHECK_FALSE(IsLowerAlnum('-'));
}

}  // namespace
}  // namespace ferry
