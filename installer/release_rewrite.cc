// Rewriting release files in memory for an install; see release_rewrite.h.
#include "installer/release_rewrite.h"

#include <fstream>
#include <set>
#include <sstream>

#include "rewrite/manifest_rewriter.h"

namespace ferry::installer {

Result<RewrittenRelease> RewriteRelease(const ManifestSet& set, const ReferenceMap& map, bool include_optional) {
  RewrittenRelease out;
  std::set<std::string> seen, missing;
  for (const ManifestInput& file : set.files) {
    std::ifstream in(file.path, std::ios::binary);
    if (!in) return IoError(file.display + ": cannot read the file");
    std::ostringstream text;
    Result<int> replaced = RewriteStream(in, text, file.display, [&](const ImageOccurrence& o) -> std::optional<std::string> {
      bool in_use = include_optional || o.confidence != Confidence::kOptional;
      if (!in_use) return std::nullopt;  // a commented example stays as written, as in ferry rewrite
      std::optional<std::string> target = map.IsMirrored(o.ref) ? std::nullopt : map.Lookup(o.ref);
      if (map.IsMirrored(o.ref)) {
        if (seen.insert(o.ref.String()).second) out.images.push_back(o.ref);
      } else if (!target) {
        missing.insert(o.ref.String());
      } else if (Result<ImageReference> ref = ImageReference::Parse(*target); ref.ok()) {
        if (seen.insert(ref->String()).second) out.images.push_back(*ref);
      }
      return target;
    });
    if (!replaced.ok()) return replaced.status();
    out.replaced += *replaced;
    out.files.push_back({file.display, std::move(text).str()});
  }
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += "\n  " + m;
    return InvalidArgument("no mirror reference for " + std::to_string(missing.size()) +
                           " image(s) the release uses (is the lock from ferry mirror of this profile?):" + list);
  }
  return out;
}

}  // namespace ferry::installer
