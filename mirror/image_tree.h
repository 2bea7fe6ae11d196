// An image's manifest tree as read from a registry: the top-level manifest (an image or an index),
// every child manifest under it, and the distinct blobs they reference. What a copy or a bundle
// needs to know about one image before any blob moves.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mirror/manifest.h"
#include "mirror/registry_client.h"

namespace ferry {

struct ImageTree {
  std::vector<Manifest> manifests;          // children first (depth first), the top-level one last
  std::map<std::string, Descriptor> blobs;  // every config and layer, by digest, once
  std::vector<std::string> platforms;       // of the top-level index's children; empty for one image
  int64_t size = 0;                         // manifest bytes plus every distinct blob

  const Manifest& top() const { return manifests.back(); }
};

// Reads `identifier` (tag or digest) from `repository` and its children (indexes nested at most 4
// deep). With `platforms`, an index keeps only those entries (see FilterPlatforms) and so gets a
// new digest. `what` names the image in messages.
Result<ImageTree> ResolveImageTree(RegistryClient& source, const std::string& repository,
                                   const std::string& identifier, const std::vector<std::string>& platforms,
                                   const std::string& what);

// Keeps only the index entries whose platform is listed; returns the re-serialised index.
Result<Manifest> FilterPlatforms(const Manifest& index, const std::vector<std::string>& platforms,
                                 const std::string& what);

}  // namespace ferry
