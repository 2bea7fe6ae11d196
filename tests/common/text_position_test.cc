// TextPosition: the "line L, column C" that JSON errors give instead of quoting a secret.
#include "common/text_position.h"

#include <catch2/catch.hpp>

namespace ferry {
namespace {

TEST_CASE("TextPosition counts lines and columns from 1") {
  CHECK(TextPosition("", 0) == "line 1, column 1");
  CHECK(TextPosition("{\"a\": x}", 6) == "line 1, column 7");
  // The byte after a newline starts the next line.
  const std::string text = "{\n  \"auths\": {\n    \"x\": ,\n";
  CHECK(TextPosition(text, 1) == "line 1, column 2");  // the newline itself is still on line 1
  CHECK(TextPosition(text, 2) == "line 2, column 1");
  CHECK(TextPosition(text, text.find(',')) == "line 3, column 10");
}

TEST_CASE("TextPosition counts columns in bytes") {
  // "é" is two bytes in UTF-8: the 'x' after it is column 4 of its line.
  CHECK(TextPosition("\xc3\xa9 x", 3) == "line 1, column 4");
}

TEST_CASE("TextPosition past the end names the position after the last byte") {
  CHECK(TextPosition("ab\ncd", 99) == "line 2, column 3");
  CHECK(TextPosition("ab\n", 3) == "line 2, column 1");
}

}  // namespace
}  // namespace ferry
