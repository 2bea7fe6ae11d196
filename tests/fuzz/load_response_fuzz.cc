// Fuzz target: HTTP/1.x responses as `ferry load` reads them off a connection, fed in pieces. The
// first byte picks HEAD or GET, following redirects or not, and where the bytes are cut.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "selftest/load_response.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t control = data[0];
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  size_t left = size - 1, piece = 1 + (control >> 2);
  ferry::selftest::ResponseParser parser;
  parser.Reset((control & 1) != 0, (control & 2) != 0);
  while (left > 0) {
    size_t n = left < piece ? left : piece;
    size_t used = parser.Feed(bytes, n);
    if (used > n) std::abort();
    if (parser.malformed()) return 0;
    if (parser.complete()) parser.Reset((control & 1) != 0, (control & 2) != 0);
    if (used == 0) used = n;
    bytes += used;
    left -= used;
  }
  parser.FeedEof();
  (void)parser.status();
  return 0;
}
