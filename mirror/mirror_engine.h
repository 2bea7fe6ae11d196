// The copy scheduler: many images, one pool of workers, every blob transferred once per run.
//
// Phases, all on one TaskPool of `jobs` workers:
//  1. resolve: read each image's manifests from its source (children too) and ask the target
//     whether the image is already there with the same digest;
//  2. blobs: one task per distinct blob digest, largest first: the first target repository gets it
//     by upload (or mount, or not at all when present), the others by cross-repository mount;
//  3. manifests: as soon as an image's last blob is in place, its manifests are pushed, children
//     before the index, and the digest is read back.
// Nothing is tagged before all its blobs are verified at the target. Every image is attempted even
// when others fail; each failure is kept with its reason.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "mirror/blob_copier.h"
#include "mirror/image_reference.h"
#include "mirror/image_tree.h"
#include "mirror/registry_pool.h"

namespace ferry {

struct MirrorImage {
  ImageReference source;  // as the user named it, and as recorded
  ImageReference fetch;   // where its bytes are read from (differs with --source-mirror)
  ImageReference target;  // where it lands; its tag (or, without one, the digest) is pushed
};

struct MirrorOptions {
  int jobs = 8;
  int connections_per_registry = 8;
  std::vector<std::string> platforms;  // "os/arch[/variant]"; empty = every platform, digest-exact
  bool dry_run = false;                // resolve and compare, write nothing
};

struct ImageResult {
  MirrorImage image;
  Status status;
  bool already_present = false;
  std::string digest;      // at the target (the source's, unless a platform filter changed it)
  std::string media_type;
  std::vector<std::string> platforms;  // of an index's children; empty for a single image
  int64_t size = 0;                    // manifests plus every blob they reference
};

struct MirrorTotals {
  int images_copied = 0, images_present = 0, images_failed = 0;
  int blobs = 0;  // distinct blobs needed by images not already present
  int blobs_copied = 0, blobs_mounted = 0, blobs_skipped = 0;
  int64_t bytes_copied = 0, bytes_mounted = 0, bytes_skipped = 0;
  int64_t bytes_missing = 0;  // dry run: what a real run would transfer (once per distinct blob)
  std::chrono::milliseconds elapsed{0};
};

struct MirrorReport {
  std::vector<ImageResult> images;  // in input order
  MirrorTotals totals;
};

// Told what happens, from worker threads: implementations must be thread-safe.
class MirrorObserver {
 public:
  virtual ~MirrorObserver() = default;
  virtual void OnPlanned(const MirrorTotals& /*plan*/, int64_t /*bytes_total*/) {}
  virtual void OnImageResolved(const ImageResult& /*result*/) {}
  virtual void OnBlobStarted(const std::string& /*image*/, const Descriptor& /*blob*/) {}
  virtual void OnBytes(const std::string& /*image*/, size_t /*bytes*/) {}
  virtual void OnBlobDone(const Descriptor& /*blob*/, BlobAction /*action*/) {}
  virtual void OnImageDone(const ImageResult& /*result*/) {}
};

MirrorReport RunMirror(const std::vector<MirrorImage>& images, const MirrorOptions& options, RegistryPool& registries,
                       BlobLocations* locations, MirrorObserver* observer);

}  // namespace ferry
