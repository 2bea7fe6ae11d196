// What one scan of a set of release files found, kept small enough to hold for the whole set:
// every occurrence's file, byte offset and text (as an index into the distinct texts), plus each
// file's size. `ferry rewrite` needs every reference of every file before it writes anything (to
// name them and to refuse an incomplete lock); with this it parses each file once, then writes it
// by copying bytes and splicing in the replacements (ApplyEdits in rewrite/manifest_rewriter.h).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "rewrite/image_finder.h"
#include "rewrite/manifest_rewriter.h"
#include "rewrite/manifest_set.h"

namespace ferry {

class ManifestScan {
 public:
  // A reference as written in the files (one entry per distinct spelling).
  struct Text {
    std::string text;
    ImageReference ref;
  };

  // Scans every file of `set` once, in order; `each` sees every occurrence as ScanManifest gives
  // it, templated ones too (which are not kept: never rewritten). Errors are ScanManifest's.
  static Result<ManifestScan> Scan(const ManifestSet& set,
                                   const std::function<void(const ImageOccurrence&)>& each);

  // Every distinct text found, in first-seen order.
  const std::vector<Text>& texts() const { return texts_; }

  // The edits that turn file `file` (its index in the set) into its rewritten form: every
  // occurrence whose text has a replacement (replacements[i] for texts()[i]), in file order;
  // occurrences in commented examples (Confidence::kOptional) only when `include_optional`, so
  // that whether one is rewritten never depends on the other files of the run. The edits view
  // this scan and `replacements`, which must outlive them.
  std::vector<ByteEdit> EditsFor(size_t file, const std::vector<std::optional<std::string>>& replacements,
                                 bool include_optional) const;

  // OK when every edit EditsFor would make swaps one valid reference for another, each standing
  // alone as a word (SpliceProblem in manifest_rewriter.h); else InvalidArgument naming every
  // file:line:column where it would not.
  Status CheckEdits(const std::vector<std::optional<std::string>>& replacements,
                    bool include_optional) const;

  // The size file `file` had when it was scanned.
  uint64_t SizeOf(size_t file) const { return files_[file].size; }

 private:
  struct Place {
    uint64_t offset;
    uint32_t text;  // index into texts_
    uint32_t line, column;
    bool optional;  // in a commented example
    Surroundings around;
  };
  struct File {
    std::string display;
    uint64_t size = 0;
    std::vector<Place> places;  // ordered by offset
  };

  std::vector<Text> texts_;
  std::vector<File> files_;
};

}  // namespace ferry
