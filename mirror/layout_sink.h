// An OCI image layout directory as an image sink (skopeo's oci:DIR[:REF]). Blobs are files
// blobs/sha256/<hex>, each written through common/atomic_file.h (a temporary file renamed once its
// digest matched), so the layout never holds a partial blob; a blob already there is kept. Images are named in index.json
// (org.opencontainers.image.ref.name); an entry with the same name is replaced, every other kept.
// index.json is rewritten once, atomically, by Finish(): until then no new name is visible.
// Referrers are listed under their subject's fallback tag (sha256-<hex>), as registries without the
// OCI 1.1 Referrers API keep them.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/image_sink.h"

namespace ferry {

class LayoutSink : public ImageSink {
 public:
  // Creates the directory and its oci-layout file when missing; reads an existing index.json.
  static Result<std::unique_ptr<LayoutSink>> Open(const std::string& dir);

  std::string Where(const std::string& repository) const override;
  Result<bool> HasBlob(const std::string& repository, const Descriptor& blob) override;
  Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) override;
  Result<std::optional<std::string>> ManifestDigest(const std::string& repository,
                                                    const std::string& identifier) override;
  Status PutManifest(const std::string& repository, const std::string& identifier, const Manifest& manifest) override;
  Status Finish() override;

 private:
  explicit LayoutSink(std::string dir) : dir_(std::move(dir)) {}
  std::string BlobPath(const std::string& digest) const;
  Status WriteBlob(const Descriptor& blob, const BodyReader& reader);
  Status WriteBytes(const Descriptor& blob, const std::string& bytes);

  struct Entry {
    std::string name;  // its ref name; empty for an unnamed entry of another tool
    std::string digest;
    nlohmann::ordered_json json;  // as index.json will have it (another tool's entries: unchanged)
  };
  void Put(const std::string& name, const Manifest& manifest);

  std::string dir_;
  std::mutex mutex_;
  nlohmann::ordered_json index_;  // the existing index.json, or a new one
  std::vector<Entry> entries_;    // index.json as it will be: the old entries, then the new ones
};

}  // namespace ferry
