#include "mirror/mirror_engine.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "common/task_pool.h"

namespace ferry {
namespace {

struct ImageJob {
  ImageResult result;
  RegistryClient* source = nullptr;
  RegistryClient* target = nullptr;
  std::vector<Manifest> manifests;  // push order: children first, the top-level manifest last
  std::string top_identifier;       // tag, or digest when the target has no tag
  std::map<std::string, Descriptor> blobs;
  std::atomic<int> pending{0};      // blobs not yet in place at the target
  std::mutex mutex;                 // guards result.status
  bool done = false;
};

struct BlobTarget {
  RegistryClient* client;
  std::string repository;
  std::vector<ImageJob*> images;
};

struct BlobJob {
  Descriptor blob;
  RegistryClient* source;
  std::string source_repository;
  std::string what;
  std::vector<BlobTarget> targets;
};

class MirrorRun {
 public:
  MirrorRun(const MirrorOptions& options, RegistryPool& registries, BlobLocations* locations,
            MirrorObserver* observer)
      : options_(options),
        registries_(registries),
        locations_(locations ? locations : &run_locations_),
        observer_(observer ? observer : &quiet_),
        pool_(options.jobs) {}

  MirrorReport Run(const std::vector<MirrorImage>& images) {
    auto start = std::chrono::steady_clock::now();
    for (const MirrorImage& image : images) {
      auto job = std::make_unique<ImageJob>();
      job->result.image = image;
      jobs_.push_back(std::move(job));
    }
    for (auto& job : jobs_) pool_.Post([this, j = job.get()] { Resolve(*j); });
    pool_.Wait();
    PlanBlobs();
    if (options_.dry_run) {
      CheckPresence();
    } else {
      for (auto& job : jobs_)
        if (!job->done && job->pending == 0) pool_.Post([this, j = job.get()] { PushManifests(*j); });
      for (BlobJob* b : blob_order_) pool_.Post([this, b] { CopyBlobEverywhere(*b); });
    }
    pool_.Wait();

    MirrorReport report;
    report.totals = totals_;
    for (auto& job : jobs_) {
      report.images.push_back(job->result);
      if (!job->result.status.ok()) ++report.totals.images_failed;
      else if (job->result.already_present) ++report.totals.images_present;
      else if (!options_.dry_run) ++report.totals.images_copied;
    }
    report.totals.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    return report;
  }

 private:
  void Finish(ImageJob& job, Status status) {
    {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (job.done) return;
      job.done = true;
      if (job.result.status.ok()) job.result.status = std::move(status);
    }
    observer_->OnImageDone(job.result);
  }

  void Resolve(ImageJob& job) {
    ImageResult& r = job.result;
    const MirrorImage& image = r.image;
    std::string what = image.source.String();
    Result<RegistryClient*> source = registries_.For(image.fetch, false);
    if (!source.ok()) return Finish(job, source.status());
    Result<RegistryClient*> target = registries_.For(image.target, true);
    if (!target.ok()) return Finish(job, target.status());
    job.source = *source;
    job.target = *target;

    Result<ImageTree> tree =
        ResolveImageTree(*job.source, image.fetch.repository, image.fetch.ManifestIdentifier(), options_.platforms, what);
    if (!tree.ok()) return Finish(job, tree.status());
    r.platforms = tree->platforms;
    r.digest = tree->top().digest;
    r.media_type = tree->top().media_type;
    r.size = tree->size;
    job.blobs = std::move(tree->blobs);
    job.manifests = std::move(tree->manifests);
    job.top_identifier = image.target.tag.empty() ? r.digest : image.target.tag;
    if (!image.target.digest.empty() && image.target.digest != r.digest)
      return Finish(job, InvalidArgument("destination " + image.target.String() + " names digest " +
                                         image.target.digest + " but " + what + " has digest " + r.digest));

    Result<std::optional<std::string>> existing =
        job.target->HeadManifest(image.target.repository, job.top_identifier);
    if (!existing.ok()) return Finish(job, existing.status());
    r.already_present = existing->has_value() && **existing == r.digest;
    observer_->OnImageResolved(r);
    if (r.already_present) {
      // A registry keeps no manifest whose blobs it lacks: all of them are there, skipped.
      for (const auto& [digest, blob] : job.blobs) Count(blob, BlobAction::kSkipped);
      Finish(job, Status::Ok());
    }
  }

  void PlanBlobs() {
    std::map<std::string, BlobJob> by_digest;
    for (auto& job : jobs_) {
      if (job->done) continue;
      const MirrorImage& image = job->result.image;
      job->pending = static_cast<int>(job->blobs.size());
      for (const auto& [digest, blob] : job->blobs) {
        auto [it, inserted] = by_digest.try_emplace(digest);
        BlobJob& b = it->second;
        if (inserted) b = BlobJob{blob, job->source, image.fetch.repository, image.source.String(), {}};
        auto t = std::find_if(b.targets.begin(), b.targets.end(), [&](const BlobTarget& x) {
          return x.client == job->target && x.repository == image.target.repository;
        });
        if (t == b.targets.end()) t = b.targets.insert(b.targets.end(), {job->target, image.target.repository, {}});
        t->images.push_back(job.get());
      }
    }
    int64_t bytes_total = 0;
    for (auto& [digest, b] : by_digest) {
      blobs_.push_back(std::move(b));
      bytes_total += blobs_.back().blob.size;
    }
    for (BlobJob& b : blobs_) blob_order_.push_back(&b);
    // Largest first, so the longest transfers overlap with everything else.
    std::stable_sort(blob_order_.begin(), blob_order_.end(),
                     [](const BlobJob* a, const BlobJob* b) { return a->blob.size > b->blob.size; });
    for (const BlobJob& b : blobs_) gates_.try_emplace(b.source->registry(), nullptr);
    for (const BlobJob& b : blobs_)
      for (const BlobTarget& t : b.targets) gates_.try_emplace(t.client->registry(), nullptr);
    for (auto& [registry, gate] : gates_) gate = std::make_unique<Gate>(options_.connections_per_registry);
    totals_.blobs = static_cast<int>(blobs_.size());
    observer_->OnPlanned(totals_, bytes_total);
  }

  // Dry run: which blobs each target already has.
  void CheckPresence() {
    for (BlobJob* b : blob_order_) {
      pool_.Post([this, b] {
        int present_count = 0;
        for (const BlobTarget& t : b->targets) {
          Result<bool> present = t.client->HasBlob(t.repository, b->blob.digest);
          if (!present.ok())
            for (ImageJob* job : t.images) Finish(*job, present.status());
          else if (*present)
            ++present_count;
        }
        // A blob no target has is transferred once; the other repositories would mount it.
        std::lock_guard<std::mutex> lock(totals_mutex_);
        if (present_count == 0) totals_.bytes_missing += b->blob.size;
        totals_.blobs_skipped += present_count;
        totals_.bytes_skipped += present_count * b->blob.size;
      });
    }
    pool_.Wait();
    for (auto& job : jobs_) Finish(*job, Status::Ok());
  }

  void CopyBlobEverywhere(BlobJob& b) {
    for (BlobTarget& t : b.targets) {
      // Skip the transfer when every image that needs it here has already failed.
      bool wanted = std::any_of(t.images.begin(), t.images.end(), [](ImageJob* j) {
        std::lock_guard<std::mutex> lock(j->mutex);
        return !j->done;
      });
      Status status;
      if (wanted) {
        std::vector<Gate*> gates = {gates_[b.source->registry()].get()};
        if (t.client->registry() != b.source->registry()) gates.push_back(gates_[t.client->registry()].get());
        if (gates.size() == 2 && t.client->registry() < b.source->registry()) std::swap(gates[0], gates[1]);
        for (Gate* g : gates) g->Enter();
        observer_->OnBlobStarted(b.what, b.blob);
        BlobCopyOptions copy_options{.locations = locations_,
                                     .on_bytes = [&](size_t n) { observer_->OnBytes(b.what, n); }};
        Result<BlobAction> action = CopyBlob({b.source, b.source_repository}, {t.client, t.repository}, b.blob, b.what,
                                             copy_options);
        for (auto g = gates.rbegin(); g != gates.rend(); ++g) (*g)->Leave();
        if (action.ok()) {
          Count(b.blob, *action);
          observer_->OnBlobDone(b.blob, *action);
        } else {
          status = action.status();
        }
      }
      for (ImageJob* job : t.images) {
        if (!status.ok()) Fail(*job, status);
        if (--job->pending == 0) pool_.Post([this, job] { PushManifests(*job); });
      }
    }
  }

  void Count(const Descriptor& blob, BlobAction action) {
    std::lock_guard<std::mutex> lock(totals_mutex_);
    switch (action) {
      case BlobAction::kSkipped: ++totals_.blobs_skipped, totals_.bytes_skipped += blob.size; break;
      case BlobAction::kMounted: ++totals_.blobs_mounted, totals_.bytes_mounted += blob.size; break;
      case BlobAction::kCopied: ++totals_.blobs_copied, totals_.bytes_copied += blob.size; break;
    }
  }

  // Records the first failure; the image is finished once its pending blobs are accounted for.
  void Fail(ImageJob& job, const Status& status) {
    std::lock_guard<std::mutex> lock(job.mutex);
    if (job.result.status.ok()) job.result.status = status;
  }

  void PushManifests(ImageJob& job) {
    {
      std::lock_guard<std::mutex> lock(job.mutex);
      if (!job.result.status.ok()) {
        job.done = true;
        observer_->OnImageDone(job.result);
        return;
      }
    }
    const ImageReference& target = job.result.image.target;
    for (size_t i = 0; i < job.manifests.size(); ++i) {
      const Manifest& m = job.manifests[i];
      bool top = i + 1 == job.manifests.size();
      if (Status s = job.target->PutManifest(target.repository, top ? job.top_identifier : m.digest, m); !s.ok())
        return Finish(job, s);
    }
    // Read back: a registry that rewrote the manifest is caught here.
    Result<std::optional<std::string>> written = job.target->HeadManifest(target.repository, job.top_identifier);
    if (!written.ok()) return Finish(job, written.status());
    if (!written->has_value() || **written != job.result.digest)
      return Finish(job, DataLoss("registry " + target.registry + ", repository " + target.repository +
                                  ": after the push, " + job.top_identifier + " has digest " +
                                  (written->has_value() ? **written : "(none)") + ", not " + job.result.digest +
                                  "; the registry changed the manifest"));
    Finish(job, Status::Ok());
  }

  const MirrorOptions& options_;
  RegistryPool& registries_;
  BlobLocations run_locations_;
  BlobLocations* locations_;
  MirrorObserver quiet_;
  MirrorObserver* observer_;
  std::vector<std::unique_ptr<ImageJob>> jobs_;
  std::vector<BlobJob> blobs_;
  std::vector<BlobJob*> blob_order_;
  std::map<std::string, std::unique_ptr<Gate>> gates_;
  std::mutex totals_mutex_;
  MirrorTotals totals_;
  TaskPool pool_;  // last: its destructor joins the workers before the rest goes away
};

}  // namespace

MirrorReport RunMirror(const std::vector<MirrorImage>& images, const MirrorOptions& options, RegistryPool& registries,
                       BlobLocations* locations, MirrorObserver* observer) {
  MirrorRun run(options, registries, locations, observer);
  return run.Run(images);
}

}  // namespace ferry
