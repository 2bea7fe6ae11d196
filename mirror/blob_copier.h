// Copies one blob between registries: skip it when the destination has it, mount it when another
// repository of the destination registry has it, else stream it from source to destination.
//
// Streaming goes through a bounded pipe (no disk, memory independent of blob size). The bytes are
// hashed and counted on the way; a mismatch with the descriptor cancels the upload before it is
// committed, so nothing can reference a corrupt blob. Transient failures retry the whole transfer.
#pragma once

#include <cstdint>
#include <functional>
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

struct BlobCopyOptions {
  BlobLocations* locations = nullptr;          // mount candidates; may be null
  std::function<void(size_t bytes)> on_bytes;  // called as bytes stream; may be empty
};

// `what` names the image for messages. On success the target repository is recorded in
// options.locations, so later copies can mount from it.
Result<BlobAction> CopyBlob(const BlobEndpoint& source, const BlobEndpoint& target, const Descriptor& blob,
                            const std::string& what, const BlobCopyOptions& options = {});

}  // namespace ferry
