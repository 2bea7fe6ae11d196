#include "mirror/attachments.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "mirror/image_reference.h"

namespace ferry {
namespace {

struct CosignSuffix {
  std::string_view suffix;
  AttachmentKind kind;
};
constexpr CosignSuffix kCosign[] = {{"sig", AttachmentKind::kSignature},
                                    {"att", AttachmentKind::kAttestation},
                                    {"sbom", AttachmentKind::kSbom}};

std::string Hyphenated(const std::string& digest) {
  std::string tag = digest;
  if (size_t colon = tag.find(':'); colon != std::string::npos) tag[colon] = '-';
  return tag;
}

}  // namespace

std::string_view AttachmentKindName(AttachmentKind kind) {
  switch (kind) {
    case AttachmentKind::kSignature: return "signature";
    case AttachmentKind::kAttestation: return "attestation";
    case AttachmentKind::kSbom: return "sbom";
    case AttachmentKind::kReferrer: return "referrer";
  }
  return "referrer";
}

Result<AttachmentKind> ParseAttachmentKind(std::string_view name) {
  for (AttachmentKind k : {AttachmentKind::kSignature, AttachmentKind::kAttestation, AttachmentKind::kSbom,
                           AttachmentKind::kReferrer})
    if (AttachmentKindName(k) == name) return k;
  return InvalidArgument("unknown attachment kind \"" + std::string(name) + "\"");
}

nlohmann::ordered_json AttachmentsJson(const std::vector<AttachmentRecord>& records) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const AttachmentRecord& a : records) {
    list.push_back({{"kind", a.kind}});
    if (!a.tag.empty()) list.back()["tag"] = a.tag;
    list.back()["digest"] = a.digest;
    list.back()["mediaType"] = a.media_type;
  }
  return list;
}

Result<std::vector<AttachmentRecord>> ParseAttachments(const nlohmann::ordered_json& list, const std::string& where) {
  std::vector<AttachmentRecord> records;
  if (!list.is_array()) return InvalidArgument(where + ": \"attachments\" is not a list");
  for (const auto& a : list) {
    if (!a.is_object() || !a.contains("digest") || !a["digest"].is_string() ||
        !IsValidDigest(a["digest"].get<std::string>()))
      return InvalidArgument(where + ": an attachment without a valid digest");
    auto text = [&](const char* key) { return a.contains(key) && a[key].is_string() ? a[key].get<std::string>() : ""; };
    records.push_back({text("kind"), text("tag"), a["digest"].get<std::string>(), text("mediaType")});
  }
  return records;
}

std::string CosignTag(const std::string& subject, std::string_view suffix) {
  return Hyphenated(subject) + "." + std::string(suffix);
}

std::string ReferrersTag(const std::string& subject) { return Hyphenated(subject); }

Result<std::vector<Attachment>> FindAttachments(ImageSource& source, const std::string& repository,
                                                const std::vector<std::string>& tags,
                                                const std::vector<std::string>& subjects) {
  std::set<std::string> tagged(tags.begin(), tags.end());
  std::vector<Attachment> found;
  std::set<std::string> seen;  // referrer digests, once each
  for (const std::string& subject : subjects) {
    for (const CosignSuffix& c : kCosign)
      if (std::string tag = CosignTag(subject, c.suffix); tagged.count(tag))
        found.push_back({.kind = c.kind, .subject = subject, .tag = tag});
    Result<std::optional<std::vector<Descriptor>>> api = source.Referrers(repository, subject);
    if (!api.ok()) return api.status();
    std::vector<Descriptor> referrers;
    if (api->has_value()) {
      referrers = **api;
    } else if (tagged.count(ReferrersTag(subject))) {
      Result<Manifest> index = source.GetManifest(repository, ReferrersTag(subject));
      if (!index.ok()) return index.status().WithContext("the referrers of " + subject);
      referrers = index->children;
    }
    for (const Descriptor& d : referrers)
      if (seen.insert(d.digest).second)
        found.push_back({.kind = AttachmentKind::kReferrer, .subject = subject, .digest = d.digest,
                         .artifact_type = d.artifact_type});
  }
  return found;
}

Result<std::optional<Manifest>> AddReferrer(const std::optional<Manifest>& existing, const Manifest& referrer) {
  using nlohmann::ordered_json;
  ordered_json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex},
                        {"manifests", ordered_json::array()}};
  if (existing) {
    if (std::any_of(existing->children.begin(), existing->children.end(),
                    [&](const Descriptor& d) { return d.digest == referrer.digest; }))
      return std::optional<Manifest>();
    ordered_json doc = ordered_json::parse(existing->bytes, nullptr, false);
    if (doc.is_object() && doc.contains("manifests") && doc["manifests"].is_array()) index = doc;
  }
  ordered_json entry = {{"mediaType", referrer.media_type},
                        {"digest", referrer.digest},
                        {"size", referrer.bytes.size()}};
  if (!referrer.artifact_type.empty()) entry["artifactType"] = referrer.artifact_type;
  ordered_json doc = ordered_json::parse(referrer.bytes, nullptr, false);
  if (doc.is_object() && doc.contains("annotations") && doc["annotations"].is_object())
    entry["annotations"] = doc["annotations"];
  index["manifests"].push_back(entry);
  Result<Manifest> m = ParseManifest(index.dump(), media_type::kOciIndex, "the referrers index of " +
                                                                           referrer.subject->digest);
  if (!m.ok()) return m.status();
  return std::optional<Manifest>(std::move(*m));
}

}  // namespace ferry
