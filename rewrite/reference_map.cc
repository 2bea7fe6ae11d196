#include "rewrite/reference_map.h"

namespace ferry {
namespace {

// The target written in the source's form: digest-only stays digest-only, tags stay tags.
std::string Replacement(const ImageReference& source, const ImageReference& target, bool pin_digests) {
  ImageReference out = target;
  if (!source.digest.empty() && source.tag.empty()) out.tag.clear();
  if (source.digest.empty() && !pin_digests) out.digest.clear();
  if (out.tag.empty() && out.digest.empty()) out.tag = source.tag;
  return out.String();
}

}  // namespace

ReferenceMap ReferenceMap::FromLock(const ImageLock& lock, bool pin_digests) {
  ReferenceMap map;
  map.pin_digests_ = pin_digests;
  for (const LockEntry& e : lock.images) {
    map.by_source_[e.source.String()] = e.target;
    // The same image written as name@digest where the lock has name:tag (or the reverse).
    map.by_source_.try_emplace(e.source.Name() + "@" + e.target.digest, e.target);
    map.mirrored_.insert(e.target.Name());
  }
  return map;
}

Result<ReferenceMap> ReferenceMap::FromNaming(const std::vector<ImageReference>& sources, const TargetPrefix& to,
                                             const NamingOptions& naming) {
  Result<std::vector<ImageReference>> targets = PlanTargets(sources, to, naming);
  if (!targets.ok()) return targets.status();
  ReferenceMap map;
  map.prefix_ = to.String() + "/";
  for (size_t i = 0; i < sources.size(); ++i) map.by_source_[sources[i].String()] = (*targets)[i];
  return map;
}

std::optional<std::string> ReferenceMap::Lookup(const ImageReference& source) const {
  auto it = by_source_.find(source.String());
  if (it == by_source_.end() && !source.digest.empty()) it = by_source_.find(source.Name() + "@" + source.digest);
  if (it == by_source_.end()) return std::nullopt;
  return Replacement(source, it->second, pin_digests_);
}

bool ReferenceMap::IsMirrored(const ImageReference& ref) const {
  if (!prefix_.empty()) return ref.Name().starts_with(prefix_);
  return mirrored_.count(ref.Name()) > 0;
}

}  // namespace ferry
