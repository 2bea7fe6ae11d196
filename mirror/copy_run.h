// The state of one copy run (mirror/copy_engine.h), shared by the files that implement it:
// copy_engine.cc (images: read, attachments, manifests, the report), copy_blobs.cc (the blob queue
// and placing a blob in a repository) and copy_planned.cc (runs planned up front: archives as
// sink or source, read in passes; dry runs). Not for use outside them.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include "common/log.h"
#include "common/task_pool.h"
#include "mirror/blob_stream.h"
#include "mirror/copy_engine.h"

namespace ferry::copy_run {


inline constexpr int kMaxAttachmentDepth = 2;  // a signature of an SBOM of the image, no deeper
inline constexpr int kMaxPasses = 4;
inline constexpr int64_t kStreamBudget = 16 << 20;  // read and not yet written, all transfers together
inline constexpr int64_t kSmallBlob = 1 << 20;      // these run on a lane of their own
inline constexpr size_t kChunk = 256 << 10;

// The attempts of one step. Shared by the step and the blob read inside it, so a read that
// resumes spends the same attempts as the step: one policy, one level.
class RetryBudget {
 public:
  explicit RetryBudget(const RetryPolicy& policy) : policy_(policy) {}
  // After a failure: false when it is not transient or the attempts are spent; else waits.
  bool Again(const Status& status) {
    if (status.code() != StatusCode::kUnavailable) return false;
    int attempt = ++attempts_;
    if (attempt >= policy_.max_attempts) return false;
    auto delay = BackoffDelay(policy_, attempt, RandomUnit());
    Log(LogLevel::kInfo, status.message() + "; trying again in " + std::to_string(delay.count()) + " ms");
    std::this_thread::sleep_for(delay);
    return true;
  }

 private:
  const RetryPolicy& policy_;
  std::atomic<int> attempts_{0};
};

template <typename T, typename F>
Result<T> Retrying(RetryBudget& budget, F step) {
  for (;;) {
    Result<T> r = step();
    if (r.ok() || !budget.Again(r.status())) return r;
  }
}

struct ImageTask;

// One distinct blob and the sink repositories waiting for it.
struct BlobTask {
  Descriptor blob;
  std::string source_repository;  // read from here: the first image's
  std::string what;               // the first image that needs it, for messages
  std::map<std::string, std::vector<ImageTask*>> waiting;  // repository -> images there
  std::vector<std::string> placed;                          // repositories that have it
  std::set<std::string> checked;  // repositories already asked (HEAD), never twice
  std::set<std::string> in_flight;  // repositories a worker is placing it in right now
  bool busy = false;              // queued for, or held by, a worker
  bool queued = false;            // waiting in a ready set, under `weight`
  int64_t weight = 0;             // its bytes times the repositories waiting: the work it unblocks
};

struct ImageTask {
  ImageResult result;
  int depth = 0;
  ImageTask* subject = nullptr;  // an attachment's image
  Attachment attachment;
  ResolvedImage image;
  std::string identifier;        // at the sink: the tag, or the digest
  int blobs_pending = 0;         // blobs not yet in place at the sink
  int attachments_pending = 0;   // attachments not yet done
  bool resolved = false;         // its manifests are read (or could not be)
  bool started = false;          // its manifest push is queued
  bool pushed = false, done = false;
};

// Where the bytes of one placement come from: the source on demand (random access), or the one
// stream a pass over a sequential source hands over.
struct BlobBytes {
  std::shared_ptr<BlobStream> stream;
  bool spent = false;
};

class CopyRun {
 public:
  CopyRun(ImageSource& source, ImageSink& sink, const CopyOptions& options, CopyObserver* observer)
      : source_(source),
        sink_(sink),
        options_(options),
        observer_(observer ? observer : &quiet_),
        planned_(source.sequential() || sink.wants_plan() || options.dry_run),
        budget_(kStreamBudget),
        work_(std::max(1, options.jobs)),
        large_(std::max(1, options.jobs)),
        small_(std::max(2, options.jobs / 2)) {}

  CopyReport Run(const std::vector<CopyImage>& images);

 private:
  // copy_engine.cc: the run and its images.
  void Post(TaskPool& pool, std::function<void()> task);  // counted, so WaitIdle sees every task
  void WaitIdle();
  void Resolve(ImageTask& t);
  // The image is read (or failed to be): its blobs join the run, and it waits for them.
  void Resolved(ImageTask& t, const Status& status);
  // Finds what is attached to the image's manifests (`tags`: its repository's) and queues each as
  // an image of its own.
  Status FindAttachmentsOf(ImageTask& t, Result<std::vector<std::string>> tags, RetryBudget& budget);
  Result<std::vector<std::string>> Tags(const std::string& repo);
  // Queues `t`'s manifest push once nothing holds it back (with mutex_ held): it is read, its blobs
  // are in place, a planned run has placed every blob, and an attachment's image is pushed.
  void CollectReady(ImageTask& t, std::vector<ImageTask*>& ready);
  void Start(const std::vector<ImageTask*>& ready);
  void Fail(ImageTask& t, const Status& status);
  bool Failed(ImageTask& t);
  void PushManifests(ImageTask& t);
  // An image is done once pushed and every attachment is done; an attachment's failure is its image's.
  void MaybeDone(ImageTask& t);
  // The first failure of an image so far, as a reason to stop ("N of M images could not be read").
  Status FirstFailure(const std::string& what);
  void FinishSink();
  CopyReport Report(std::chrono::steady_clock::time_point start);

  // copy_blobs.cc: the blob queue and the placement of a blob.
  struct HeaviestFirst {
    bool operator()(const BlobTask* a, const BlobTask* b) const {
      if (a->weight != b->weight) return a->weight > b->weight;
      return a->blob.digest < b->blob.digest;
    }
  };
  using ReadySet = std::set<BlobTask*, HeaviestFirst>;
  ReadySet& Ready(const BlobTask& b) { return b.blob.size < kSmallBlob ? small_ready_ : large_ready_; }
  // Adds the image's blobs to the run (with mutex_ held); queues those no worker has yet.
  void Schedule(ImageTask& t);
  // Queues `b` for a worker (with mutex_ held). The blob that unblocks the most work goes first
  // (a base layer many images share, a large layer), small ones on a lane of their own.
  void Enqueue(BlobTask& b);
  // The blob's weight changes with the repositories waiting for it (with mutex_ held).
  void Reweigh(BlobTask& b);
  // Places `b` in every repository waiting for it: one at a time until it is in one of them, then
  // the others in parallel (they mount it from there). Without bytes at hand (a sequential source
  // before its pass) only what needs none is done: keep, mount.
  void PlaceAll(BlobTask& b, BlobBytes* bytes);
  void PlaceOne(BlobTask& b, const std::string& repo, BlobBytes* bytes);
  // One attempt at placing `b` in `repo`; nullopt: it needs bytes `bytes` cannot give (now).
  Result<std::optional<BlobAction>> PlaceIn(BlobTask& b, const std::string& repo,
                                           const std::vector<std::string>& candidates, bool check, BlobBytes* bytes,
                                           RetryBudget& budget);
  // Reads `b` from a random-access source on a thread of its own and writes it to the sink.
  Status Transfer(BlobTask& b, const std::string& repo, const std::string& from,
                  const std::function<void(size_t)>& on_bytes, RetryBudget& budget);
  void Count(const Descriptor& blob, BlobAction action);  // with mutex_ held
  Status BlobFailure();

  // copy_planned.cc: runs that read everything first (an archive as sink or source; dry runs).
  // Everything is resolved: lay it out at the sink, place every blob, then let the manifests go.
  void RunPlanned();
  Status PlaceEverything();
  // Passes over a sequential source until every blob is placed (or no pass gets further).
  Status Passes(bool inline_writes);
  // A pass reached `b`: hand its bytes to a placement on a worker while the pass reads them.
  Status Visit(BlobTask& b, const BodyReader& read, bool inline_writes);
  static Status Pump(const BodyReader& read, BlobStream& stream);
  void DryRun();
  const CopyPlan& Plan();
  std::vector<Descriptor> Blobs();
  std::map<std::string, Descriptor> Unplaced();

  ImageSource& source_;
  ImageSink& sink_;
  const CopyOptions& options_;
  CopyObserver quiet_;
  CopyObserver* observer_;
  const bool planned_;  // resolve everything first (archives, dry runs); else blobs start at once

  std::mutex mutex_;  // guards the tasks, the blobs and the totals
  std::vector<std::unique_ptr<ImageTask>> tasks_;  // images in input order, then attachments
  std::map<const ImageTask*, std::vector<ImageTask*>> attachments_of_;
  std::map<std::string, std::vector<std::string>> tags_;  // source repository -> its tags
  std::map<std::string, BlobTask> blobs_;
  std::vector<BlobTask*> blob_order_;
  ReadySet large_ready_, small_ready_;
  std::vector<Status> failures_;
  CopyTotals totals_;
  CopyPlan plan_;
  bool plan_released_ = false;  // planned runs: every blob is placed (or the run stopped)
  Status stopped_;              // planned runs: why nothing more was written
  ByteBudget budget_;

  std::mutex idle_mutex_;
  std::condition_variable idle_;
  int outstanding_ = 0;
  // Last: destroyed (joined) first, while everything their tasks use still exists.
  TaskPool work_;   // resolving images, pushing manifests
  TaskPool large_;  // blobs of 1 MiB and more, heaviest first
  TaskPool small_;  // smaller blobs, so they never wait behind the large ones
};

}  // namespace ferry::copy_run
