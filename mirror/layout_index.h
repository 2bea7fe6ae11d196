// What a pass over an OCI image layout learns before it needs any layer: index.json (the named
// entries), ferry/bundle.json (when ferry made it) and the manifests. It is an image source that
// holds manifests only (GetManifest, ListTags), so ResolveImage walks a layout's images like any
// other; LayoutSource adds the blobs. Shared by `bundle load`, `copy oci:…`, `inspect` and `verify`,
// for ferry bundles and layouts made by other tools.
//
// Names. An index.json entry's ref name (org.opencontainers.image.ref.name, or containerd's
// io.containerd.image.name) "gcr.io/x/y:v1" is repository "gcr.io/x/y", tag "v1"; a plain "v1"
// (skopeo's oci:DIR:v1) is repository "", tag "v1" (see ParseRefName). The images of a ferry bundle
// are those of bundle.json (each must also be in index.json); of another tool's layout, the
// entries named with a full image reference, leaving out attachments (cosign's sha256-<hex>.sig,
// .att, .sbom and the referrers fallback sha256-<hex>).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/image_reference.h"
#include "mirror/image_source.h"
#include "mirror/manifest.h"

namespace ferry {

// "gcr.io/x/y:v1@sha256:…" -> {gcr.io/x/y, v1, sha256:…}; "v1" -> {"", v1}.
ImageLocator ParseRefName(const std::string& name);
// The reverse: "repository:tag" (or "repository@digest" without a tag); the tag alone when the
// repository is empty.
std::string RefName(const ImageLocator& at);
// cosign's sha256-<hex>.sig/.att/.sbom and the referrers fallback sha256-<hex>.
bool IsAttachmentTag(const std::string& tag);

// One image a layout offers.
struct LayoutImage {
  ImageReference name;    // how it is named outside: the reference the release files use
  ImageLocator at;        // where it is in the layout
  Descriptor descriptor;  // its top-level manifest
};

class LayoutIndex : public ImageSource {
 public:
  explicit LayoutIndex(std::string where) : where_(std::move(where)) {}

  // Feeds a metadata entry (oci-layout, index.json, ferry/bundle.json); other paths are ignored.
  Status AddMetadata(const std::string& path, const std::string& text);
  // Feeds a blob whose bytes matched its digest; kept when it is a manifest or an index.
  bool AddBlob(const std::string& digest, const std::string& bytes);

  bool has_index() const { return has_index_; }
  const std::optional<BundleManifest>& bundle() const { return bundle_; }
  // Needs index.json (and bundle.json, when there is one); names every image or fails saying why.
  Result<std::vector<LayoutImage>> Images() const;
  // A manifest under `root` (a digest; empty: under every index.json entry) that is not known
  // (yet); nullopt when they all are.
  std::optional<std::string> MissingManifest(const std::string& root = "") const;

  std::string Where(const std::string& repository) const override;
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository) override;

 private:
  const Manifest* Find(const std::string& digest) const;

  std::string where_;
  bool has_layout_ = false, has_index_ = false;
  std::vector<std::pair<std::string, Descriptor>> entries_;  // index.json: ref name (may be empty), descriptor
  std::optional<BundleManifest> bundle_;
  std::map<std::string, Manifest> manifests_;
};

}  // namespace ferry
