// One scan of a set of release files, remembered compactly; see manifest_scan.h.
#include "rewrite/manifest_scan.h"

#include <fstream>
#include <iostream>
#include <unordered_map>

#include "rewrite/document_pipeline.h"

namespace ferry {

Result<ManifestScan> ManifestScan::Scan(const ManifestSet& set,
                                        const std::function<void(const ImageOccurrence&)>& each) {
  ManifestScan scan;
  std::unordered_map<std::string, uint32_t> index;  // text -> its place in texts_
  for (const ManifestInput& input : set.files) {
    File& file = scan.files_.emplace_back();
    auto found = [&](const YamlDocument& doc, std::vector<ImageOccurrence>& occurrences) {
      file.size += doc.text.size();
      for (const ImageOccurrence& o : occurrences) {
        auto [it, fresh] = index.try_emplace(o.text, static_cast<uint32_t>(scan.texts_.size()));
        if (fresh) scan.texts_.push_back({o.text, o.ref});
        file.places.push_back({o.offset, it->second});
        each(o);
      }
      return Status::Ok();
    };
    if (input.path == "-") {
      FERRY_RETURN_IF_ERROR(FindImagesInStream(std::cin, input.display, found));
      continue;
    }
    std::ifstream in(input.path, std::ios::binary);
    if (!in) return IoError(input.display + ": cannot read the file");
    FERRY_RETURN_IF_ERROR(FindImagesInStream(in, input.display, found));
  }
  return scan;
}

std::vector<ByteEdit> ManifestScan::EditsFor(
    size_t file, const std::vector<std::optional<std::string>>& replacements) const {
  std::vector<ByteEdit> edits;
  for (const Place& place : files_[file].places) {
    const std::optional<std::string>& with = replacements[place.text];
    if (with) edits.push_back({place.offset, texts_[place.text].text, *with});
  }
  return edits;
}

}  // namespace ferry
