// The flags that say which release files a command reads: -f FILE|DIR|- (repeatable), or
// --profile NAME|PATH with the files taken from --manifests-dir DIR (verified against the
// profile's sha256) or downloaded into ferry's cache (verified the same way).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
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

// The files to read. Says on stderr which files of a directory were skipped. When a profile's files
// cannot be downloaded, the error ends with one line saying what to use instead: --manifests-dir,
// --base-url, and `also` (", --bundle FILE (...)" for a command that takes one).
Result<ManifestSet> ResolveManifests(const ManifestFlags& flags, const std::string& also = "");

// Calls `each` for every occurrence in `set`, file by file, document by document, without keeping
// them: memory follows the largest document. Optional ones only when `include_optional`.
Status ForEachImage(const ManifestSet& set, bool include_optional,
                    const std::function<void(const ImageOccurrence&)>& each);

// "ferry: warning: FILE:LINE:COLUMN: templated reference, <what>: TEXT" on stderr.
void WarnTemplated(const ImageOccurrence& o, const char* what);

// The distinct references in `set`, in first-seen order: what mirror and rewrite plan with.
// `keep` filters occurrences (optional ones are dropped unless `include_optional`). Templated
// occurrences are left out, each with a warning on stderr.
Result<std::vector<ImageReference>> DistinctImages(
    const ManifestSet& set, bool include_optional,
    const std::function<bool(const ImageOccurrence&)>& keep = [](const ImageOccurrence&) { return true; });

}  // namespace ferry::cli
