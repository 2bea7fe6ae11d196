#include "mirror/resolved_image.h"

#include <set>

#include <nlohmann/json.hpp>

namespace ferry {
namespace {

bool PlatformMatches(const std::string& wanted, const std::string& platform) {
  return platform == wanted || platform.starts_with(wanted + "/");
}

Status CollectChildren(ImageSource& source, const std::string& repository, const Manifest& manifest,
                       const std::string& what, int depth, std::vector<Manifest>* out) {
  if (manifest.kind != ManifestKind::kIndex) return Status::Ok();
  if (depth > 4) return Unsupported(what + ": indexes nested deeper than 4 levels");
  for (const Descriptor& child : manifest.children) {
    Result<Manifest> m = source.GetManifest(repository, child.digest);
    if (!m.ok()) return m.status().WithContext(what + ": child manifest for " + child.platform);
    FERRY_RETURN_IF_ERROR(CollectChildren(source, repository, *m, what, depth + 1, out));
    out->push_back(std::move(*m));
  }
  return Status::Ok();
}

}  // namespace

Result<ResolvedImage> ResolveImage(ImageSource& source, const std::string& repository, const std::string& identifier,
                                   const std::vector<std::string>& platforms, const std::string& what) {
  Result<Manifest> top = source.GetManifest(repository, identifier);
  if (!top.ok()) return top.status();
  ResolvedImage image;
  if (top->kind == ManifestKind::kIndex && !platforms.empty()) {
    image.source_digest = top->digest;
    top = FilterPlatforms(*top, platforms, what);
    if (!top.ok()) return top.status();
  }
  FERRY_RETURN_IF_ERROR(CollectChildren(source, repository, *top, what, 0, &image.manifests));
  for (const Descriptor& child : top->children) image.platforms.push_back(child.platform);
  image.manifests.push_back(std::move(*top));
  // Each size is at most kMaxBlobBytes (ParseManifest checks), so only absurd counts could
  // overflow; the sum is checked all the same.
  bool overflow = false;
  std::set<std::string> seen;
  for (const Manifest& m : image.manifests) {
    overflow |= __builtin_add_overflow(image.size, static_cast<int64_t>(m.bytes.size()), &image.size);
    for (const Descriptor& blob : m.blobs)
      if (seen.insert(blob.digest).second) {
        image.blobs.push_back(blob);
        overflow |= __builtin_add_overflow(image.size, blob.size, &image.size);
      }
  }
  if (overflow) return InvalidArgument(what + ": the image's blobs add up to more bytes than 64 bits can count");
  return image;
}

Result<Manifest> FilterPlatforms(const Manifest& index, const std::vector<std::string>& platforms,
                                 const std::string& what) {
  nlohmann::json doc = nlohmann::json::parse(index.bytes, nullptr, false);
  if (!doc.is_object() || !doc.contains("manifests")) return InvalidArgument(what + ": index has no manifests");
  nlohmann::json kept = nlohmann::json::array();
  for (size_t i = 0; i < index.children.size(); ++i)
    for (const std::string& wanted : platforms)
      if (PlatformMatches(wanted, index.children[i].platform)) {
        kept.push_back(doc["manifests"][i]);
        break;
      }
  if (kept.empty()) {
    std::string offered;
    for (const Descriptor& c : index.children) offered += (offered.empty() ? "" : ", ") + c.platform;
    return NotFound(what + ": none of the requested platforms is in the index (it has " + offered + ")");
  }
  doc["manifests"] = kept;
  return ParseManifest(doc.dump(3), index.media_type, what);
}

}  // namespace ferry
