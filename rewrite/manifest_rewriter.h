// Finds and replaces image references in release files, surgically: only the bytes of each
// replaced reference change; comments, key order, quoting, indentation, document separators,
// trailing spaces and CRLF line endings stay exactly as they were. Works one document at a time,
// so memory follows the largest document, not the file.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "rewrite/image_finder.h"
#include "rewrite/manifest_set.h"

namespace ferry {

// Every image occurrence in one file. Errors name the file (and line, for YAML errors).
Status ScanManifest(const ManifestInput& file, const std::function<void(const ImageOccurrence&)>& each);

// The replacement text for an occurrence; nullopt leaves it as it is.
using Replacer = std::function<std::optional<std::string>(const ImageOccurrence&)>;

// Copies `in` to `out`, replacing what `replace` says. Returns how many occurrences were replaced.
Result<int> RewriteStream(std::istream& in, std::ostream& out, const std::string& name, const Replacer& replace);

// Rewrites `file` into `destination` (a path, "-" for standard output) through a temporary file
// and a rename, so a failure never leaves a truncated file. `destination` may be `file.path`.
Result<int> RewriteManifest(const ManifestInput& file, const std::string& destination, const Replacer& replace);

}  // namespace ferry
