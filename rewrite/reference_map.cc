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
  for (const LockEntry& e : lock.images) map.by_source_[e.source.String()] = Replacement(e.source, e.target, pin_digests);
  return map;
}

Result<ReferenceMap> ReferenceMap::FromNaming(const std::vector<ImageReference>& sources, const TargetPrefix& to,
                                             const NamingOptions& naming) {
  Result<std::vector<ImageReference>> targets = PlanTargets(sources, to, naming);
  if (!targets.ok()) return targets.status();
  ReferenceMap map;
  for (size_t i = 0; i < sources.size(); ++i)
    map.by_source_[sources[i].String()] = Replacement(sources[i], (*targets)[i], /*pin_digests=*/false);
  return map;
}

std::optional<std::string> ReferenceMap::Lookup(const ImageReference& source) const {
  auto it = by_source_.find(source.String());
  if (it == by_source_.end()) return std::nullopt;
  return it->second;
}

}  // namespace ferry
