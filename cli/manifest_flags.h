// The flags that say which release files a command reads: -f FILE|DIR|- (repeatable), or
// --profile NAME|PATH with the files taken from --manifests-dir DIR (verified against the
// profile's sha256) or downloaded into ferry's cache (verified the same way).
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "rewrite/image_finder.h"
#include "rewrite/manifest_set.h"

namespace ferry::cli {

struct ManifestFlags {
  std::vector<std::string> files;
  std::string profile, manifests_dir, base_url;
  bool include_optional = false;
};

void AddManifestFlags(CLI::App* command, ManifestFlags* flags);

// The files to read. Says on stderr which files of a directory were skipped.
Result<ManifestSet> ResolveManifests(const ManifestFlags& flags);

// Every occurrence in `set`, in file order; optional ones only when `include_optional`.
Result<std::vector<ImageOccurrence>> ScanManifests(const ManifestSet& set, bool include_optional);

// The distinct references of `occurrences`, in first-seen order.
std::vector<ImageReference> DistinctReferences(const std::vector<ImageOccurrence>& occurrences);

}  // namespace ferry::cli
