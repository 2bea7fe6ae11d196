// What each image reference becomes in rewritten manifests: from a lock file written by `ferry
// mirror` (exact digests), or from a target prefix and naming strategy (the same code `ferry mirror`
// names with, so both agree). A reference keeps its form: pinned by digest stays pinned, a tag
// stays a tag unless --pin-digests asks for tag@digest.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mirror/image_lock.h"
#include "mirror/target_naming.h"

namespace ferry {

class ReferenceMap {
 public:
  // `pin_digests`: tag-only references become tag@digest (the lock knows every digest).
  static ReferenceMap FromLock(const ImageLock& lock, bool pin_digests);
  // Plans targets for `sources` (every reference the files hold) under `to`.
  static Result<ReferenceMap> FromNaming(const std::vector<ImageReference>& sources, const TargetPrefix& to,
                                         const NamingOptions& naming);

  // The replacement text for `source`, or nullopt when the map has no entry for it.
  std::optional<std::string> Lookup(const ImageReference& source) const;

 private:
  std::map<std::string, std::string> by_source_;  // source.String() -> replacement text
};

}  // namespace ferry
