// The release files as an install applies them: read from disk, every image reference pointed at
// the mirror in memory (the same text-preserving rewrite `ferry rewrite` does, so what install
// applies is byte for byte what `ferry rewrite` would write), plus the list of mirror images
// they use, which preflight checks exist.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "installer/manifest_objects.h"
#include "mirror/image_reference.h"
#include "rewrite/manifest_set.h"
#include "rewrite/reference_map.h"

namespace ferry::installer {

struct RewrittenRelease {
  std::vector<ManifestFile> files;     // rewritten text, named as the inputs' display names
  std::vector<ImageReference> images;  // the mirror images the files use (commented examples aside), distinct
  int replaced = 0;
};

// Rewrites each file of `set` through `map`. A reference in use that the map does not know is an
// InvalidArgument listing every such reference (the lock lacks them). References already at the
// mirror stay as they are. Commented `_example` references are rewritten only with
// `include_optional`, as `ferry rewrite` does, and then count as in use.
Result<RewrittenRelease> RewriteRelease(const ManifestSet& set, const ReferenceMap& map, bool include_optional);

}  // namespace ferry::installer
