#include "mirror/layout_sink.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <filesystem>

#include "common/atomic_file.h"
#include "common/local_file.h"
#include "mirror/attachments.h"
#include "mirror/layout_index.h"

namespace ferry {
namespace fs = std::filesystem;
Result<std::unique_ptr<LayoutSink>> LayoutSink::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "blobs" / "sha256", ec);
  if (ec) return IoError("cannot create the OCI layout " + dir + ": " + ec.message());
  std::unique_ptr<LayoutSink> sink(new LayoutSink(dir));
  std::string layout = dir + "/" + bundle::kLayoutFile;
  if (!fs::exists(layout, ec)) {
    std::string text = "{\"imageLayoutVersion\":\"1.0.0\"}\n";
    FERRY_RETURN_IF_ERROR(WriteFileAtomically(layout, text));
  }
  Result<std::string> index = ReadLocalFile(dir + "/" + bundle::kIndexFile);
  if (!index.ok() && index.status().code() != StatusCode::kNotFound)
    return IoError(dir + "/index.json: " + index.status().message());
  sink->index_ = nlohmann::ordered_json::parse(LayoutIndexJson({}));
  if (index.ok()) {
    LayoutIndex existing(dir);  // refuses an index.json it could not read back
    FERRY_RETURN_IF_ERROR(existing.AddMetadata(bundle::kIndexFile, *index));
    sink->index_ = nlohmann::ordered_json::parse(*index);
    for (const auto& m : sink->index_["manifests"]) {
      std::string name;
      if (m.contains("annotations") && m["annotations"].is_object())
        name = m["annotations"].value(bundle::kRefNameAnnotation, "");
      sink->entries_.push_back({name, m["digest"].get<std::string>(), m});
    }
  }
  return sink;
}

std::string LayoutSink::Where(const std::string& repository) const {
  return "OCI layout " + dir_ + (repository.empty() ? "" : " (" + repository + ")");
}

std::string LayoutSink::BlobPath(const std::string& digest) const {
  return dir_ + "/" + bundle::kBlobsDir + digest.substr(digest.find(':') + 1);
}

Result<bool> LayoutSink::HasBlob(const std::string& /*repository*/, const Descriptor& blob) {
  std::error_code ec;
  auto size = fs::file_size(BlobPath(blob.digest), ec);
  return !ec && static_cast<int64_t>(size) == blob.size;
}

Status LayoutSink::WriteBlob(const Descriptor& blob, const BodyReader& reader) {
  // The reader fails before its end on a wrong digest: the file is then never committed.
  Result<AtomicFile> file = AtomicFile::Create(BlobPath(blob.digest));
  if (!file.ok()) return file.status();
  std::vector<char> buffer(256 << 10);
  for (;;) {
    Result<size_t> n = reader(buffer.data(), buffer.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return file->Commit();
    FERRY_RETURN_IF_ERROR(file->Write(std::string_view(buffer.data(), *n)));
  }
}

Status LayoutSink::WriteBytes(const Descriptor& blob, const std::string& bytes) {
  if (Result<bool> has = HasBlob("", blob); has.ok() && *has) return Status::Ok();
  size_t offset = 0;
  return WriteBlob(blob, [&](char* buffer, size_t size) -> Result<size_t> {
    size_t n = std::min(size, bytes.size() - offset);
    std::memcpy(buffer, bytes.data() + offset, n);
    offset += n;
    return n;
  });
}

Status LayoutSink::PutBlob(const std::string& /*repository*/, const Descriptor& blob, const BodyReader& reader) {
  return WriteBlob(blob, reader);
}

Result<std::optional<std::string>> LayoutSink::ManifestDigest(const std::string& repository,
                                                             const std::string& identifier) {
  if (IsValidDigest(identifier)) {
    std::error_code ec;
    if (fs::exists(BlobPath(identifier), ec)) return std::optional<std::string>(identifier);
    return std::optional<std::string>();
  }
  std::string name = RefName({repository, identifier, ""});
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it)
    if (it->name == name) return std::optional<std::string>(it->digest);
  return std::optional<std::string>();
}

// Names `manifest` `name` in index.json, instead of whatever had that name (with mutex_ held).
void LayoutSink::Put(const std::string& name, const Manifest& manifest) {
  std::erase_if(entries_, [&](const Entry& e) { return e.name == name; });
  bool image = !IsAttachmentTag(ParseRefName(name).tag);
  auto doc = nlohmann::ordered_json::parse(LayoutIndexJson({{name, DescriptorOf(manifest), image}}));
  entries_.push_back({name, manifest.digest, doc["manifests"][0]});
}

Status LayoutSink::PutManifest(const std::string& repository, const std::string& identifier,
                               const Manifest& manifest) {
  FERRY_RETURN_IF_ERROR(WriteBytes(DescriptorOf(manifest), manifest.bytes));
  std::lock_guard<std::mutex> lock(mutex_);
  auto name = [&](const std::string& tag) { return RefName({repository, tag, ""}); };
  if (!IsValidDigest(identifier)) Put(name(identifier), manifest);
  if (!manifest.subject) return Status::Ok();
  // The subject's referrers, as a registry without the Referrers API keeps them.
  std::string ref = name(ReferrersTag(manifest.subject->digest));
  std::optional<Manifest> existing;
  for (const Entry& e : entries_)
    if (e.name == ref) {
      Result<std::string> bytes = ReadLocalFile(BlobPath(e.digest));
      if (!bytes.ok()) return IoError(Where(repository) + ": " + ref + ": " + bytes.status().message());
      Result<Manifest> index = ParseManifest(*bytes, media_type::kOciIndex, ref);
      if (!index.ok()) return index.status();
      existing = std::move(*index);
    }
  Result<std::optional<Manifest>> updated = AddReferrer(existing, manifest);
  if (!updated.ok()) return updated.status();
  if (!updated->has_value()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(WriteBytes(DescriptorOf(**updated), (*updated)->bytes));
  Put(ref, **updated);
  return Status::Ok();
}

Status LayoutSink::Finish() {
  std::string path = dir_ + "/" + bundle::kIndexFile;
  std::string text;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    index_["manifests"] = nlohmann::ordered_json::array();
    for (const Entry& e : entries_) index_["manifests"].push_back(e.json);
    text = index_.dump(2) + "\n";
  }
  return WriteFileAtomically(path, text);
}

}  // namespace ferry
