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
    file.display = input.display;
    auto found = [&](const YamlDocument& doc, std::vector<ImageOccurrence>& occurrences) {
      file.size += doc.text.size();
      for (const ImageOccurrence& o : occurrences) {
        each(o);
        if (o.templated) continue;
        auto [it, fresh] = index.try_emplace(o.text, static_cast<uint32_t>(scan.texts_.size()));
        if (fresh) scan.texts_.push_back({o.text, o.ref});
        file.places.push_back({o.offset, it->second, static_cast<uint32_t>(o.line),
                               static_cast<uint32_t>(o.column), o.confidence == Confidence::kOptional,
                               SurroundingsAt(doc.text, o.offset - doc.offset, o.text.size())});
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

std::vector<ByteEdit> ManifestScan::EditsFor(size_t file,
                                             const std::vector<std::optional<std::string>>& replacements,
                                             bool include_optional) const {
  std::vector<ByteEdit> edits;
  for (const Place& place : files_[file].places) {
    if (place.optional && !include_optional) continue;
    const std::optional<std::string>& with = replacements[place.text];
    if (with) edits.push_back({place.offset, texts_[place.text].text, *with});
  }
  return edits;
}

Status ManifestScan::CheckEdits(const std::vector<std::optional<std::string>>& replacements,
                                bool include_optional) const {
  std::string problems;
  int count = 0;
  for (const File& file : files_) {
    for (const Place& place : file.places) {
      if (place.optional && !include_optional) continue;
      const std::optional<std::string>& with = replacements[place.text];
      if (!with) continue;
      std::optional<std::string> problem = SpliceProblem(texts_[place.text].text, *with, place.around);
      if (!problem) continue;
      ++count;
      problems += "\n  " + file.display + ":" + std::to_string(place.line) + ":" +
                  std::to_string(place.column) + ": " + *problem;
    }
  }
  if (count == 0) return Status::Ok();
  return InvalidArgument("refusing to rewrite " + std::to_string(count) +
                         " place(s) where the result would not be a valid reference; nothing was "
                         "written:" + problems);
}

}  // namespace ferry
