#include "mirror/archive_scanner.h"

#include <algorithm>
#include <cstring>

namespace ferry {
namespace {

constexpr int64_t kKeepBudget = 16 << 20;

}  // namespace

Status ArchiveScanner::Learn(const Learner& learn) {
  FERRY_RETURN_IF_ERROR(reader_->Rewind());
  passes_ = 1;
  in_pass_ = true;
  BundleEntry e;
  for (;;) {
    Result<bool> more = reader_->Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) {
      in_pass_ = false;
      return Status::Ok();
    }
    if (std::string digest = digest_of_(e.path); !digest.empty()) seen_[digest] = e.size;
    Result<bool> done = learn(e, *reader_);
    if (!done.ok()) return done.status();
    if (*done) return Status::Ok();
  }
}

bool ArchiveScanner::Keep(const std::string& digest, std::string bytes) {
  int64_t size = static_cast<int64_t>(bytes.size());
  if (kept_.count(digest) || kept_bytes_ + size > kKeepBudget) return false;
  kept_bytes_ += size;
  kept_[digest] = std::move(bytes);
  return true;
}

Status ArchiveScanner::Visit(const Descriptor& blob, int64_t size, const std::string& path, const BodyReader& read,
                             const ImageSource::BlobVisitor& visit) const {
  if (size != blob.size)
    return DataLoss(where() + ": " + path + " has " + std::to_string(size) + " bytes but its descriptor says " +
                    std::to_string(blob.size) + "; the archive is corrupt");
  return visit(blob, read);
}

Status ArchiveScanner::Scan(const std::map<std::string, Descriptor>& wanted, const ImageSource::BlobVisitor& visit) {
  for (auto it = kept_.begin(); it != kept_.end();) {
    auto w = wanted.find(it->first);
    if (w == wanted.end()) {
      ++it;
      continue;
    }
    const std::string& bytes = it->second;
    size_t offset = 0;
    BodyReader read = [&](char* buffer, size_t size) -> Result<size_t> {
      size_t n = std::min(size, bytes.size() - offset);
      std::memcpy(buffer, bytes.data() + offset, n);
      offset += n;
      return n;
    };
    FERRY_RETURN_IF_ERROR(Visit(w->second, static_cast<int64_t>(bytes.size()), "blob " + it->first, read, visit));
    kept_bytes_ -= static_cast<int64_t>(bytes.size());
    it = kept_.erase(it);
  }
  if (!in_pass_) {
    FERRY_RETURN_IF_ERROR(reader_->Rewind());
    ++passes_;
    in_pass_ = true;
  }
  BundleEntry e;
  BundleReader& reader = *reader_;
  BodyReader read = [&](char* buffer, size_t size) { return reader.Read(buffer, size); };
  for (;;) {
    Result<bool> more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    std::string digest = digest_of_(e.path);
    if (digest.empty()) continue;
    seen_[digest] = e.size;
    if (auto w = wanted.find(digest); w != wanted.end()) FERRY_RETURN_IF_ERROR(Visit(w->second, e.size, e.path, read, visit));
  }
  in_pass_ = false;
  for (const auto& [digest, blob] : wanted)
    if (!seen_.count(digest))
      return DataLoss(where() + ": blob " + digest + " is not in the archive (truncated, or a missing last part?)");
  return Status::Ok();
}

}  // namespace ferry
