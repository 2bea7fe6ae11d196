// Fuzz target: WWW-Authenticate header values from a registry (RFC 7235 challenges).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mirror/auth_challenge.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const ferry::AuthChallenge& c : ferry::ParseWwwAuthenticate(text))
    if (c.scheme.empty()) std::abort();
  return 0;
}
