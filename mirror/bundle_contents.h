// What a pass over a bundle learns before it needs any layer: the OCI layout's index.json (the
// images), ferry/bundle.json (when ferry made it) and the manifests, as an image graph. Shared by
// `bundle load`, `inspect` and `verify`, for ferry bundles and for OCI layouts made by other tools.
//
// Image names: a ferry bundle's come from bundle.json (each must also be in index.json); another
// tool's from index.json's io.containerd.image.name or org.opencontainers.image.ref.name
// annotation, which must be a full image reference (skopeo copy … oci-archive:B.tar:gcr.io/x/y:v1).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/image_reference.h"
#include "mirror/manifest.h"

namespace ferry {

struct BundleRoot {
  ImageReference source;
  Descriptor descriptor;  // the top-level manifest
};

class BundleContents {
 public:
  explicit BundleContents(std::string where) : where_(std::move(where)) {}

  // Feeds a metadata entry (oci-layout, index.json, ferry/bundle.json); other paths are ignored.
  Status AddMetadata(const std::string& path, const std::string& text);
  // Feeds a blob whose bytes matched its digest; kept when it is a manifest or an index.
  bool AddBlob(const std::string& digest, const std::string& bytes);

  bool has_index() const { return has_index_; }
  const std::optional<BundleManifest>& bundle() const { return bundle_; }
  // Needs index.json (and bundle.json, when there is one); names every image or fails saying why.
  Result<std::vector<BundleRoot>> Roots() const;

  const Manifest* Find(const std::string& digest) const;
  // `root`'s manifests in push order, children first; false while one of them is not known yet.
  bool ManifestsOf(const Descriptor& root, std::vector<const Manifest*>* out) const;
  // Every blob (config, layer) under `root`, each once; only complete once ManifestsOf is true.
  std::vector<Descriptor> BlobsOf(const Descriptor& root) const;
  // Platforms of an index's children ("linux/amd64"), and manifests plus blobs in bytes.
  std::vector<std::string> PlatformsOf(const Descriptor& root) const;
  int64_t SizeOf(const Descriptor& root) const;
  // Why ManifestsOf is false: the first manifest under `root` that is not in the bundle.
  std::string MissingManifest(const Descriptor& root) const;

 private:
  std::string where_;
  bool has_layout_ = false, has_index_ = false;
  std::vector<std::pair<std::string, Descriptor>> index_;  // image name annotation (may be empty), descriptor
  std::optional<BundleManifest> bundle_;
  std::map<std::string, Manifest> manifests_;
};

}  // namespace ferry
