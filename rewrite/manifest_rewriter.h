// Finds and replaces image references in release files, surgically: only the bytes of each
// replaced reference change; comments, key order, quoting, indentation, document separators,
// trailing spaces and CRLF line endings stay exactly as they were. Works a few documents at a time
// (rewrite/document_pipeline.h), so memory follows the largest documents, not the file.
#pragma once

#include <functional>
#include <istream>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/image_finder.h"
#include "rewrite/manifest_set.h"

namespace ferry {

// Every image occurrence in one file. Errors name the file (and line, for YAML errors).
Status ScanManifest(const ManifestInput& file, const std::function<void(const ImageOccurrence&)>& each);

// The replacement text for an occurrence; nullopt leaves it as it is. Never asked about a
// templated occurrence (ImageOccurrence::templated): those stay as written.
using Replacer = std::function<std::optional<std::string>(const ImageOccurrence&)>;

// The bytes around a reference in its file: enough to tell whether a replacement stands alone as
// one word there. '\n' stands for the start or end of the text.
struct Surroundings {
  char before = '\n';
  char after[2] = {'\n', '\n'};
};
Surroundings SurroundingsAt(std::string_view text, size_t offset, size_t size);

// Why putting `replacement` where `text` stands would not swap one valid reference for another,
// each standing alone between `around` (not joined to other bytes a reference may hold, such as a
// template's ":{{"); nullopt when it would.
std::optional<std::string> SpliceProblem(std::string_view text, std::string_view replacement,
                                         const Surroundings& around);

// Copies `in` to `out`, replacing what `replace` says. Returns how many occurrences were replaced.
// A replacement that SpliceProblem refuses stops the copy: InvalidArgument naming
// file:line:column.
Result<int> RewriteStream(std::istream& in, std::ostream& out, const std::string& name, const Replacer& replace);

// Rewrites `file` into `destination` (a path, "-" for standard output) through a temporary file
// and a rename, so a failure never leaves a truncated file. `destination` may be `file.path`.
Result<int> RewriteManifest(const ManifestInput& file, const std::string& destination, const Replacer& replace);

// A replacement planned by an earlier scan (rewrite/manifest_scan.h): the bytes at `offset` of
// the file read `expected` and become `replacement`. The views must outlive the call.
struct ByteEdit {
  size_t offset = 0;
  std::string_view expected, replacement;
};

// Writes `file` to `destination` like RewriteManifest, but applies `edits` (ordered by offset,
// not overlapping) by copying bytes, without parsing the file again. `size` is the file's size
// when it was scanned. A file that no longer has that size, or does not read `expected` at an
// edit, changed since: IoError naming the file and the byte, and nothing written (to a path).
// Returns how many edits were applied.
Result<int> ApplyEdits(const ManifestInput& file, const std::string& destination, uint64_t size,
                       std::span<const ByteEdit> edits);

}  // namespace ferry
