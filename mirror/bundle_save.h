// Saves a release into one bundle archive (format: mirror/bundle_format.h; writing:
// mirror/bundle_writer.h): every image's manifests and blobs read from its source registry, plus
// the release files and samples, with ferry/bundle.json describing them.
//
// Every image is resolved first (manifests only, `jobs` at once); any failure is reported, naming
// every failed image, before the archive is created. Then the entries are written in the documented
// order: oci-layout, index.json, ferry/bundle.json, ferry/manifests/*, ferry/samples/*, then the
// manifest and config blobs, then the layers (each group sorted by name; each blob once, however
// many images share it). Blobs stream from the registry into the archive one at a time: no
// temporary copy, memory independent of blob size. A transfer cut short is resumed by reading the
// blob again and skipping what was written. A blob whose bytes do not match its digest, or any
// other failure, removes the archive's temporary files and returns the error: nothing is left.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/bundle_writer.h"
#include "mirror/image_reference.h"
#include "mirror/manifest.h"
#include "mirror/registry_pool.h"

namespace ferry {

struct BundleSaveImage {
  ImageReference source;  // recorded in index.json and bundle.json
  ImageReference fetch;   // where the bytes are read from (differs with --source-mirror)
};

struct BundleSaveFile {
  std::string name;  // in the archive: ferry/manifests/NAME (or ferry/samples/NAME); may hold '/'
  std::string path;  // on disk; or, for `text`, how messages name it
  bool sample = false;
  std::optional<std::string_view> text;  // the bytes, when built into ferry (samples); outlives the save
};

struct BundleSaveRequest {
  std::vector<BundleSaveImage> images;
  std::vector<BundleSaveFile> files;  // release files in install order, then samples
  std::string ferry_version;
  std::string profile;       // the profile's name, or empty
  std::string profile_json;  // the profile with every sum filled in, or empty
  int jobs = 8;              // images resolved at once
  // Only these platforms ("os/arch[/variant]") of multi-arch images, as `ferry mirror --platform`:
  // each index is rewritten to list only them, so it gets a new digest (recorded in bundle.json,
  // with the source's as sourceDigest). Empty = every platform, every digest as at the source.
  std::vector<std::string> platforms;
};

struct BundleSaveReport {
  BundleManifest manifest;
  BundleOutput archive;
  int blobs = 0;           // distinct blob entries (manifests included)
  int64_t blob_bytes = 0;  // their total size
};

// Told what happens, from the calling thread (resolution: from worker threads, so thread-safe).
class BundleSaveObserver {
 public:
  virtual ~BundleSaveObserver() = default;
  virtual void OnResolved(const BundleImage& /*image*/) {}
  virtual void OnPlanned(int /*blobs*/, int64_t /*bytes*/) {}
  virtual void OnBlobDone(const Descriptor& /*blob*/) {}
};

Result<BundleSaveReport> SaveBundle(const BundleSaveRequest& request, const std::string& path,
                                    const BundleWriterOptions& options, RegistryPool& registries,
                                    BundleSaveObserver* observer = nullptr);

}  // namespace ferry
