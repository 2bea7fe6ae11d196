// Fuzz target: image references as users and release files write them. Besides not crashing,
// a parsed reference must print back to itself (String() and Familiar() re-parse equal).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "mirror/image_reference.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ferry::Result<ferry::ImageReference> ref = ferry::ImageReference::Parse(text);
  if (!ref.ok()) return 0;
  for (const std::string& printed : {ref->String(), ref->Familiar()}) {
    ferry::Result<ferry::ImageReference> again = ferry::ImageReference::Parse(printed);
    if (!again.ok() || !(*again == *ref)) std::abort();
  }
  (void)ref->ApiHost();
  (void)ref->IsLoopback();
  return 0;
}
