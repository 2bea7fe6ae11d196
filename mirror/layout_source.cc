#include "mirror/layout_source.h"

#include <cstring>

#include "common/sha256.h"

namespace ferry {

std::string LayoutBlobDigest(const std::string& path) {
  if (!path.starts_with(bundle::kBlobsDir)) return "";
  std::string hex = path.substr(std::strlen(bundle::kBlobsDir));
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  return "sha256:" + hex;
}

LayoutSource::LayoutSource(std::unique_ptr<BundleReader> reader)
    : index_(reader->where()), scanner_(std::move(reader), LayoutBlobDigest) {}

Result<std::unique_ptr<LayoutSource>> LayoutSource::Open(const std::string& path) {
  Result<std::unique_ptr<BundleReader>> reader = BundleReader::Open(path);
  if (!reader.ok()) return reader.status();
  std::unique_ptr<LayoutSource> source(new LayoutSource(std::move(*reader)));
  FERRY_RETURN_IF_ERROR(source->Learn());
  return source;
}

Status LayoutSource::Learn() {
  FERRY_RETURN_IF_ERROR(scanner_.Learn([&](const BundleEntry& e, BundleReader& reader) -> Result<bool> {
    bool learned = false;
    if (bundle::IsMetadataEntry(e.path)) {
      Result<std::string> text = reader.ReadAll(16 << 20);
      if (!text.ok()) return text.status().WithContext(e.path);
      FERRY_RETURN_IF_ERROR(index_.AddMetadata(e.path, *text));
      learned = true;
    } else if (std::string digest = LayoutBlobDigest(e.path); !digest.empty() && e.size <= bundle::kSmallEntry) {
      Result<std::string> bytes = reader.ReadAll(bundle::kSmallEntry);
      if (!bytes.ok()) return bytes.status();
      if (std::string actual = Sha256Digest(*bytes); actual != digest)
        return DataLoss(where() + ": " + e.path + ": bytes hash to " + actual + "; the archive is corrupt");
      learned = index_.AddBlob(digest, *bytes);
      if (!learned) scanner_.Keep(digest, std::move(*bytes));
    }
    return learned && index_.has_index() && !index_.MissingManifest();
  }));
  if (!index_.has_index()) return index_.Images().status();  // says what kind of file this is not
  if (std::optional<std::string> missing = index_.MissingManifest())
    return DataLoss(where() + ": manifest " + *missing + " is not in the archive (truncated, or a missing last part?)");
  return Status::Ok();
}

}  // namespace ferry
