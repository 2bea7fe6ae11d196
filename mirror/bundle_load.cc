#include "mirror/bundle_load.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "common/log.h"
#include "common/sha256.h"
#include "common/task_pool.h"
#include "mirror/bundle_contents.h"
#include "mirror/bundle_placement.h"
#include "mirror/bundle_stream.h"

namespace ferry {
namespace {

constexpr int64_t kSmallBlob = 4 << 20;
constexpr int64_t kMaxPending = 16 << 20;   // other small blobs kept while their manifest is unknown
constexpr int64_t kStreamBudget = 16 << 20; // bytes read from the archive and not yet sent, all uploads
constexpr size_t kChunk = 256 << 10;
constexpr int kMaxPasses = 4;

struct PlannedImage {
  BundleRoot root;
  ImageReference target;
  bool expanded = false;  // its blobs are in needs_
};

// One blob and the target repositories that need it. Changed on the reader thread only: placement
// jobs work on copies and their results are applied by Harvest().
struct BlobNeed {
  Descriptor blob;
  std::set<std::string> repos, placed;
  std::string image;     // the first image that needs it, for messages
  bool checked = false;  // a job has looked for it (HEAD) in its repositories
  bool busy = false;     // a placement job for it is queued or running
  bool Done() const { return placed.size() == repos.size(); }
};

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

class BundleLoad {
 public:
  BundleLoad(BundleReader& reader, RegistryClient& target, const BundleLoadOptions& options)
      : reader_(reader),
        target_(target),
        options_(options),
        contents_(reader.where()),
        budget_(kStreamBudget),
        pool_(std::max(1, options.jobs)) {}

  Result<BundleLoadReport> Run() {
    Status s = PlaceBlobs();
    Status jobs = WaitForJobs();  // every stream is closed by now, so every job ends
    if (!s.ok()) return s;
    FERRY_RETURN_IF_ERROR(jobs);
    PushManifests();
    return std::move(report_);
  }

 private:
  const std::string& where() const { return reader_.where(); }

  Status PlaceBlobs() {
    size_t left = SIZE_MAX;
    for (int pass = 1;; ++pass) {
      report_.passes = pass;
      FERRY_RETURN_IF_ERROR(Pass(pass));
      if (pass == 1) FERRY_RETURN_IF_ERROR(AfterFirstPass());
      FERRY_RETURN_IF_ERROR(WaitForJobs());
      // What a declined mount or a failed upload left out: look again, mount where possible.
      for (auto& [digest, need] : needs_)
        if (!need.Done()) Start(need, true, nullptr, nullptr);
      FERRY_RETURN_IF_ERROR(WaitForJobs());
      size_t now = Unplaced();
      if (now == 0) return Status::Ok();
      if (now >= left || pass >= kMaxPasses)
        return Unavailable(where() + ": " + std::to_string(now) + " blobs could not be placed at registry " +
                           target_.registry() + " after " + std::to_string(pass) + " passes; run the load again");
      left = now;
    }
  }

  Status Pass(int pass) {
    FERRY_RETURN_IF_ERROR(reader_.Rewind());
    BundleEntry e;
    for (;;) {
      FERRY_RETURN_IF_ERROR(Harvest());  // an upload that failed for good stops the load early
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
    if (need != needs_.end() && !need->second.Done()) {
      if (need->second.busy) return Status::Ok();  // the same blob twice in an archive
      FERRY_RETURN_IF_ERROR(CheckSize(need->second, e));
      return Stream(need->second, e);
    }
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

  // Records the blobs of images whose manifests are all known. Once every image is known: checks
  // all blobs at the target at once, then places the small ones already read.
  Status Expand() {
    if (!planned_) return Status::Ok();
    bool all = true;
    for (PlannedImage& image : images_) {
      if (!image.expanded && contents_.ManifestsOf(image.root.descriptor, nullptr)) {
        image.expanded = true;
        for (const Descriptor& b : contents_.BlobsOf(image.root.descriptor)) {
          BlobNeed& need = needs_[b.digest];
          if (need.repos.empty()) need = {b, {}, {}, image.root.source.String()};
          need.repos.insert(image.target.repository);
        }
      }
      all = all && image.expanded;
    }
    if (!all) return Status::Ok();
    for (auto& [digest, need] : needs_)
      if (!need.checked && !need.busy && !need.Done()) Start(need, true, nullptr, nullptr);
    FERRY_RETURN_IF_ERROR(WaitForJobs());
    for (auto it = pending_.begin(); it != pending_.end();) {
      auto need = needs_.find(it->first);
      if (need == needs_.end()) {
        ++it;
        continue;
      }
      pending_bytes_ -= static_cast<int64_t>(it->second.size());
      if (!need->second.Done() && !need->second.busy) {
        BundleEntry e{std::string(bundle::kBlobsDir) + it->first.substr(7), static_cast<int64_t>(it->second.size()), 0};
        FERRY_RETURN_IF_ERROR(CheckSize(need->second, e));
        Start(need->second, false, std::make_shared<const std::string>(std::move(it->second)), nullptr);
      }
      it = pending_.erase(it);
    }
    return Status::Ok();
  }

  Status CheckSize(const BlobNeed& need, const BundleEntry& e) const {
    if (e.size == need.blob.size) return Status::Ok();
    return DataLoss(where() + ": " + e.path + " has " + std::to_string(e.size) + " bytes but image " + need.image +
                    " says " + std::to_string(need.blob.size) + "; the archive is corrupt");
  }

  // Hands the current entry's bytes to an upload job as they are read. The last chunk is held back
  // until the whole blob hashed to its digest, so the upload cannot complete with corrupt bytes.
  Status Stream(BlobNeed& need, const BundleEntry& e) {
    auto stream = std::make_shared<BlobStream>(budget_);
    Start(need, !need.checked, nullptr, stream);
    Sha256 hash;
    int64_t got = 0;
    Status sending;  // the job may stop wanting bytes (the blob turned out to be there)
    std::string held;
    for (;;) {
      std::string chunk(kChunk, '\0');
      Result<size_t> n = reader_.Read(chunk.data(), chunk.size());
      if (!n.ok()) {
        stream->Close(n.status());
        return n.status();
      }
      if (*n == 0) break;
      chunk.resize(*n);
      hash.Update(chunk);
      got += static_cast<int64_t>(*n);
      if (sending.ok() && !held.empty()) sending = stream->Write(std::move(held));
      held = std::move(chunk);
    }
    std::string actual = hash.Digest();
    if (got != need.blob.size || actual != need.blob.digest) {
      Status corrupt = DataLoss(where() + ": " + e.path + ": bytes hash to " + actual + " (" + std::to_string(got) +
                                " bytes); the archive is corrupt, nothing was committed for this blob");
      stream->Close(corrupt);
      return corrupt;
    }
    if (sending.ok() && !held.empty()) sending = stream->Write(std::move(held));
    stream->Close(Status::Ok());
    return Status::Ok();
  }

  // Queues a placement job for `need` (see bundle_placement.h).
  void Start(BlobNeed& need, bool check, std::shared_ptr<const std::string> bytes, std::shared_ptr<BlobStream> stream) {
    auto job = std::make_shared<PlacementJob>();
    job->blob = need.blob;
    job->image = need.image;
    for (const std::string& repo : need.repos)
      if (!need.placed.count(repo)) job->repos.push_back(repo);
    job->mount_from.assign(need.placed.begin(), need.placed.end());
    if (options_.locations)
      for (const std::string& r : options_.locations->Find(target_.registry(), need.blob.digest))
        job->mount_from.push_back(r);
    job->check = check;
    job->bytes = std::move(bytes);
    job->stream = std::move(stream);
    need.busy = true;
    need.checked = need.checked || check;
    pool_.Post([this, job] {
      RunPlacement(target_, *job);
      std::lock_guard<std::mutex> lock(finished_mutex_);
      finished_.push_back(job);
    });
  }

  // Applies the results of the jobs that ended. The first failure that trying again cannot fix is
  // returned; a transient one leaves the blob for the next pass.
  Status Harvest() {
    std::vector<std::shared_ptr<PlacementJob>> jobs;
    {
      std::lock_guard<std::mutex> lock(finished_mutex_);
      jobs.swap(finished_);
    }
    for (const auto& job : jobs) {
      BlobNeed& need = needs_[job->blob.digest];
      need.busy = false;
      for (const auto& [repo, how] : job->placed) {
        if (how == Placement::kSkipped) Placed(need, repo, report_.blobs_skipped, report_.bytes_skipped);
        if (how == Placement::kMounted) Placed(need, repo, report_.blobs_mounted, report_.bytes_mounted);
        if (how == Placement::kUploaded) Placed(need, repo, report_.blobs_uploaded, report_.bytes_uploaded);
      }
      if (job->status.ok()) continue;
      if (job->status.code() == StatusCode::kUnavailable) {
        Log(LogLevel::kWarning, job->status.message() + "; blob " + job->blob.digest + " will be read again");
      } else if (failure_.ok()) {
        failure_ = job->status.code() == StatusCode::kDataLoss ? job->status : job->status.WithContext("image " + job->image);
      }
    }
    return failure_;
  }

  Status WaitForJobs() {
    pool_.Wait();
    return Harvest();
  }

  void Placed(BlobNeed& need, const std::string& repo, int& count, int64_t& bytes) {
    if (!need.placed.insert(repo).second) return;
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
    report_.images.resize(images_.size());
    for (size_t i = 0; i < images_.size(); ++i) {
      pool_.Post([this, i] {
        const PlannedImage& image = images_[i];
        LoadedImage& out = report_.images[i];
        out = {image.root.source, image.target, "", contents_.PlatformsOf(image.root.descriptor),
               contents_.SizeOf(image.root.descriptor)};
        out.status = Push(image, &out);
      });
    }
    pool_.Wait();
  }

  // Runs on a worker thread: reads contents_ (not changed any more) and talks to the target.
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
  Status failure_;  // the first placement failure that is not transient
  ByteBudget budget_;
  std::mutex finished_mutex_;
  std::vector<std::shared_ptr<PlacementJob>> finished_;
  TaskPool pool_;  // last: destroyed (joined) first, while everything its jobs use still exists
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
