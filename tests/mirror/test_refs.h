// Test helper: an ImageReference from text, failing the test (with the parser's reason) if invalid.
#pragma once

#include <catch2/catch.hpp>
#include <string>

#include "mirror/image_reference.h"

namespace ferry {

inline ImageReference Ref(const std::string& text) {
  Result<ImageReference> ref = ImageReference::Parse(text);
  INFO(text << ": " << ref.status().ToString());
  REQUIRE(ref.ok());
  return *ref;
}

}  // namespace ferry
