#include "mirror/bundle_contents.h"

#include <nlohmann/json.hpp>

#include <functional>
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

}  // namespace

Status BundleContents::AddMetadata(const std::string& path, const std::string& text) {
  if (path == bundle::kLayoutFile) {
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("imageLayoutVersion"))
      return InvalidArgument(where_ + ": oci-layout is not {\"imageLayoutVersion\": …}");
    has_layout_ = true;
  } else if (path == bundle::kIndexFile) {
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("manifests") || !doc["manifests"].is_array())
      return InvalidArgument(where_ + ": index.json has no \"manifests\" list");
    index_.clear();
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
      index_.push_back({name, desc});
    }
    has_index_ = true;
  } else if (path == bundle::kBundleFile) {
    Result<BundleManifest> m = BundleManifest::Parse(text, where_);
    if (!m.ok()) return m.status();
    bundle_ = std::move(*m);
  }
  return Status::Ok();
}

bool BundleContents::AddBlob(const std::string& digest, const std::string& bytes) {
  if (bytes.empty() || manifests_.count(digest)) return false;
  size_t first = bytes.find_first_not_of(" \t\r\n");
  if (first == std::string::npos || bytes[first] != '{') return false;
  Result<Manifest> m = ParseManifest(bytes, "", where_ + ": blob " + digest);
  if (!m.ok()) return false;
  manifests_.emplace(digest, std::move(*m));
  return true;
}

Result<std::vector<BundleRoot>> BundleContents::Roots() const {
  if (!has_index_)
    return InvalidArgument(where_ + ": no index.json: this is not an OCI image layout nor a ferry bundle" +
                           std::string(has_layout_ ? "" : " (no oci-layout either)"));
  std::vector<BundleRoot> roots;
  if (bundle_) {
    for (const BundleImage& image : bundle_->images) {
      const Descriptor* found = nullptr;
      for (const auto& [name, desc] : index_)
        if (desc.digest == image.digest) found = &desc;
      if (!found)
        return InvalidArgument(where_ + ": ferry/bundle.json lists " + image.source + " (" + image.digest +
                               ") but index.json does not");
      Result<ImageReference> ref = ImageReference::Parse(image.source);
      if (!ref.ok()) return ref.status().WithContext(where_ + ": ferry/bundle.json");
      roots.push_back({*ref, *found});
    }
    return roots;
  }
  int n = 0;
  for (const auto& [name, desc] : index_) {
    std::string at = where_ + ": index.json: manifests[" + std::to_string(n++) + "]";
    if (name.empty() || !LooksLikeImageName(name))
      return InvalidArgument(at + (name.empty() ? " has no image name" : " is named \"" + name + "\", a tag") +
                             "; name each image with a full reference, e.g. skopeo copy docker://SRC "
                             "oci-archive:B.tar:gcr.io/project/image:v1");
    Result<ImageReference> ref = ImageReference::Parse(name);
    if (!ref.ok()) return ref.status().WithContext(at);
    roots.push_back({*ref, desc});
  }
  if (roots.empty()) return InvalidArgument(where_ + ": index.json lists no images");
  return roots;
}

const Manifest* BundleContents::Find(const std::string& digest) const {
  auto it = manifests_.find(digest);
  return it == manifests_.end() ? nullptr : &it->second;
}

bool BundleContents::ManifestsOf(const Descriptor& root, std::vector<const Manifest*>* out) const {
  std::vector<const Manifest*> order;
  std::function<bool(const std::string&, int)> walk = [&](const std::string& digest, int depth) {
    const Manifest* m = Find(digest);
    if (!m || depth > kMaxDepth) return false;
    for (const Descriptor& child : m->children)
      if (!walk(child.digest, depth + 1)) return false;
    order.push_back(m);
    return true;
  };
  if (!walk(root.digest, 0)) return false;
  if (out) *out = std::move(order);
  return true;
}

std::string BundleContents::MissingManifest(const Descriptor& root) const {
  std::vector<std::string> stack{root.digest};
  while (!stack.empty()) {
    std::string d = stack.back();
    stack.pop_back();
    const Manifest* m = Find(d);
    if (!m) return d;
    for (const Descriptor& child : m->children) stack.push_back(child.digest);
  }
  return "";
}

std::vector<Descriptor> BundleContents::BlobsOf(const Descriptor& root) const {
  std::vector<const Manifest*> manifests;
  std::vector<Descriptor> out;
  if (!ManifestsOf(root, &manifests)) return out;
  std::set<std::string> seen;
  for (const Manifest* m : manifests)
    for (const Descriptor& b : m->blobs)
      if (seen.insert(b.digest).second) out.push_back(b);
  return out;
}

std::vector<std::string> BundleContents::PlatformsOf(const Descriptor& root) const {
  std::vector<std::string> out;
  if (const Manifest* m = Find(root.digest))
    for (const Descriptor& child : m->children)
      if (!child.platform.empty()) out.push_back(child.platform);
  return out;
}

int64_t BundleContents::SizeOf(const Descriptor& root) const {
  std::vector<const Manifest*> manifests;
  if (!ManifestsOf(root, &manifests)) return 0;
  int64_t size = 0;
  for (const Manifest* m : manifests) size += static_cast<int64_t>(m->bytes.size());
  for (const Descriptor& b : BlobsOf(root)) size += b.size;
  return size;
}

}  // namespace ferry
