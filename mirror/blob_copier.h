// Copies one blob between registries: skip it when the destination has it, mount it when another
// repository of the destination registry has it, else stream it from source to destination.
//
// Streaming goes through a bounded pipe (no disk, memory independent of blob size). The bytes are
// hashed and counted on the way; a mismatch with the descriptor cancels the upload before it is
// committed, so nothing can reference a corrupt blob. Transient failures retry the whole transfer.
#pragma once

#include <cstdint>
#include <string>

#include "mirror/blob_locations.h"
#include "mirror/manifest.h"
#include "mirror/registry_client.h"

namespace ferry {

enum class BlobAction { kSkipped, kMounted, kCopied };

struct BlobEndpoint {
  RegistryClient* client;
  std::string repository;
};

// `locations` may be null. `what` names the image for messages.
Result<BlobAction> CopyBlob(const BlobEndpoint& source, const BlobEndpoint& target, const Descriptor& blob,
                            BlobLocations* locations, const std::string& what);

}  // namespace ferry
