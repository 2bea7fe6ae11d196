// An OCI image layout as an image source: a ferry bundle or an oci-archive (a tar, plain or gzip
// or zstd compressed, possibly split into parts) or an OCI layout directory (skopeo's oci:DIR).
// Nothing is extracted: the source is read front to back (sequential(), see image_source.h), its
// manifests first, then its blobs in passes as the copy engine wants them.
#pragma once

#include <memory>
#include <string>

#include "mirror/archive_scanner.h"
#include "mirror/layout_index.h"

namespace ferry {

class LayoutSource : public ImageSource {
 public:
  // Opens `path` and reads until the manifests of every index.json entry are known (in a ferry
  // bundle, only its start). Unsafe entries, a truncation, a corrupt blob, an invalid bundle.json
  // or a missing manifest fail here, naming the archive and the entry. Images() then names the
  // images, when their names are full references (what `bundle load` needs).
  static Result<std::unique_ptr<LayoutSource>> Open(const std::string& path);

  const std::string& where() const { return scanner_.where(); }
  const LayoutIndex& index() const { return index_; }
  Result<std::vector<LayoutImage>> Images() const { return index_.Images(); }

  std::string Where(const std::string& repository) const override { return index_.Where(repository); }
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) override {
    return index_.GetManifest(repository, identifier);
  }
  Result<std::vector<std::string>> ListTags(const std::string& repository) override {
    return index_.ListTags(repository);
  }
  bool sequential() const override { return true; }
  Status Scan(const std::map<std::string, Descriptor>& wanted, const BlobVisitor& visit) override {
    return scanner_.Scan(wanted, visit);
  }
  int passes() const override { return scanner_.passes(); }

 private:
  explicit LayoutSource(std::unique_ptr<BundleReader> reader);
  Status Learn();

  LayoutIndex index_;
  ArchiveScanner scanner_;
};

// "sha256:<hex>" for an entry blobs/sha256/<hex>; "" for any other path.
std::string LayoutBlobDigest(const std::string& path);

}  // namespace ferry
