// The release files a command works on: `-f FILE|DIR|-` arguments (a directory gives its *.yaml,
// *.yml and *.json files, sorted, recursively; other files are skipped and said so), or a profile's
// files in a directory.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ferry {

struct ManifestInput {
  std::string path;     // "-" for standard input
  std::string display;  // as messages name it
  std::string relative; // where it goes under an output directory
};

struct ManifestSet {
  std::vector<ManifestInput> files;
  std::vector<std::string> skipped;  // files in given directories that are not YAML
};

// Errors name the argument that does not exist or cannot be read.
Result<ManifestSet> CollectManifests(const std::vector<std::string>& arguments);

}  // namespace ferry
