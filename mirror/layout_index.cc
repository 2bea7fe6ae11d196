#include "mirror/layout_index.h"

#include <nlohmann/json.hpp>

#include <set>

namespace ferry {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 4;

// A name that is a full reference: "v1" or "latest" alone are only tags.
bool LooksLikeImageName(const std::string& name) {
  return name.find('/') != std::string::npos || name.find(':') != std::string::npos ||
         name.find('@') != std::string::npos;
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

}  // namespace

ImageLocator ParseRefName(const std::string& name) {
  ImageLocator at;
  std::string rest = name;
  if (size_t at_sign = rest.find('@'); at_sign != std::string::npos) {
    at.digest = rest.substr(at_sign + 1);
    rest = rest.substr(0, at_sign);
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && colon > 0 && rest.find('/', colon) == std::string::npos) {
    at.repository = rest.substr(0, colon);
    at.tag = rest.substr(colon + 1);
  } else if (at.digest.empty() || rest.find('/') == std::string::npos) {
    at.tag = rest;  // a plain tag, as skopeo's oci:DIR:TAG writes it
  } else {
    at.repository = rest;
  }
  return at;
}

std::string RefName(const ImageLocator& at) {
  if (at.repository.empty()) return at.identifier();
  return at.repository + (at.tag.empty() ? "@" + at.digest : ":" + at.tag);
}

bool IsAttachmentTag(const std::string& tag) {
  if (!tag.starts_with("sha256-") || tag.size() < 7 + 64 || !IsHex64(std::string_view(tag).substr(7, 64)))
    return false;
  std::string_view suffix = std::string_view(tag).substr(7 + 64);
  return suffix.empty() || suffix == ".sig" || suffix == ".att" || suffix == ".sbom";
}

Status LayoutIndex::AddMetadata(const std::string& path, const std::string& text) {
  if (path == bundle::kLayoutFile) {
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("imageLayoutVersion"))
      return InvalidArgument(where_ + ": oci-layout is not {\"imageLayoutVersion\": …}");
    has_layout_ = true;
  } else if (path == bundle::kIndexFile) {
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("manifests") || !doc["manifests"].is_array())
      return InvalidArgument(where_ + ": index.json has no \"manifests\" list");
    entries_.clear();
    int n = 0;
    for (const json& d : doc["manifests"]) {
      std::string at = where_ + ": index.json: manifests[" + std::to_string(n++) + "]";
      if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string() || !d.contains("size") ||
          !d["size"].is_number_integer())
        return InvalidArgument(at + ": needs a digest and a size");
      Descriptor desc{d.value("mediaType", ""), d["digest"].get<std::string>(), d["size"].get<int64_t>(), ""};
      if (!desc.digest.starts_with("sha256:") || !IsValidDigest(desc.digest))
        return InvalidArgument(at + ": digest \"" + desc.digest + "\" is not sha256:<64 hex>");
      std::string name;
      if (d.contains("annotations") && d["annotations"].is_object()) {
        const json& a = d["annotations"];
        for (const char* key : {bundle::kContainerdNameAnnotation, bundle::kRefNameAnnotation})
          if (name.empty() && a.contains(key) && a[key].is_string()) name = a[key].get<std::string>();
      }
      entries_.push_back({name, desc});
    }
    has_index_ = true;
  } else if (path == bundle::kBundleFile) {
    Result<BundleManifest> m = BundleManifest::Parse(text, where_);
    if (!m.ok()) return m.status();
    bundle_ = std::move(*m);
  }
  return Status::Ok();
}

bool LayoutIndex::AddBlob(const std::string& digest, const std::string& bytes) {
  if (bytes.empty() || manifests_.count(digest)) return false;
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || bytes[first] != '{') return false;
  Result<Manifest> m = ParseManifest(bytes, "", where_ + ": blob " + digest);
  if (!m.ok()) return false;
  manifests_.emplace(digest, std::move(*m));
  return true;
}

Result<std::vector<LayoutImage>> LayoutIndex::Images() const {
  if (!has_index_)
    return InvalidArgument(where_ + ": no index.json: this is not an OCI image layout nor a ferry bundle" +
                           std::string(has_layout_ ? "" : " (no oci-layout either)"));
  std::vector<LayoutImage> images;
  if (bundle_) {
    for (const BundleImage& image : bundle_->images) {
      const Descriptor* found = nullptr;
      for (const auto& [name, desc] : entries_)
        if (desc.digest == image.digest) found = &desc;
      if (!found)
        return InvalidArgument(where_ + ": ferry/bundle.json lists " + image.source + " (" + image.digest +
                               ") but index.json does not");
      Result<ImageReference> ref = ImageReference::Parse(image.source);
      if (!ref.ok()) return ref.status().WithContext(where_ + ": ferry/bundle.json");
      images.push_back({*ref, {ref->Name(), ref->tag, image.digest}, *found});
    }
    return images;
  }
  int n = 0;
  for (const auto& [name, desc] : entries_) {
    std::string at = where_ + ": index.json: manifests[" + std::to_string(n++) + "]";
    if (IsAttachmentTag(ParseRefName(name).tag)) continue;  // travels with its image
    if (name.empty() || !LooksLikeImageName(name))
      return InvalidArgument(at + (name.empty() ? " has no image name" : " is named \"" + name + "\", a tag") +
                             "; name each image with a full reference, e.g. skopeo copy docker://SRC "
                             "oci-archive:B.tar:gcr.io/project/image:v1");
    Result<ImageReference> ref = ImageReference::Parse(name);
    if (!ref.ok()) return ref.status().WithContext(at);
    images.push_back({*ref, {ref->Name(), ref->tag, desc.digest}, desc});
  }
  if (images.empty()) return InvalidArgument(where_ + ": index.json lists no images");
  return images;
}

std::optional<std::string> LayoutIndex::MissingManifest(const std::string& root) const {
  std::vector<std::pair<std::string, int>> stack;
  if (!root.empty()) stack.push_back({root, 0});
  for (const auto& [name, desc] : entries_)
    if (root.empty()) stack.push_back({desc.digest, 0});
  std::set<std::string> seen;
  while (!stack.empty()) {
    auto [digest, depth] = stack.back();
    stack.pop_back();
    if (!seen.insert(digest).second || depth > kMaxDepth) continue;
    const Manifest* m = Find(digest);
    if (!m) return digest;
    for (const Descriptor& child : m->children) stack.push_back({child.digest, depth + 1});
  }
  return std::nullopt;
}

const Manifest* LayoutIndex::Find(const std::string& digest) const {
  auto it = manifests_.find(digest);
  return it == manifests_.end() ? nullptr : &it->second;
}

std::string LayoutIndex::Where(const std::string& repository) const {
  return where_ + (repository.empty() ? "" : " (" + repository + ")");
}

Result<Manifest> LayoutIndex::GetManifest(const std::string& repository, const std::string& identifier) {
  std::string digest = identifier;
  if (!IsValidDigest(identifier)) {
    digest.clear();
    for (const auto& [name, desc] : entries_) {
      ImageLocator at = ParseRefName(name);
      if (at.repository == repository && at.tag == identifier) digest = desc.digest;
    }
    if (digest.empty())
      return NotFound(where_ + ": index.json names no image " + RefName({repository, identifier, ""}));
  }
  const Manifest* m = Find(digest);
  if (!m)
    return DataLoss(where_ + ": manifest " + digest + " is not in the archive (truncated, or a missing last part?)");
  return *m;
}

Result<std::vector<std::string>> LayoutIndex::ListTags(const std::string& repository) {
  std::vector<std::string> tags;
  for (const auto& [name, desc] : entries_) {
    ImageLocator at = ParseRefName(name);
    if (at.repository == repository && !at.tag.empty()) tags.push_back(at.tag);
  }
  return tags;
}

}  // namespace ferry
