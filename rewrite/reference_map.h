// What each image reference becomes in rewritten manifests: from a lock file written by `ferry
// mirror` (exact digests), or from a target prefix and naming strategy (the same code `ferry mirror`
// names with, so both agree). A reference keeps its form: pinned by digest stays pinned, a tag
// stays a tag unless --pin-digests asks for tag@digest.
#pragma once

#include <map>
#include <optional>
#include <set>
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

  // The replacement text for `source`, or nullopt when the map has no entry for it. A source
  // pinned by digest also matches a lock entry for the same name by tag with that digest.
  std::optional<std::string> Lookup(const ImageReference& source) const;

  // True for a reference that already points at the mirror (under the --to prefix, or a lock
  // target): a second rewrite must leave it alone.
  bool IsMirrored(const ImageReference& ref) const;

 private:
  std::map<std::string, ImageReference> by_source_;  // source.String() (or name@digest) -> target
  std::set<std::string> mirrored_;                   // lock targets' registry/repository
  std::string prefix_;                               // "registry/ns/" with --to
  bool pin_digests_ = false;
};

}  // namespace ferry
