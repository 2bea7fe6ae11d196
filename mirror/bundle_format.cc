#include "mirror/bundle_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "mirror/image_reference.h"

namespace ferry {

bool bundle::IsMetadataEntry(const std::string& path) {
  return path == kLayoutFile || path == kIndexFile || path == kBundleFile;
}

std::string bundle::BlobEntry(const std::string& digest) { return kBlobsDir + digest.substr(7); }

using nlohmann::ordered_json;

namespace {

// Only what a reader relies on is checked: a safe entry path of its own and a sum to verify it by.
// A kind this ferry does not know is kept, so a newer ferry's bundle still loads.
Result<BundlePackage> ParsePackage(const ordered_json& item, const std::string& at) {
  if (!item.is_object()) return InvalidArgument(at + ": not a JSON object");
  for (const char* key : {"kind", "path", "sha256"})
    if (!item.contains(key) || !item[key].is_string() || item[key].get<std::string>().empty())
      return InvalidArgument(at + ": needs \"kind\", \"path\" and \"sha256\" strings");
  BundlePackage p{item["kind"].get<std::string>(), item["path"].get<std::string>(), item.value("version", ""),
                  item.value("arch", ""), item["sha256"].get<std::string>(), item.value("size", int64_t{0}), {}};
  std::string name = p.path.substr(std::min(p.path.size(), std::string_view(bundle::kFerryDir).size()));
  if (!p.path.starts_with(bundle::kFerryDir) || !IsPackageName(name))
    return InvalidArgument(at + ": path \"" + p.path + "\" is not ferry/NAME (a file name of its own)");
  if (p.sha256.size() != 64 || p.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    return InvalidArgument(at + ": sha256 is not 64 hex digits");
  if (item.contains("libraries") && item["libraries"].is_array())
    for (const auto& l : item["libraries"])
      if (l.is_string()) p.libraries.push_back(l.get<std::string>());
  return p;
}

}  // namespace

bool IsPackageName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != ".." &&
         name != "bundle.json" && name != "manifests" && name != "samples";
}

std::string BundleManifest::Serialize() const {
  ordered_json doc;
  doc["formatVersion"] = format_version;
  doc["ferryVersion"] = ferry_version;
  doc["profile"] = profile;
  doc["images"] = ordered_json::array();
  std::vector<const BundleImage*> sorted;
  for (const BundleImage& i : images) sorted.push_back(&i);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->source < b->source; });
  for (const BundleImage* i : sorted) {
    doc["images"].push_back({{"source", i->source}, {"digest", i->digest}, {"mediaType", i->media_type},
                             {"platforms", i->platforms}, {"size", i->size}});
    if (!i->source_digest.empty()) doc["images"].back()["sourceDigest"] = i->source_digest;
    if (!i->attachments.empty()) doc["images"].back()["attachments"] = AttachmentsJson(i->attachments);
  }
  if (!platform_filter.empty()) doc["platformFilter"] = platform_filter;
  doc["files"] = ordered_json::array();
  for (const BundleFile& f : files)
    doc["files"].push_back({{"name", f.name}, {"path", f.path}, {"sha256", f.sha256}, {"size", f.size}});
  if (ferry_package) {
    const BundlePackage& p = *ferry_package;
    doc["ferryPackage"] = {{"kind", p.kind}, {"path", p.path}, {"version", p.version}, {"arch", p.arch},
                           {"sha256", p.sha256}, {"size", p.size}};
    if (!p.libraries.empty()) doc["ferryPackage"]["libraries"] = p.libraries;
  }
  if (!profile_json.empty()) {
    ordered_json p = ordered_json::parse(profile_json, nullptr, false);
    if (!p.is_discarded()) doc["profileDefinition"] = p;
  }
  return doc.dump(2) + "\n";
}

Result<BundleManifest> BundleManifest::Parse(const std::string& text, const std::string& where) {
  const std::string at = where + ": " + bundle::kBundleFile;
  ordered_json doc = ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument(at + ": not a JSON object");
  if (!doc.contains("formatVersion") || !doc["formatVersion"].is_number_integer())
    return InvalidArgument(at + ": no formatVersion");
  BundleManifest m;
  m.format_version = doc["formatVersion"].get<int>();
  if (m.format_version > bundle::kFormatVersion)
    return Unsupported(at + ": format version " + std::to_string(m.format_version) + " was made by a newer ferry; " +
                       "this one reads version " + std::to_string(bundle::kFormatVersion) + " (upgrade ferry)");
  if (m.format_version < 1) return InvalidArgument(at + ": invalid format version " + std::to_string(m.format_version));
  m.ferry_version = doc.value("ferryVersion", "");
  m.profile = doc.value("profile", "");
  if (doc.contains("profileDefinition")) m.profile_json = doc["profileDefinition"].dump(2);
  if (!doc.contains("images") || !doc["images"].is_array()) return InvalidArgument(at + ": no \"images\" list");
  int index = 0;
  for (const ordered_json& item : doc["images"]) {
    std::string here = at + ": images[" + std::to_string(index++) + "]";
    if (!item.is_object() || !item.contains("source") || !item["source"].is_string() || !item.contains("digest") ||
        !item["digest"].is_string())
      return InvalidArgument(here + ": needs \"source\" and \"digest\" strings");
    BundleImage image{item["source"].get<std::string>(), item["digest"].get<std::string>(), item.value("mediaType", ""),
                      {}, item.value("size", int64_t{0})};
    if (Result<ImageReference> ref = ImageReference::Parse(image.source); !ref.ok())
      return ref.status().WithContext(here);
    if (!IsValidDigest(image.digest)) return InvalidArgument(here + ": invalid digest \"" + image.digest + "\"");
    if (item.contains("platforms") && item["platforms"].is_array())
      for (const auto& p : item["platforms"])
        if (p.is_string()) image.platforms.push_back(p.get<std::string>());
    image.source_digest = item.value("sourceDigest", "");
    if (!image.source_digest.empty() && !IsValidDigest(image.source_digest))
      return InvalidArgument(here + ": invalid sourceDigest \"" + image.source_digest + "\"");
    if (item.contains("attachments")) {
      Result<std::vector<AttachmentRecord>> attachments = ParseAttachments(item["attachments"], here);
      if (!attachments.ok()) return attachments.status();
      image.attachments = std::move(*attachments);
    }
    m.images.push_back(std::move(image));
  }
  if (doc.contains("platformFilter") && doc["platformFilter"].is_array())
    for (const auto& p : doc["platformFilter"])
      if (p.is_string()) m.platform_filter.push_back(p.get<std::string>());
  if (doc.contains("files")) {
    if (!doc["files"].is_array()) return InvalidArgument(at + ": \"files\" is not a list");
    index = 0;
    for (const ordered_json& item : doc["files"]) {
      std::string here = at + ": files[" + std::to_string(index++) + "]";
      if (!item.is_object() || !item.contains("name") || !item.contains("path") || !item.contains("sha256") ||
          !item["name"].is_string() || !item["path"].is_string() || !item["sha256"].is_string())
        return InvalidArgument(here + ": needs \"name\", \"path\" and \"sha256\" strings");
      BundleFile f{item["name"].get<std::string>(), item["path"].get<std::string>(), item["sha256"].get<std::string>(),
                   item.value("size", int64_t{0})};
      if (!f.path.starts_with(bundle::kManifestsDir) && !f.path.starts_with(bundle::kSamplesDir))
        return InvalidArgument(here + ": path \"" + f.path + "\" is outside ferry/manifests/ and ferry/samples/");
      if (f.path.find("..") != std::string::npos) return InvalidArgument(here + ": path \"" + f.path + "\" has '..'");
      if (f.sha256.size() != 64) return InvalidArgument(here + ": sha256 is not 64 hex digits");
      m.files.push_back(std::move(f));
    }
  }
  if (doc.contains("ferryPackage")) {
    Result<BundlePackage> package = ParsePackage(doc["ferryPackage"], at + ": ferryPackage");
    if (!package.ok()) return package.status();
    m.ferry_package = std::move(*package);
  }
  return m;
}

std::string LayoutIndexJson(const std::vector<LayoutEntry>& entries) {
  ordered_json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}};
  index["manifests"] = ordered_json::array();
  for (const LayoutEntry& e : entries) {
    ordered_json annotations = {{bundle::kRefNameAnnotation, e.name}};
    if (e.containerd) annotations = {{bundle::kContainerdNameAnnotation, e.name}, {bundle::kRefNameAnnotation, e.name}};
    index["manifests"].push_back({{"mediaType", e.descriptor.media_type},
                                  {"digest", e.descriptor.digest},
                                  {"size", e.descriptor.size},
                                  {"annotations", annotations}});
  }
  return index.dump(2) + "\n";
}

}  // namespace ferry
