#include "mirror/image_tree.h"

#include <nlohmann/json.hpp>

namespace ferry {
namespace {

bool PlatformMatches(const std::string& wanted, const std::string& platform) {
  return platform == wanted || platform.starts_with(wanted + "/");
}

Status CollectChildren(RegistryClient& source, const std::string& repository, const Manifest& manifest,
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

Result<ImageTree> ResolveImageTree(RegistryClient& source, const std::string& repository,
                                   const std::string& identifier, const std::vector<std::string>& platforms,
                                   const std::string& what) {
  Result<Manifest> top = source.GetManifest(repository, identifier);
  if (!top.ok()) return top.status();
  if (top->kind == ManifestKind::kIndex && !platforms.empty()) {
    top = FilterPlatforms(*top, platforms, what);
    if (!top.ok()) return top.status();
  }
  ImageTree tree;
  FERRY_RETURN_IF_ERROR(CollectChildren(source, repository, *top, what, 0, &tree.manifests));
  for (const Descriptor& child : top->children) tree.platforms.push_back(child.platform);
  tree.manifests.push_back(std::move(*top));
  // Each size is at most kMaxBlobBytes (ParseManifest checks), so only absurd counts could
  // overflow; the sum is checked all the same.
  bool overflow = false;
  for (const Manifest& m : tree.manifests) {
    overflow |= __builtin_add_overflow(tree.size, static_cast<int64_t>(m.bytes.size()), &tree.size);
    for (const Descriptor& blob : m.blobs)
      if (tree.blobs.emplace(blob.digest, blob).second) overflow |= __builtin_add_overflow(tree.size, blob.size, &tree.size);
  }
  if (overflow) return InvalidArgument(what + ": the image's blobs add up to more bytes than 64 bits can count");
  return tree;
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
