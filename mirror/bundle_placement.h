// Puts one blob of a bundle into every target repository that needs it: a step of `bundle load`
// that runs on a worker thread, so many blobs are checked, mounted and uploaded at once.
//
// For each repository: skipped when the registry already has the blob there (HEAD, when `check`),
// else mounted from a repository that has it (one placed before, or a hint from earlier runs), else
// uploaded from `bytes` (held in memory, already verified) or from `stream` (fed by the archive
// reader, which withholds the last bytes until the digest matched; see bundle_load.cc). A stream
// can be sent once: the other repositories then mount from the first. The job touches nothing
// shared but the registry client; the caller applies `placed` to its own records.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mirror/bundle_stream.h"
#include "mirror/manifest.h"
#include "mirror/registry_client.h"

namespace ferry {

enum class Placement { kSkipped, kMounted, kUploaded };

struct PlacementJob {
  Descriptor blob;
  std::string image;                      // the first image that needs it, for messages
  std::vector<std::string> repos;         // still to place, in order
  std::vector<std::string> mount_from;    // repositories known to hold it (placed, or hints)
  bool check = true;                      // HEAD each repository first
  std::shared_ptr<const std::string> bytes;  // the blob in memory, or null
  std::shared_ptr<BlobStream> stream;        // or its bytes as the reader goes, or null

  // Results.
  std::vector<std::pair<std::string, Placement>> placed;
  Status status;  // the first failure; kUnavailable ones may succeed when tried again
};

void RunPlacement(RegistryClient& target, PlacementJob& job);

}  // namespace ferry
