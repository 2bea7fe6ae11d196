#include "mirror/bundle_load.h"

#include <cstring>
#include <map>
#include <set>

#include "common/log.h"
#include "common/sha256.h"
#include "mirror/bundle_contents.h"

namespace ferry {
namespace {

constexpr int64_t kSmallBlob = 4 << 20;
constexpr int64_t kMaxPending = 32 << 20;  // other small blobs kept while their manifest is unknown
constexpr int kMaxPasses = 4;

struct PlannedImage {
  BundleRoot root;
  ImageReference target;
  bool expanded = false;  // its blobs are in needs_
};

struct BlobNeed {
  Descriptor blob;
  std::set<std::string> repos, placed;
  std::string image;  // the first image that needs it, for messages
  bool Done() const { return placed.size() == repos.size(); }
};

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class BundleLoad {
 public:
  BundleLoad(BundleReader& reader, RegistryClient& target, const BundleLoadOptions& options)
      : reader_(reader), target_(target), options_(options), contents_(reader.where()) {}

  Result<BundleLoadReport> Run() {
    size_t left = SIZE_MAX;
    for (int pass = 1;; ++pass) {
      report_.passes = pass;
      FERRY_RETURN_IF_ERROR(Pass(pass));
      if (pass == 1) FERRY_RETURN_IF_ERROR(AfterFirstPass());
      for (auto& [digest, need] : needs_) FERRY_RETURN_IF_ERROR(Settle(need, nullptr, nullptr));
      size_t now = Unplaced();
      if (now == 0) break;
      if (now >= left || pass >= kMaxPasses)
        return Unavailable(where() + ": " + std::to_string(now) + " blobs could not be placed at registry " +
                           target_.registry() + " after " + std::to_string(pass) + " passes; run the load again");
      left = now;
    }
    PushManifests();
    return std::move(report_);
  }

 private:
  const std::string& where() const { return reader_.where(); }

  Status Pass(int pass) {
    FERRY_RETURN_IF_ERROR(reader_.Rewind());
    BundleEntry e;
    for (;;) {
      Result<bool> more = reader_.Next(&e);
      if (!more.ok()) return more.status();
      if (!*more) return Status::Ok();
      if (e.path == bundle::kLayoutFile || e.path == bundle::kIndexFile || e.path == bundle::kBundleFile) {
        if (pass > 1) continue;
        Result<std::string> text = reader_.ReadAll(16 << 20);
        if (!text.ok()) return text.status().WithContext(e.path);
        FERRY_RETURN_IF_ERROR(contents_.AddMetadata(e.path, *text));
      } else if (e.path.starts_with(bundle::kBlobsDir) && IsHex64(e.path.substr(std::strlen(bundle::kBlobsDir)))) {
        std::string digest = "sha256:" + e.path.substr(std::strlen(bundle::kBlobsDir));
        seen_[digest] = e.size;
        if (!planned_ && contents_.has_index()) FERRY_RETURN_IF_ERROR(Plan());
        FERRY_RETURN_IF_ERROR(OnBlob(e, digest, pass));
      }
    }
  }

  Status OnBlob(const BundleEntry& e, const std::string& digest, int pass) {
    auto need = needs_.find(digest);
    if (need != needs_.end() && !need->second.Done()) return Place(need->second, e, nullptr);
    if (e.size > kSmallBlob || pass > 1) return Status::Ok();
    Result<std::string> bytes = reader_.ReadAll(kSmallBlob);
    if (!bytes.ok()) return bytes.status();
    if (std::string actual = Sha256Digest(*bytes); actual != digest)
      return DataLoss(where() + ": " + e.path + ": bytes hash to " + actual + "; the archive is corrupt");
    if (contents_.AddBlob(digest, *bytes)) return Expand();
    if (pending_bytes_ + e.size <= kMaxPending) {
      pending_bytes_ += e.size;
      pending_[digest] = std::move(*bytes);
    }
    return Status::Ok();
  }

  Status Plan() {
    Result<std::vector<BundleRoot>> roots = contents_.Roots();
    if (!roots.ok()) return roots.status();
    std::vector<ImageReference> sources;
    for (const BundleRoot& r : *roots) sources.push_back(r.source);
    Result<std::vector<ImageReference>> targets = PlanTargets(sources, options_.to, options_.naming);
    if (!targets.ok()) return targets.status();
    for (size_t i = 0; i < roots->size(); ++i) {
      ImageReference target = (*targets)[i];
      target.digest.clear();
      images_.push_back({(*roots)[i], target});
    }
    planned_ = true;
    return Expand();
  }

  Status AfterFirstPass() {
    if (!planned_) FERRY_RETURN_IF_ERROR(Plan());
    Result<std::vector<BundleRoot>> roots = contents_.Roots();  // bundle.json may have come after the blobs
    if (!roots.ok()) return roots.status();
    for (size_t i = 0; i < roots->size(); ++i)
      if (i >= images_.size() || !((*roots)[i].source == images_[i].root.source))
        return InvalidArgument(where() + ": index.json and ferry/bundle.json name different images");
    for (const PlannedImage& image : images_)
      if (!image.expanded)
        return DataLoss(where() + ": image " + image.root.source.String() + ": manifest " +
                        contents_.MissingManifest(image.root.descriptor) +
                        " is not in the archive (truncated, or a missing last part?)");
    for (const auto& [digest, need] : needs_)
      if (!seen_.count(digest))
        return DataLoss(where() + ": image " + need.image + ": blob " + digest +
                        " is not in the archive (truncated, or a missing last part?)");
    pending_.clear();
    return Status::Ok();
  }

  // Records the blobs of images whose manifests are all known; places those already read.
  Status Expand() {
    if (!planned_) return Status::Ok();
    for (PlannedImage& image : images_) {
      if (image.expanded || !contents_.ManifestsOf(image.root.descriptor, nullptr)) continue;
      image.expanded = true;
      for (const Descriptor& b : contents_.BlobsOf(image.root.descriptor)) {
        BlobNeed& need = needs_[b.digest];
        if (need.repos.empty()) need = {b, {}, {}, image.root.source.String()};
        need.repos.insert(image.target.repository);
      }
    }
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto need = needs_.find(it->first);
      if (need == needs_.end()) {
        ++it;
        continue;
      }
      BundleEntry e{std::string(bundle::kBlobsDir) + it->first.substr(7), static_cast<int64_t>(it->second.size()), 0};
      FERRY_RETURN_IF_ERROR(Place(need->second, e, &it->second));
      pending_bytes_ -= static_cast<int64_t>(it->second.size());
      it = pending_.erase(it);
    }
    return Status::Ok();
  }

  // Puts `need` into every repository that needs it: skipped when there, else mounted from a
  // repository that has it, else uploaded from `bytes` or the current entry (when `e` is given).
  Status Settle(BlobNeed& need, const BundleEntry* e, const std::string* bytes) {
    for (const std::string& repo : need.repos) {
      if (need.placed.count(repo)) continue;
      Result<bool> has = target_.HasBlob(repo, need.blob.digest);
      if (!has.ok()) return has.status();
      if (*has) Placed(need, repo, report_.blobs_skipped, report_.bytes_skipped);
    }
    for (const std::string& repo : need.repos) {
      if (need.placed.count(repo)) continue;
      std::vector<std::string> from(need.placed.begin(), need.placed.end());
      if (options_.locations)
        for (const std::string& r : options_.locations->Find(target_.registry(), need.blob.digest)) from.push_back(r);
      for (const std::string& source : from) {
        if (source == repo) continue;
        Result<bool> mounted = target_.MountBlob(repo, need.blob.digest, source);
        if (!mounted.ok()) return mounted.status();
        if (*mounted) {
          Placed(need, repo, report_.blobs_mounted, report_.bytes_mounted);
          break;
        }
      }
      if (need.placed.count(repo) || !e) continue;
      Status s = Upload(need, repo, *e, bytes);
      if (s.code() == StatusCode::kUnavailable && !bytes) {
        Log(LogLevel::kWarning, s.message() + "; blob " + need.blob.digest + " will be read again");
        return Status::Ok();
      }
      FERRY_RETURN_IF_ERROR(s);
      Placed(need, repo, report_.blobs_uploaded, report_.bytes_uploaded);
      if (!bytes) e = nullptr;  // the stream is spent; the others mount from here
    }
    return Status::Ok();
  }

  Status Place(BlobNeed& need, const BundleEntry& e, const std::string* bytes) {
    if (e.size != need.blob.size)
      return DataLoss(where() + ": " + e.path + " has " + std::to_string(e.size) + " bytes but image " + need.image +
                      " says " + std::to_string(need.blob.size) + "; the archive is corrupt");
    return Settle(need, &e, bytes);
  }

  Status Upload(const BlobNeed& need, const std::string& repo, const BundleEntry& e, const std::string* bytes) {
    Sha256 hash;
    int64_t sent = 0;
    Status read_error;
    auto read = [&](char* buffer, size_t size) -> Result<size_t> {
      size_t n = 0;
      if (bytes) {
        n = std::min(size, bytes->size() - static_cast<size_t>(sent));
        std::memcpy(buffer, bytes->data() + sent, n);
      } else {
        Result<size_t> r = reader_.Read(buffer, size);
        if (!r.ok()) return read_error = r.status();
        n = *r;
      }
      hash.Update(std::string_view(buffer, n));
      sent += static_cast<int64_t>(n);
      return n;
    };
    auto verify = [&]() -> Status {
      std::string actual = hash.Digest();
      if (sent != need.blob.size || actual != need.blob.digest)
        return DataLoss(where() + ": " + e.path + ": bytes hash to " + actual + " (" + std::to_string(sent) +
                        " bytes); the archive is corrupt, nothing was committed for this blob");
      return Status::Ok();
    };
    Log(LogLevel::kInfo, "uploading " + need.blob.digest + " (" + std::to_string(need.blob.size) + " bytes) to " + repo);
    Status s = target_.WriteBlob(repo, need.blob, read, verify);
    return read_error.ok() ? s : read_error;
  }

  void Placed(BlobNeed& need, const std::string& repo, int& count, int64_t& bytes) {
    need.placed.insert(repo);
    ++count;
    bytes += need.blob.size;
    if (options_.locations) options_.locations->Record(target_.registry(), repo, need.blob.digest);
  }

  size_t Unplaced() const {
    size_t n = 0;
    for (const auto& [digest, need] : needs_) n += need.Done() ? 0 : 1;
    return n;
  }

  void PushManifests() {
    for (const PlannedImage& image : images_) {
      LoadedImage out{image.root.source, image.target, "", contents_.PlatformsOf(image.root.descriptor),
                      contents_.SizeOf(image.root.descriptor)};
      out.status = Push(image, &out);
      report_.images.push_back(std::move(out));
    }
  }

  Status Push(const PlannedImage& image, LoadedImage* out) {
    const std::string& repo = image.target.repository;
    const std::string& digest = image.root.descriptor.digest;
    std::string what = image.root.source.String() + " -> " + image.target.String();
    std::vector<const Manifest*> manifests;
    contents_.ManifestsOf(image.root.descriptor, &manifests);
    out->media_type = manifests.back()->media_type;
    out->target.digest = digest;
    std::string identifier = image.target.tag.empty() ? digest : image.target.tag;
    Result<std::optional<std::string>> there = target_.HeadManifest(repo, identifier);
    if (there.ok() && *there == digest) {
      out->already_present = true;
      return Status::Ok();
    }
    for (const Manifest* m : manifests)
      if (Status s = target_.PutManifest(repo, m == manifests.back() ? identifier : m->digest, *m); !s.ok())
        return s.WithContext(what);
    there = target_.HeadManifest(repo, identifier);
    if (!there.ok()) return there.status().WithContext(what);
    if (*there != digest)
      return DataLoss(what + ": the registry reports digest " + there->value_or("none") + " after the push, not " + digest);
    return Status::Ok();
  }

  BundleReader& reader_;
  RegistryClient& target_;
  const BundleLoadOptions& options_;
  BundleContents contents_;
  bool planned_ = false;
  std::vector<PlannedImage> images_;
  std::map<std::string, BlobNeed> needs_;
  std::map<std::string, int64_t> seen_;       // every blob entry of the archive, with its size
  std::map<std::string, std::string> pending_;  // small blobs read before anything needed them
  int64_t pending_bytes_ = 0;
  BundleLoadReport report_;
};

}  // namespace

Result<BundleLoadReport> LoadBundle(BundleReader& reader, RegistryClient& target, const BundleLoadOptions& options) {
  return BundleLoad(reader, target, options).Run();
}

ImageLock LockOf(const BundleLoadReport& report) {
  ImageLock lock;
  for (const LoadedImage& image : report.images)
    if (image.status.ok()) lock.images.push_back({image.source, image.target, image.media_type, image.platforms, image.size});
  return lock;
}

}  // namespace ferry
