// Copies one image, exactly, from one registry to another: manifests are pushed byte for byte, so
// the digest at the destination equals the digest at the source. An index is copied with every
// platform, children before the index. Blobs go first, manifests only once all their blobs are
// there, and a final read-back checks the digest the destination reports.
#pragma once

#include <cstdint>
#include <string>

#include "mirror/blob_copier.h"
#include "mirror/image_reference.h"

namespace ferry {

struct CopyStats {
  int manifests = 0;
  int blobs_copied = 0, blobs_skipped = 0, blobs_mounted = 0;
  int64_t bytes_copied = 0, bytes_skipped = 0, bytes_mounted = 0;
};

struct CopyResult {
  std::string digest;      // of the top-level manifest, at source and destination alike
  std::string media_type;  // of the top-level manifest
  std::string destination; // the reference written: registry/repository[:tag]
  CopyStats stats;
};

// Copies `source` to `target`. If `target` has neither tag nor digest, the source's tag is used
// (or only the digest, when the source has none). If `target` names a digest, it must be the
// source's. `locations` (may be null) supplies and records mount candidates.
Result<CopyResult> CopyImage(RegistryClient& source_client, const ImageReference& source,
                             RegistryClient& target_client, const ImageReference& target,
                             BlobLocations* locations);

}  // namespace ferry
