#include "mirror/image_lock.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "mirror/copy_engine.h"

namespace ferry {

using nlohmann::ordered_json;

std::string ImageLock::Serialize() const {
  std::vector<const LockEntry*> sorted;
  for (const LockEntry& e : images) sorted.push_back(&e);
  std::sort(sorted.begin(), sorted.end(),
            [](const LockEntry* a, const LockEntry* b) { return a->source.String() < b->source.String(); });
  ordered_json doc;
  doc["version"] = kVersion;
  doc["images"] = ordered_json::array();
  for (const LockEntry* e : sorted) {
    doc["images"].push_back({{"source", e->source.String()},
                             {"target", e->target.String()},
                             {"digest", e->target.digest},
                             {"mediaType", e->media_type},
                             {"platforms", e->platforms},
                             {"size", e->size}});
    if (!e->attachments.empty()) doc["images"].back()["attachments"] = AttachmentsJson(e->attachments);
  }
  return doc.dump(2) + "\n";
}

Result<ImageLock> ImageLock::Parse(const std::string& text, const std::string& path) {
  ordered_json doc = ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument(path + ": not a JSON lock file");
  if (doc.value("version", 0) != kVersion)
    return Unsupported(path + ": lock file version " + doc.value("version", ordered_json()).dump() +
                       "; this ferry reads version " + std::to_string(kVersion));
  if (!doc.contains("images") || !doc["images"].is_array()) return InvalidArgument(path + ": no \"images\" list");
  ImageLock lock;
  int index = 0;
  for (const ordered_json& item : doc["images"]) {
    std::string where = path + ": images[" + std::to_string(index++) + "]";
    if (!item.is_object() || !item.contains("source") || !item.contains("target") || !item["source"].is_string() ||
        !item["target"].is_string())
      return InvalidArgument(where + ": needs \"source\" and \"target\" strings");
    Result<ImageReference> source = ImageReference::Parse(item["source"].get<std::string>());
    if (!source.ok()) return source.status().WithContext(where);
    Result<ImageReference> target = ImageReference::Parse(item["target"].get<std::string>());
    if (!target.ok()) return target.status().WithContext(where);
    if (target->digest.empty()) return InvalidArgument(where + ": target " + target->String() + " has no digest");
    LockEntry e{*source, *target, item.value("mediaType", ""), {}, item.value("size", int64_t{0})};
    if (item.contains("platforms") && item["platforms"].is_array())
      for (const auto& p : item["platforms"])
        if (p.is_string()) e.platforms.push_back(p.get<std::string>());
    if (item.contains("attachments")) {
      Result<std::vector<AttachmentRecord>> attachments = ParseAttachments(item["attachments"], where);
      if (!attachments.ok()) return attachments.status();
      e.attachments = std::move(*attachments);
    }
    lock.images.push_back(std::move(e));
  }
  return lock;
}

Result<ImageLock> ImageLock::Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read lock file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

ImageLock LockOf(const CopyReport& report) {
  ImageLock lock;
  for (const ImageResult& r : report.images) {
    if (!r.status.ok()) continue;
    Result<ImageReference> source = ImageReference::Parse(r.image.name);
    if (!source.ok()) continue;
    const std::string& repo = r.image.to.repository;
    ImageReference target{.registry = repo.substr(0, repo.find('/')), .repository = repo.substr(repo.find('/') + 1),
                          .tag = r.image.to.tag, .digest = r.digest};
    LockEntry entry{*source, target, r.media_type, r.platforms, r.size, {}};
    for (const CopiedAttachment& a : r.attachments) entry.attachments.push_back(a.Record());
    lock.images.push_back(std::move(entry));
  }
  return lock;
}

}  // namespace ferry
