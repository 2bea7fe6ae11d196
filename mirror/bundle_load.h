// `ferry bundle load`: pushes every image of a bundle (or of another tool's OCI layout) into a
// registry, named exactly as `ferry mirror` names them, straight from the archive: no extraction.
//
// Passes over the archive. In a ferry bundle index.json, bundle.json and the manifests come before
// the layers, so one pass does it. Once every image's manifests are known, which blobs the target
// already has is checked for all of them at once (HEAD, `jobs` at a time); those are skipped, and a
// blob several target repositories need is uploaded once and mounted into the others. Then each
// blob is placed as its bytes go by: the reader hands them to an upload running on a worker thread
// (POST, then one PUT with the bytes and the digest) and goes on to the next entry, so up to `jobs`
// blobs are sent at once; all of them together buffer at most 16 MiB, so memory does not grow with
// blob size. The reader hashes every blob and withholds its last bytes until they match the
// digest, so a corrupt blob is never committed. Another tool's archive may put blobs before
// index.json: the first pass then keeps only the manifests (and up to 16 MiB of other small blobs)
// and a second pass streams what is left; a blob that a failed mount or a transient upload error
// left out is also read again then. Manifests are pushed only after the whole archive was read and
// every blob is in place, `jobs` images at once, children before their index, and read back. So a
// truncated or corrupt archive tags nothing, and running the same load again after an interruption
// finishes the job (blobs already there are skipped).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mirror/blob_locations.h"
#include "mirror/bundle_reader.h"
#include "mirror/image_lock.h"
#include "mirror/registry_client.h"
#include "mirror/target_naming.h"

namespace ferry {

struct BundleLoadOptions {
  TargetPrefix to;
  NamingOptions naming;
  BlobLocations* locations = nullptr;  // mount hints from earlier runs; may be null
  int jobs = 4;                        // requests to the target at once (blob checks, uploads, manifests)
};

struct LoadedImage {
  ImageReference source;
  ImageReference target;  // tag (or none: pushed by digest) plus the digest
  std::string media_type;
  std::vector<std::string> platforms;
  int64_t size = 0;
  bool already_present = false;  // the target already had this tag at this digest
  Status status;                 // manifest push or read-back failure for this image
};

struct BundleLoadReport {
  std::vector<LoadedImage> images;  // in bundle order
  int blobs_uploaded = 0, blobs_mounted = 0, blobs_skipped = 0;  // per blob and target repository
  int64_t bytes_uploaded = 0, bytes_mounted = 0, bytes_skipped = 0;
  int passes = 0;
};

// `target` is the client for options.to.registry. An error means the archive is unusable (unsafe
// entry, truncation, corrupt blob, invalid bundle.json, missing blob) or a blob could not be placed;
// then no manifest was pushed. Per-image manifest failures are in the report instead.
Result<BundleLoadReport> LoadBundle(BundleReader& reader, RegistryClient& target, const BundleLoadOptions& options);

// The lock entries of the images that landed.
ImageLock LockOf(const BundleLoadReport& report);

}  // namespace ferry
