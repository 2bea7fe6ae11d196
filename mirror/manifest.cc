#include "mirror/manifest.h"

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "mirror/image_reference.h"

namespace ferry {
namespace {

using nlohmann::json;

bool IsIndexType(std::string_view t) { return t == media_type::kOciIndex || t == media_type::kDockerManifestList; }
bool IsImageType(std::string_view t) { return t == media_type::kOciManifest || t == media_type::kDockerManifest; }
bool IsSchema1(std::string_view t) {
  return t == media_type::kDockerSchema1 || t == media_type::kDockerSchema1Signed;
}

// A descriptor's digest becomes part of URLs (/v2/NAME/blobs/DIGEST) and of file and tar entry
// names (blobs/sha256/HEX), and its size sizes buffers and sums: both are checked here, where a
// hostile manifest enters, so nothing downstream sees "../x" or a size near 2^63.
Result<Descriptor> ReadDescriptor(const json& j, std::string_view what, int64_t max_size) {
  if (!j.is_object() || !j.contains("digest") || !j["digest"].is_string() || !j.contains("size") ||
      !j["size"].is_number_integer())
    return InvalidArgument(std::string(what) + ": manifest has a descriptor without a digest or size");
  Descriptor d;
  d.media_type = j.value("mediaType", "");
  d.digest = j["digest"].get<std::string>();
  if (!IsValidDigest(d.digest)) {
    std::string shown = d.digest.size() > 80 ? d.digest.substr(0, 80) + "..." : d.digest;
    for (char& c : shown)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return InvalidArgument(std::string(what) + ": manifest has a descriptor with an invalid digest \"" + shown +
                           "\" (want sha256:, sha384: or sha512: and lowercase hex of the right length)");
  }
  if (j["size"].is_number_unsigned() && j["size"].get<uint64_t>() > static_cast<uint64_t>(max_size))
    return InvalidArgument(std::string(what) + ": descriptor " + d.digest + " claims " +
                           std::to_string(j["size"].get<uint64_t>()) + " bytes, more than the " +
                           std::to_string(max_size) + " ferry accepts");
  d.size = j["size"].get<int64_t>();
  if (d.size < 0) return InvalidArgument(std::string(what) + ": descriptor " + d.digest + " has a negative size");
  if (d.size > max_size)
    return InvalidArgument(std::string(what) + ": descriptor " + d.digest + " claims " + std::to_string(d.size) +
                           " bytes, more than the " + std::to_string(max_size) + " ferry accepts");
  if (j.contains("platform") && j["platform"].is_object()) {
    const json& p = j["platform"];
    d.platform = p.value("os", "") + "/" + p.value("architecture", "");
    if (p.contains("variant") && p["variant"].is_string()) d.platform += "/" + p["variant"].get<std::string>();
  }
  if (j.contains("artifactType") && j["artifactType"].is_string()) d.artifact_type = j["artifactType"].get<std::string>();
  return d;
}

// The document's schemaVersion when it is an integer, else 0 (json::value would throw on a string).
int64_t SchemaVersion(const json& doc) {
  auto it = doc.find("schemaVersion");
  return it != doc.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
}

// The media type the manifest really has: the Content-Type when it names a manifest type,
// else the document's own mediaType field, else the shape of the document (OCI allows omitting it).
std::string ResolveMediaType(std::string_view content_type, const json& doc) {
  std::string type(content_type.substr(0, content_type.find(';')));
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (IsImageType(type) || IsIndexType(type) || IsSchema1(type)) return type;
  if (doc.contains("mediaType") && doc["mediaType"].is_string()) return doc["mediaType"].get<std::string>();
  if (SchemaVersion(doc) == 1) return std::string(media_type::kDockerSchema1);
  if (doc.contains("manifests")) return std::string(media_type::kOciIndex);
  if (doc.contains("layers") && doc.contains("config")) return std::string(media_type::kOciManifest);
  return type;
}

}  // namespace

std::string ManifestAcceptHeader() {
  return "Accept: " + std::string(media_type::kOciIndex) + ", " + std::string(media_type::kOciManifest) + ", " +
         std::string(media_type::kDockerManifestList) + ", " + std::string(media_type::kDockerManifest) + ", " +
         std::string(media_type::kDockerSchema1Signed) + ", " + std::string(media_type::kDockerSchema1);
}

Descriptor DescriptorOf(const Manifest& manifest) {
  return {manifest.media_type, manifest.digest, static_cast<int64_t>(manifest.bytes.size()), ""};
}

Result<Manifest> ParseManifest(std::string bytes, std::string_view content_type, std::string_view what) {
  const std::string name(what);
  if (bytes.size() > kMaxManifestBytes)
    return InvalidArgument(name + ": manifest is " + std::to_string(bytes.size()) +
                           " bytes, over the 4 MiB limit registries enforce; refusing it");
  json doc = json::parse(bytes, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return InvalidArgument(name + ": manifest is not a JSON object");

  Manifest m;
  m.media_type = ResolveMediaType(content_type, doc);
  if (IsSchema1(m.media_type) || SchemaVersion(doc) == 1)
    return Unsupported(name + ": Docker schema 1 manifest; it cannot be copied digest-exact (schema 1 embeds " +
                       "its name and signature, and current registries refuse or rewrite it). Rebuild or re-push " +
                       "the image with a current client to get a schema 2 or OCI manifest");
  if (!IsImageType(m.media_type) && !IsIndexType(m.media_type))
    return Unsupported(name + ": unknown manifest media type \"" + m.media_type +
                       "\"; ferry copies Docker schema 2 and OCI manifests and indexes");

  try {
    if (IsIndexType(m.media_type)) {
      m.kind = ManifestKind::kIndex;
      if (!doc.contains("manifests") || !doc["manifests"].is_array())
        return InvalidArgument(name + ": index has no \"manifests\" list");
      for (const json& entry : doc["manifests"]) {
        auto d = ReadDescriptor(entry, name, static_cast<int64_t>(kMaxManifestBytes));
        if (!d.ok()) return d.status();
        m.children.push_back(*d);
      }
    } else {
      if (!doc.contains("config") || !doc.contains("layers") || !doc["layers"].is_array())
        return InvalidArgument(name + ": image manifest lacks \"config\" or \"layers\"");
      auto config = ReadDescriptor(doc["config"], name, kMaxBlobBytes);
      if (!config.ok()) return config.status();
      m.blobs.push_back(*config);
      for (const json& layer : doc["layers"]) {
        auto d = ReadDescriptor(layer, name, kMaxBlobBytes);
        if (!d.ok()) return d.status();
        m.blobs.push_back(*d);
      }
    }
    if (doc.contains("subject")) {
      auto subject = ReadDescriptor(doc["subject"], name, static_cast<int64_t>(kMaxManifestBytes));
      if (!subject.ok()) return subject.status();
      m.subject = *subject;
    }
    m.artifact_type = doc.value("artifactType", "");
    if (m.artifact_type.empty() && !m.blobs.empty()) m.artifact_type = m.blobs.front().media_type;
  } catch (const json::exception& e) {
    return InvalidArgument(name + ": malformed manifest: " + e.what());
  }
  m.digest = Sha256Digest(bytes);
  m.bytes = std::move(bytes);
  return m;
}

}  // namespace ferry
