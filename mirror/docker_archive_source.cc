#include "mirror/docker_archive_source.h"

#include <nlohmann/json.hpp>

#include "common/name_groups.h"
#include "common/sha256.h"
#include "mirror/image_reference.h"

namespace ferry {
namespace {

using nlohmann::ordered_json;

constexpr int64_t kSmallFile = 1 << 20;     // configs and manifest.json are kept while learning
constexpr int64_t kSmallBudget = 32 << 20;  // all of them together
constexpr char kConfigType[] = "application/vnd.docker.container.image.v1+json";
constexpr char kLayerType[] = "application/vnd.docker.image.rootfs.diff.tar";

std::string Normalized(const std::string& name) {
  Result<ImageReference> ref = ImageReference::Parse(name);
  return ref.ok() ? ref->String() : name;
}

}  // namespace

DockerArchiveSource::DockerArchiveSource(std::unique_ptr<BundleReader> reader)
    : scanner_(std::move(reader), [this](const std::string& path) {
        auto it = digest_of_.find(path);
        return it == digest_of_.end() ? std::string() : it->second;
      }) {}

Result<std::unique_ptr<DockerArchiveSource>> DockerArchiveSource::Open(const std::string& path) {
  Result<std::unique_ptr<BundleReader>> reader = BundleReader::Open(path, /*skip_symlinks=*/true);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<DockerArchiveSource> source(new DockerArchiveSource(std::move(*reader)));
  FERRY_RETURN_IF_ERROR(source->Learn());
  return source;
}

Status DockerArchiveSource::Learn() {
  std::map<std::string, std::string> small;  // path -> bytes
  std::map<std::string, int64_t> sizes;      // path -> size, every file
  int64_t small_bytes = 0;
  FERRY_RETURN_IF_ERROR(scanner_.Learn([&](const BundleEntry& e, BundleReader& reader) -> Result<bool> {
    sizes[e.path] = e.size;
    if (e.size <= kSmallFile && small_bytes + e.size <= kSmallBudget) {
      Result<std::string> bytes = reader.ReadAll(kSmallFile);
      if (!bytes.ok()) return bytes.status();
      small_bytes += e.size;
      small[e.path] = std::move(*bytes);
    }
    return false;  // manifest.json may come last: read it all
  }));
  auto manifest = small.find("manifest.json");
  if (manifest == small.end())
    return InvalidArgument(scanner_.where() + ": no manifest.json: this is not a docker-archive (docker save) file");
  return MakeImages(manifest->second, small, sizes);
}

Status DockerArchiveSource::MakeImages(const std::string& manifest_json, std::map<std::string, std::string>& small,
                                       const std::map<std::string, int64_t>& sizes) {
  const std::string where = scanner_.where() + ": manifest.json";
  ordered_json doc = ordered_json::parse(manifest_json, nullptr, false);
  if (!doc.is_array() || doc.empty()) return InvalidArgument(where + ": not a list of images");
  for (size_t i = 0; i < doc.size(); ++i) {
    const ordered_json& entry = doc[i];
    std::string at = where + "[" + std::to_string(i) + "]";
    if (!entry.is_object() || !entry.contains("Config") || !entry["Config"].is_string() ||
        !entry.contains("Layers") || !entry["Layers"].is_array())
      return InvalidArgument(at + ": needs \"Config\" and \"Layers\"");
    std::string config_path = entry["Config"].get<std::string>();
    auto config = small.find(config_path);
    if (config == small.end())
      return InvalidArgument(at + ": config " + config_path + " is not in the archive, or larger than 1 MiB");
    ordered_json config_doc = ordered_json::parse(config->second, nullptr, false);
    if (!config_doc.is_object() || !config_doc.contains("rootfs") || !config_doc["rootfs"].contains("diff_ids") ||
        !config_doc["rootfs"]["diff_ids"].is_array())
      return InvalidArgument(at + ": config " + config_path + " has no rootfs.diff_ids");
    const ordered_json& diff_ids = config_doc["rootfs"]["diff_ids"];
    if (diff_ids.size() != entry["Layers"].size())
      return InvalidArgument(at + ": " + std::to_string(entry["Layers"].size()) + " layers but the config lists " +
                             std::to_string(diff_ids.size()) + " diff_ids");
    std::string config_digest = Sha256Digest(config->second);
    ordered_json manifest = {
        {"schemaVersion", 2},
        {"mediaType", media_type::kDockerManifest},
        {"config", {{"mediaType", kConfigType}, {"size", config->second.size()}, {"digest", config_digest}}},
        {"layers", ordered_json::array()}};
    for (size_t l = 0; l < diff_ids.size(); ++l) {
      std::string path = entry["Layers"][l].is_string() ? entry["Layers"][l].get<std::string>() : "";
      std::string digest = diff_ids[l].is_string() ? diff_ids[l].get<std::string>() : "";
      auto size = sizes.find(path);
      if (size == sizes.end()) return DataLoss(at + ": layer " + path + " is not in the archive");
      if (!IsValidDigest(digest)) return InvalidArgument(at + ": diff_id \"" + digest + "\" is not a digest");
      manifest["layers"].push_back({{"mediaType", kLayerType}, {"size", size->second}, {"digest", digest}});
      digest_of_[path] = digest;
    }
    digest_of_[config_path] = config_digest;
    scanner_.Keep(config_digest, config->second);
    Result<Manifest> parsed = ParseManifest(manifest.dump(3), media_type::kDockerManifest, at);
    if (!parsed.ok()) return parsed.status();
    Image image{{}, std::move(*parsed)};
    if (entry.contains("RepoTags") && entry["RepoTags"].is_array())
      for (const auto& t : entry["RepoTags"])
        if (t.is_string()) image.tags.push_back(t.get<std::string>());
    images_.push_back(std::move(image));
  }
  return Status::Ok();
}

Result<ImageLocator> DockerArchiveSource::Find(const std::string& name) const {
  if (name.empty()) {
    if (images_.size() == 1) return ImageLocator{"", "@0", ""};
    return InvalidArgument(scanner_.where() + " holds " + std::to_string(images_.size()) +
                           " images: name one, docker-archive:FILE:NAME:TAG or docker-archive:FILE:@N");
  }
  if (name.starts_with("@")) {
    size_t n = name.find_first_not_of("0123456789", 1) == std::string::npos && name.size() > 1
                   ? std::stoul(name.substr(1))
                   : images_.size();
    if (n >= images_.size())
      return NotFound(scanner_.where() + ": no image " + name + " (it holds " + std::to_string(images_.size()) + ")");
    return ImageLocator{"", name, ""};
  }
  std::string wanted = Normalized(name);
  std::vector<std::string> names;
  for (size_t i = 0; i < images_.size(); ++i)
    for (const std::string& tag : images_[i].tags) {
      if (Normalized(tag) == wanted) return ImageLocator{"", "@" + std::to_string(i), ""};
      names.push_back(tag);
    }
  // A `docker save` of a whole release has tens of names: the first few, and -v for all.
  return NotFound(scanner_.where() + ": no image named " + name + " (it has " +
                  (names.empty() ? "none" : NameFirstFew(names, NamesShown())) + ")");
}

std::string DockerArchiveSource::Where(const std::string& /*repository*/) const {
  return "docker-archive " + scanner_.where();
}

Result<Manifest> DockerArchiveSource::GetManifest(const std::string& /*repository*/, const std::string& identifier) {
  for (size_t i = 0; i < images_.size(); ++i)
    if (identifier == "@" + std::to_string(i) || identifier == images_[i].manifest.digest) return images_[i].manifest;
  return NotFound(Where("") + ": no image " + identifier);
}

Result<std::vector<std::string>> DockerArchiveSource::ListTags(const std::string& /*repository*/) {
  return std::vector<std::string>();  // docker save carries no signatures
}

}  // namespace ferry
