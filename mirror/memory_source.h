// Images held in memory as an image source: what ferry builds itself (the sample apps, see
// selftest/sample_image.h) goes through the same engine as images read from anywhere else.
#pragma once

#include <map>
#include <string>
#include <utility>

#include "mirror/image_source.h"

namespace ferry {

class MemorySource : public ImageSource {
 public:
  explicit MemorySource(std::string where) : where_(std::move(where)) {}

  // Adds a manifest, named `tag` in `repository` (an empty tag: by digest only).
  void AddManifest(const std::string& repository, const std::string& tag, Manifest manifest);
  // Adds a blob, found by the digest of `bytes`.
  void AddBlob(std::string bytes);

  std::string Where(const std::string& repository) const override;
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository) override;
  Status ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                  const BodyWriter& writer) override;

 private:
  std::string where_;
  std::map<std::pair<std::string, std::string>, std::string> tags_;  // (repository, tag) -> digest
  std::map<std::string, Manifest> manifests_;
  std::map<std::string, std::string> blobs_;
};

}  // namespace ferry
