// The release profiles built into ferry: the manifests/*.yaml files of the source tree, embedded at
// build time (manifests/CMakeLists.txt) so the binary needs no data files at run time. This module
// only holds their text; rewrite/release_profile.h parses and validates it.
#pragma once

#include <span>
#include <string_view>

namespace ferry {

struct EmbeddedProfile {
  std::string_view name;  // the file name without .yaml: "knative-1.23-kourier"
  std::string_view text;  // the file's bytes, exactly
};

// Every built-in profile, sorted by name.
std::span<const EmbeddedProfile> EmbeddedProfiles();

}  // namespace ferry
