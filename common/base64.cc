// Hand-written rather than OpenSSL's EVP_DecodeBlock, which requires padding and returns
// the padding's zero bytes as data.
#include "common/base64.h"

#include <array>
#include <cstdint>

namespace ferry {
namespace {

constexpr std::string_view kStandard =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kUrlSafe =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string Encode(std::string_view bytes, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16 | uint32_t(uint8_t(bytes[i + 1])) << 8 |
                 uint8_t(bytes[i + 2]);
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    out += alphabet[n >> 6 & 63];
    out += alphabet[n & 63];
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = uint32_t(uint8_t(bytes[i])) << 16;
    if (rest == 2) n |= uint32_t(uint8_t(bytes[i + 1])) << 8;
    out += alphabet[n >> 18 & 63];
    out += alphabet[n >> 12 & 63];
    if (rest == 2) out += alphabet[n >> 6 & 63];
    if (pad) out.append(3 - rest, '=');
  }
  return out;
}

Result<std::string> Decode(std::string_view text, std::string_view alphabet) {
  std::array<int, 256> value;
  value.fill(-1);
  for (size_t i = 0; i < alphabet.size(); ++i) value[uint8_t(alphabet[i])] = int(i);

  // Padding may only close the text, and never more than two characters.
  size_t end = text.size();
  while (end > 0 && text[end - 1] == '=' && text.size() - end < 2) --end;
  if (end % 4 == 1) return InvalidArgument("invalid base64: truncated input");
  if (end < text.size() && text.size() % 4 != 0) {
    return InvalidArgument("invalid base64: wrong amount of padding");
  }

  std::string out;
  out.reserve(end / 4 * 3 + 2);
  uint32_t bits = 0;
  int count = 0;
  for (size_t i = 0; i < end; ++i) {
    int v = value[uint8_t(text[i])];
    if (v < 0) {
      return InvalidArgument("invalid base64: unexpected character at offset " +
                             std::to_string(i));
    }
    bits = bits << 6 | uint32_t(v);
    if (++count == 4) {
      out += char(bits >> 16 & 0xff);
      out += char(bits >> 8 & 0xff);
      out += char(bits & 0xff);
      bits = 0;
      count = 0;
    }
  }
  if (count == 2) {
    out += char(bits >> 4 & 0xff);
  } else if (count == 3) {
    out += char(bits >> 10 & 0xff);
    out += char(bits >> 2 & 0xff);
  }
  return out;
}

}  // namespace

std::string Base64Encode(std::string_view bytes) { return Encode(bytes, kStandard, true); }
std::string Base64UrlEncode(std::string_view bytes) { return Encode(bytes, kUrlSafe, false); }
Result<std::string> Base64Decode(std::string_view text) { return Decode(text, kStandard); }
Result<std::string> Base64UrlDecode(std::string_view text) { return Decode(text, kUrlSafe); }

}  // namespace ferry
