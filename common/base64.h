// Base64 (RFC 4648): the standard alphabet for docker config "auth" values and Basic auth
// headers, the URL-safe alphabet for JWT segments.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

// Standard alphabet, padded with '='.
std::string Base64Encode(std::string_view bytes);

// URL-safe alphabet ('-' and '_'), no padding: the JWT form.
std::string Base64UrlEncode(std::string_view bytes);

// Decodes the standard alphabet; trailing '=' padding is optional. Whitespace, characters
// outside the alphabet and misplaced padding are InvalidArgument. The message never quotes
// the input, which is often a secret.
Result<std::string> Base64Decode(std::string_view text);

// Same rules for the URL-safe alphabet.
Result<std::string> Base64UrlDecode(std::string_view text);

}  // namespace ferry
