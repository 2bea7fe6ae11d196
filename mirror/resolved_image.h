// An image as the copy engine sees it once its manifests are read: the top-level manifest (an image
// or an index), every child manifest under it, and the distinct blobs they reference. The one
// image graph of mirror/, whatever the source.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mirror/image_source.h"
#include "mirror/manifest.h"

namespace ferry {

struct ResolvedImage {
  std::vector<Manifest> manifests;     // children first (depth first), the top-level one last
  std::vector<Descriptor> blobs;       // every config and layer, each once, in first-seen order
  std::vector<std::string> platforms;  // of the top-level index's children; empty for one image
  int64_t size = 0;                    // manifest bytes plus every distinct blob
  // When a platform filter rewrote the top-level index: the digest it had at the source.
  std::string source_digest;

  const Manifest& top() const { return manifests.back(); }
};

// Reads `identifier` (tag or digest) from `repository` of `source`, and its children (indexes
// nested at most 4 deep). With `platforms`, an index keeps only those entries (FilterPlatforms) and
// so gets a new digest. `what` names the image in messages.
Result<ResolvedImage> ResolveImage(ImageSource& source, const std::string& repository, const std::string& identifier,
                                   const std::vector<std::string>& platforms, const std::string& what);

// Keeps only the index entries whose platform is listed ("linux/arm64" also keeps
// "linux/arm64/v8"); returns the re-serialised index.
Result<Manifest> FilterPlatforms(const Manifest& index, const std::vector<std::string>& platforms,
                                 const std::string& what);

}  // namespace ferry
