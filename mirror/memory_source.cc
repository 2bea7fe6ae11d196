#include "mirror/memory_source.h"

#include <algorithm>

#include "common/sha256.h"

namespace ferry {

void MemorySource::AddManifest(const std::string& repository, const std::string& tag, Manifest manifest) {
  if (!tag.empty()) tags_[{repository, tag}] = manifest.digest;
  std::string digest = manifest.digest;
  manifests_.emplace(digest, std::move(manifest));
}

void MemorySource::AddBlob(std::string bytes) {
  std::string digest = Sha256Digest(bytes);
  blobs_.emplace(digest, std::move(bytes));
}

std::string MemorySource::Where(const std::string& repository) const {
  return where_ + (repository.empty() ? "" : " (" + repository + ")");
}

Result<Manifest> MemorySource::GetManifest(const std::string& repository, const std::string& identifier) {
  std::string digest = identifier;
  if (auto it = tags_.find({repository, identifier}); it != tags_.end()) digest = it->second;
  auto it = manifests_.find(digest);
  if (it == manifests_.end()) return NotFound(Where(repository) + ": no image " + identifier);
  return it->second;
}

Result<std::vector<std::string>> MemorySource::ListTags(const std::string& repository) {
  std::vector<std::string> tags;
  for (const auto& [key, digest] : tags_)
    if (key.first == repository) tags.push_back(key.second);
  return tags;
}

Status MemorySource::ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                              const BodyWriter& writer) {
  auto it = blobs_.find(blob.digest);
  if (it == blobs_.end()) return NotFound(Where(repository) + ": no blob " + blob.digest);
  const std::string& bytes = it->second;
  for (size_t at = static_cast<size_t>(std::max<int64_t>(0, offset)); at < bytes.size(); at += 1 << 20)
    FERRY_RETURN_IF_ERROR(writer(std::string_view(bytes).substr(at, 1 << 20)));
  return Status::Ok();
}

}  // namespace ferry
