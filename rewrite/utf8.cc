// UTF-8 well-formedness, per the Unicode standard's table of well-formed byte sequences.
#include "rewrite/utf8.h"

#include <algorithm>
#include <cstdio>

namespace ferry {

std::optional<size_t> FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {
      ++i;
      continue;
    }
    size_t length = 0;
    unsigned char low = 0x80, high = 0xBF;  // allowed range of the second byte
    if (b >= 0xC2 && b <= 0xDF) {
      length = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      length = 3;
      if (b == 0xE0) low = 0xA0;   // overlong
      if (b == 0xED) high = 0x9F;  // surrogates
    } else if (b >= 0xF0 && b <= 0xF4) {
      length = 4;
      if (b == 0xF0) low = 0x90;   // overlong
      if (b == 0xF4) high = 0x8F;  // above U+10FFFF
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    for (size_t k = 1; k < length; ++k) {
      auto c = static_cast<unsigned char>(text[i + k]);
      unsigned char lo = k == 1 ? low : 0x80, hi = k == 1 ? high : 0xBF;
      if (c < lo || c > hi) return i;
    }
    i += length;
  }
  return std::nullopt;
}

Status CheckUtf8(std::string_view text, const std::string& file, int first_line) {
  std::optional<size_t> bad = FirstInvalidUtf8(text);
  if (!bad) return Status::Ok();
  std::string_view before = text.substr(0, *bad);
  int line = first_line + static_cast<int>(std::count(before.begin(), before.end(), '\n'));
  size_t line_start = before.rfind('\n');
  size_t column = line_start == std::string_view::npos ? *bad + 1 : *bad - line_start;
  char byte[8];
  std::snprintf(byte, sizeof byte, "0x%02X", static_cast<unsigned char>(text[*bad]));
  return InvalidArgument(file + ":" + std::to_string(line) + ":" + std::to_string(column) +
                         ": invalid UTF-8 (byte " + byte + "); manifests must be UTF-8 text");
}

}  // namespace ferry
