#include "mirror/copy_engine.h"

#include <algorithm>
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

namespace ferry {
namespace {

constexpr int kMaxAttachmentDepth = 2;  // a signature of an SBOM of the image, no deeper
constexpr int kMaxPasses = 4;
constexpr int64_t kStreamBudget = 16 << 20;  // read and not yet written, all transfers together
constexpr int64_t kSmallBlob = 1 << 20;      // these run on a lane of their own
constexpr size_t kChunk = 256 << 10;

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

  CopyReport Run(const std::vector<CopyImage>& images) {
    auto start = std::chrono::steady_clock::now();
    for (const CopyImage& image : images) {
      tasks_.push_back(std::make_unique<ImageTask>());
      tasks_.back()->result.image = image;
    }
    for (size_t i = 0; i < images.size(); ++i) Post(work_, [this, t = tasks_[i].get()] { Resolve(*t); });
    WaitIdle();
    if (planned_) RunPlanned();
    WaitIdle();
    if (!options_.dry_run) FinishSink();
    return Report(start);
  }

  CopyReport Report(std::chrono::steady_clock::time_point start);

 private:
  // --- scheduling -----------------------------------------------------------------------------
  void Post(TaskPool& pool, std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(idle_mutex_);
      ++outstanding_;
    }
    pool.Post([this, task = std::move(task)] {
      task();
      std::lock_guard<std::mutex> lock(idle_mutex_);
      if (--outstanding_ == 0) idle_.notify_all();
    });
  }

  void WaitIdle() {
    std::unique_lock<std::mutex> lock(idle_mutex_);
    idle_.wait(lock, [&] { return outstanding_ == 0; });
  }

  struct HeaviestFirst {
    bool operator()(const BlobTask* a, const BlobTask* b) const {
      if (a->weight != b->weight) return a->weight > b->weight;
      return a->blob.digest < b->blob.digest;
    }
  };
  using ReadySet = std::set<BlobTask*, HeaviestFirst>;
  ReadySet& Ready(const BlobTask& b) { return b.blob.size < kSmallBlob ? small_ready_ : large_ready_; }

  // Queues `b` for a worker (with mutex_ held). The blob that unblocks the most work goes first
  // (a base layer many images share, a large layer), small ones on a lane of their own.
  void Enqueue(BlobTask& b) {
    b.busy = true;
    bool small = b.blob.size < kSmallBlob;
    Ready(b).insert(&b);
    b.queued = true;
    Post(small ? small_ : large_, [this, small] {
      BlobTask* next;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        auto& ready = small ? small_ready_ : large_ready_;
        next = *ready.begin();
        ready.erase(ready.begin());
        next->queued = false;
      }
      PlaceAll(*next, nullptr);
    });
  }


  // The blob's weight changes with the repositories waiting for it (with mutex_ held).
  void Reweigh(BlobTask& b) {
    if (b.queued) Ready(b).erase(&b);
    b.weight = b.blob.size * static_cast<int64_t>(std::max<size_t>(1, b.waiting.size()));
    if (b.queued) Ready(b).insert(&b);
  }

  // --- images ---------------------------------------------------------------------------------
  void Resolve(ImageTask& t) {
    ImageResult& r = t.result;
    const CopyImage& image = r.image;
    RetryBudget budget(options_.retry);
    Result<ResolvedImage> resolved = Retrying<ResolvedImage>(budget, [&] {
      return ResolveImage(source_, image.from.repository, image.from.identifier(),
                          t.depth == 0 ? options_.platforms : std::vector<std::string>(), image.name);
    });
    if (!resolved.ok()) return Resolved(t, resolved.status());
    t.image = std::move(*resolved);
    const Manifest& top = t.image.top();
    r.digest = top.digest;
    r.source_digest = t.image.source_digest;
    r.media_type = top.media_type;
    r.platforms = t.image.platforms;
    r.size = t.image.size;
    t.identifier = image.to.tag.empty() ? r.digest : image.to.tag;
    if (!image.to.digest.empty() && image.to.digest != r.digest)
      return Resolved(t, InvalidArgument("destination " + sink_.Where(image.to.repository) + " names digest " +
                                         image.to.digest + " but " + image.name + " has digest " + r.digest));
    Result<std::optional<std::string>> there = Retrying<std::optional<std::string>>(
        budget, [&] { return sink_.ManifestDigest(image.to.repository, t.identifier); });
    if (!there.ok()) return Resolved(t, there.status());
    r.already_present = there->has_value() && **there == r.digest;
    if (t.depth == 0) observer_->OnImageResolved(r);
    if (options_.attachments && !options_.dry_run && t.depth < kMaxAttachmentDepth)
      if (Status found = FindAttachmentsOf(t, budget); !found.ok()) return Resolved(t, found);
    Resolved(t, Status::Ok());
  }

  // The image is read (or failed to be): its blobs join the run, and it waits for them.
  void Resolved(ImageTask& t, const Status& status) {
    std::vector<ImageTask*> ready;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!status.ok() && t.result.status.ok()) t.result.status = status;
      t.resolved = true;
      if (status.ok() && t.result.already_present)
        // A registry keeps no manifest whose blobs it lacks: all of them are there.
        for (const Descriptor& blob : t.image.blobs) Count(blob, BlobAction::kSkipped);
      if (status.ok() && !t.result.already_present && !planned_) Schedule(t);
      CollectReady(t, ready);
    }
    Start(ready);
  }

  // Finds what is attached to the image's manifests and queues each as an image of its own.
  Status FindAttachmentsOf(ImageTask& t, RetryBudget& budget) {
    const std::string& repo = t.result.image.from.repository;
    Result<std::vector<std::string>> tags = Retrying<std::vector<std::string>>(budget, [&] { return Tags(repo); });
    if (!tags.ok()) return tags.status();
    std::vector<std::string> subjects;
    for (const Manifest& m : t.image.manifests)
      // A filtered index is not the one its attachments were made for.
      if (&m != &t.image.top() || t.image.source_digest.empty()) subjects.push_back(m.digest);
    Result<std::vector<Attachment>> found = Retrying<std::vector<Attachment>>(
        budget, [&] { return FindAttachments(source_, repo, *tags, subjects); });
    if (!found.ok()) return found.status().WithContext(t.result.image.name + ": attachments");
    std::vector<ImageTask*> created;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (const Attachment& a : *found) {
        auto task = std::make_unique<ImageTask>();
        task->depth = t.depth + 1;
        task->subject = &t;
        task->attachment = a;
        const CopyImage& of = t.result.image;
        task->result.image = {.name = of.name + " (" + std::string(AttachmentKindName(a.kind)) + " " +
                                      (a.tag.empty() ? a.digest : a.tag) + ")",
                              .from = {of.from.repository, a.tag, a.tag.empty() ? a.digest : ""},
                              .to = {of.to.repository, a.tag, ""}};
        ++t.attachments_pending;
        attachments_of_[&t].push_back(task.get());
        created.push_back(task.get());
        tasks_.push_back(std::move(task));
      }
    }
    for (ImageTask* a : created) Post(work_, [this, a] { Resolve(*a); });
    return Status::Ok();
  }

  Result<std::vector<std::string>> Tags(const std::string& repo) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto it = tags_.find(repo); it != tags_.end()) return it->second;
    }
    Result<std::vector<std::string>> tags = source_.ListTags(repo);
    if (tags.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      tags_[repo] = *tags;
    }
    return tags;
  }

  // Adds the image's blobs to the run (with mutex_ held); queues those no worker has yet.
  void Schedule(ImageTask& t) {
    const std::string& repo = t.result.image.to.repository;
    for (const Descriptor& d : t.image.blobs) {
      auto [it, fresh] = blobs_.try_emplace(d.digest);
      BlobTask& b = it->second;
      if (fresh) {
        b = BlobTask{.blob = d, .source_repository = t.result.image.from.repository, .what = t.result.image.name};
        blob_order_.push_back(&b);
        ++totals_.blobs;
        observer_->OnBlobPlanned(d);
      }
      if (std::find(b.placed.begin(), b.placed.end(), repo) != b.placed.end()) continue;
      b.waiting[repo].push_back(&t);
      ++t.blobs_pending;
      Reweigh(b);
      if (!planned_ && !b.busy) Enqueue(b);
    }
  }

  // Queues `t`'s manifest push once nothing holds it back (with mutex_ held): it is read, its blobs
  // are in place, a planned run has placed every blob, and an attachment's image is pushed.
  void CollectReady(ImageTask& t, std::vector<ImageTask*>& ready) {
    if (t.started || !t.resolved || t.blobs_pending > 0 || (planned_ && !plan_released_) ||
        (t.subject && !t.subject->pushed))
      return;
    t.started = true;
    ready.push_back(&t);
  }

  void Start(const std::vector<ImageTask*>& ready) {
    for (ImageTask* t : ready) Post(work_, [this, t] { PushManifests(*t); });
  }

  void Fail(ImageTask& t, const Status& status) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (t.result.status.ok()) t.result.status = status;
  }

  void PushManifests(ImageTask& t) {
    // An attachment of an image that failed is not pushed: it would be attached to nothing.
    bool orphan = t.subject && Failed(*t.subject);
    if (!orphan && !Failed(t) && !t.result.already_present && !options_.dry_run) {
      const std::string& repo = t.result.image.to.repository;
      RetryBudget budget(options_.retry);
      Result<bool> pushed = Retrying<bool>(budget, [&]() -> Result<bool> {
        for (const Manifest& m : t.image.manifests) {
          bool top = &m == &t.image.top();
          FERRY_RETURN_IF_ERROR(sink_.PutManifest(repo, top ? t.identifier : m.digest, m));
        }
        // Read back: a sink that rewrote the manifest is caught here.
        Result<std::optional<std::string>> written = sink_.ManifestDigest(repo, t.identifier);
        if (!written.ok()) return written.status();
        if (!written->has_value() || **written != t.result.digest)
          return DataLoss(sink_.Where(repo) + ": after the push, " + t.identifier + " has digest " +
                          written->value_or("(none)") + ", not " + t.result.digest + "; the sink changed the manifest");
        return true;
      });
      if (!pushed.ok()) Fail(t, pushed.status());
    }
    std::vector<ImageTask*> ready;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      t.pushed = true;
      for (ImageTask* a : attachments_of_[&t]) CollectReady(*a, ready);
    }
    Start(ready);
    MaybeDone(t);
  }

  bool Failed(ImageTask& t) {
    std::lock_guard<std::mutex> lock(mutex_);
    return !t.result.status.ok();
  }

  // An image is done once pushed and every attachment is done; an attachment's failure is its image's.
  void MaybeDone(ImageTask& t) {
    ImageTask* subject = nullptr;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (t.done || !t.pushed || t.attachments_pending > 0) return;
      t.done = true;
      subject = t.subject;
      if (subject) {
        ImageResult& s = subject->result;
        if (!t.result.status.ok() && s.status.ok())
          s.status = t.result.status.WithContext("attachment " + (t.attachment.tag.empty() ? t.attachment.digest
                                                                                           : t.attachment.tag));
        if (t.result.status.ok() && s.status.ok()) {
          Attachment a = t.attachment;
          a.digest = t.result.digest;
          s.attachments.push_back({a, t.result.media_type, t.result.size});
          ++totals_.attachments;
        }
        // Its own attachments (a signature of an SBOM) travel with the image too.
        for (const CopiedAttachment& c : t.result.attachments) s.attachments.push_back(c);
        --subject->attachments_pending;
      }
    }
    if (subject) return MaybeDone(*subject);
    if (t.depth == 0) observer_->OnImageDone(t.result);
  }

  // --- blobs ----------------------------------------------------------------------------------
  // Places `b` in every repository waiting for it: one at a time until it is in one of them, then
  // the others in parallel (they mount it from there). Without bytes at hand (a sequential source
  // before its pass) only what needs none is done: keep, mount.
  void PlaceAll(BlobTask& b, BlobBytes* bytes) {
    std::set<std::string> tried;
    for (;;) {
      std::vector<std::string> repos;  // "" is a repository too (a layout's plain tags)
      {
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& [repo, images] : b.waiting)
          if (!tried.count(repo) && !b.in_flight.count(repo)) repos.push_back(repo);
        // Once it is somewhere, the rest are mounts, which need no bytes: all at once.
        if (!b.placed.empty() && repos.size() > 1 && sink_.mounts()) {
          for (const std::string& repo : repos) b.in_flight.insert(repo);
          for (const std::string& repo : repos) Post(small_, [this, &b, repo] { PlaceOne(b, repo, nullptr); });
          repos.clear();
        }
        if (repos.empty()) {
          b.busy = false;
          return;
        }
        tried.insert(repos.front());
        b.in_flight.insert(repos.front());
      }
      PlaceOne(b, repos.front(), bytes);
    }
  }

  void PlaceOne(BlobTask& b, const std::string& repo, BlobBytes* bytes) {
    std::vector<std::string> candidates;
    bool check;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      candidates = b.placed;
      // A repository of this run has it: mounting is the check (201 when it is there either way).
      check = b.checked.insert(repo).second && (b.placed.empty() || !sink_.mounts());
    }
    for (const std::string& hint : sink_.MountHints(repo, b.blob)) candidates.push_back(hint);
    if (std::string own = source_.MountableRepository(b.source_repository); !own.empty()) candidates.push_back(own);

    RetryBudget budget(options_.retry);
    Result<std::optional<BlobAction>> action = Retrying<std::optional<BlobAction>>(
        budget, [&] { return PlaceIn(b, repo, candidates, check, bytes, budget); });
    std::vector<ImageTask*> ready;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      b.in_flight.erase(repo);
      if (action.ok() && !action->has_value()) return;  // needs bytes this call does not have
      std::vector<ImageTask*> images = std::move(b.waiting[repo]);
      b.waiting.erase(repo);
      if (action.ok()) {
        b.placed.push_back(repo);
        Count(b.blob, **action);
      } else {
        failures_.push_back(action.status());
      }
      for (ImageTask* t : images) {
        if (!action.ok() && t->result.status.ok()) t->result.status = action.status().WithContext(t->result.image.name);
        --t->blobs_pending;
        CollectReady(*t, ready);
      }
    }
    if (action.ok()) {
      sink_.Placed(repo, b.blob);
      observer_->OnBlobDone(b.blob, **action);
    }
    Start(ready);
  }

  // One attempt at placing `b` in `repo`; nullopt: it needs bytes `bytes` cannot give (now).
  Result<std::optional<BlobAction>> PlaceIn(BlobTask& b, const std::string& repo,
                                           const std::vector<std::string>& candidates, bool check, BlobBytes* bytes,
                                           RetryBudget& budget) {
    using Action = std::optional<BlobAction>;
    if (check) {
      Result<bool> has = sink_.HasBlob(repo, b.blob);
      if (!has.ok()) return has.status();
      if (*has) return Action(BlobAction::kSkipped);
    }
    for (const std::string& from : candidates) {
      if (from == repo) continue;
      Result<bool> mounted = sink_.MountBlob(repo, b.blob, from);
      if (!mounted.ok()) return mounted.status();
      if (*mounted) return Action(BlobAction::kMounted);
    }
    if (options_.dry_run) return Action();
    if (source_.sequential() && (!bytes || !bytes->stream || bytes->spent)) return Action();
    observer_->OnBlobStarted(b.what, b.blob);
    auto on_bytes = [&](size_t n) { observer_->OnBytes(b.what, n); };
    std::string from = source_.Where(b.source_repository);
    Status written;
    if (source_.sequential()) {
      bytes->spent = true;
      BlobStream& stream = *bytes->stream;
      CheckedReader checked([&](char* buf, size_t n) { return stream.Read(buf, n); }, b.blob, from, on_bytes);
      written = sink_.PutBlob(repo, b.blob, [&](char* buf, size_t n) { return checked(buf, n); });
      stream.Abandon(Status::Ok());  // whatever is left is not needed
    } else {
      written = Transfer(b, repo, from, on_bytes, budget);
    }
    if (!written.ok()) return written;
    return Action(BlobAction::kCopied);
  }

  // Reads `b` from a random-access source on a thread of its own and writes it to the sink.
  Status Transfer(BlobTask& b, const std::string& repo, const std::string& from,
                  const std::function<void(size_t)>& on_bytes, RetryBudget& budget) {
    BlobStream stream(budget_);
    std::thread producer([&] {
      int64_t delivered = 0;
      Status s;
      for (;;) {
        s = source_.ReadBlob(b.source_repository, b.blob, delivered, [&](std::string_view chunk) -> Status {
          if (stream.abandoned()) return Unavailable("not needed any more");
          FERRY_RETURN_IF_ERROR(stream.Write(std::string(chunk)));
          delivered += static_cast<int64_t>(chunk.size());
          return Status::Ok();
        });
        if (s.ok() || stream.abandoned() || !budget.Again(s)) break;  // a cut read resumes where it stopped
      }
      stream.Close(s.WithContext(b.what));
    });
    CheckedReader checked([&](char* buf, size_t n) { return stream.Read(buf, n); }, b.blob, from, on_bytes);
    Status written = sink_.PutBlob(repo, b.blob, [&](char* buf, size_t n) { return checked(buf, n); });
    stream.Abandon(written);
    producer.join();
    return written;
  }

  void Count(const Descriptor& blob, BlobAction action) {  // with mutex_ held
    switch (action) {
      case BlobAction::kSkipped: ++totals_.blobs_skipped, totals_.bytes_skipped += blob.size; break;
      case BlobAction::kMounted: ++totals_.blobs_mounted, totals_.bytes_mounted += blob.size; break;
      case BlobAction::kCopied: ++totals_.blobs_copied, totals_.bytes_copied += blob.size; break;
    }
  }

  // --- planned runs ---------------------------------------------------------------------------
  // Everything is resolved: lay it out at the sink, place every blob, then let the manifests go.
  void RunPlanned() {
    stopped_ = FirstFailure("could not be read");
    if (stopped_.ok() && options_.dry_run) return DryRun();
    if (stopped_.ok() && sink_.wants_plan()) stopped_ = sink_.Begin(Plan());
    if (stopped_.ok()) {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& t : tasks_)
        if (!t->result.already_present && t->result.status.ok()) Schedule(*t);
    }
    if (stopped_.ok()) stopped_ = PlaceEverything();
    // A failure stops every image before its manifests: an archive is not written half, and a
    // bad archive tags nothing.
    std::vector<ImageTask*> ready;
    std::lock_guard<std::mutex> lock(mutex_);
    plan_released_ = true;
    for (auto& t : tasks_) {
      if (!stopped_.ok() && !t->result.already_present && t->result.status.ok())
        t->result.status = Status(stopped_.code(), "not copied: the run stopped before any manifest was written");
      CollectReady(*t, ready);
    }
    Start(ready);
  }

  Status PlaceEverything() {
    if (sink_.sequential()) {
      // One blob at a time, in the sink's order (a sequential source: in the order of its pass).
      if (source_.sequential()) return Passes(/*inline_writes=*/true);
      for (const Descriptor& d : sink_.BlobOrder(Blobs())) PlaceAll(blobs_.at(d.digest), nullptr);
      return BlobFailure();
    }
    if (source_.sequential()) {
      // Keep and mount what can be before the pass, so the pass only reads what must be written.
      for (BlobTask* b : blob_order_) Post(large_, [this, b] { PlaceAll(*b, nullptr); });
      WaitIdle();
      FERRY_RETURN_IF_ERROR(BlobFailure());
      return Passes(false);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (BlobTask* b : blob_order_) Enqueue(*b);
    }
    WaitIdle();
    return BlobFailure();
  }

  // Passes over a sequential source until every blob is placed (or no pass gets further).
  Status Passes(bool inline_writes) {
    size_t left = SIZE_MAX;
    for (int pass = 1;; ++pass) {
      std::map<std::string, Descriptor> wanted = Unplaced();
      if (wanted.empty()) return Status::Ok();
      if (wanted.size() >= left || pass > kMaxPasses)
        return Unavailable(source_.Where("") + ": " + std::to_string(wanted.size()) + " blobs could not be placed at " +
                           sink_.Where("") + " after " + std::to_string(pass - 1) + " passes; run it again");
      left = wanted.size();
      Status scanned = source_.Scan(wanted, [&](const Descriptor& blob, const BodyReader& read) {
        return Visit(blobs_.at(blob.digest), read, inline_writes);
      });
      WaitIdle();
      FERRY_RETURN_IF_ERROR(scanned);
      FERRY_RETURN_IF_ERROR(BlobFailure());
      // What a declined mount left out: mount from where it is now, before reading it again.
      for (auto& [digest, d] : Unplaced()) Post(large_, [this, b = &blobs_.at(digest)] { PlaceAll(*b, nullptr); });
      WaitIdle();
      FERRY_RETURN_IF_ERROR(BlobFailure());
    }
  }

  // A pass reached `b`: hand its bytes to a placement on a worker while the pass reads them.
  Status Visit(BlobTask& b, const BodyReader& read, bool inline_writes) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (b.waiting.empty() || b.busy) return Status::Ok();  // placed already, or twice in the archive
      b.busy = true;
    }
    auto bytes = std::make_shared<BlobBytes>();
    bytes->stream = std::make_shared<BlobStream>(budget_);
    if (inline_writes) {
      // The sink takes one blob at a time: no thread, the pass's reader feeds the write directly.
      std::thread place([this, &b, bytes] {
        PlaceAll(b, bytes.get());
        bytes->stream->Abandon(Status::Ok());  // kept or mounted after all: the pass skips the rest
      });
      Status pumped = Pump(read, *bytes->stream);
      place.join();
      return pumped;
    }
    Post(b.blob.size < kSmallBlob ? small_ : large_, [this, &b, bytes] {
      PlaceAll(b, bytes.get());
      bytes->stream->Abandon(Status::Ok());
    });
    return Pump(read, *bytes->stream);
  }

  static Status Pump(const BodyReader& read, BlobStream& stream) {
    std::string chunk(kChunk, '\0');
    for (;;) {
      if (stream.abandoned()) return Status::Ok();  // not needed: the pass skips the rest
      Result<size_t> n = read(chunk.data(), chunk.size());
      if (!n.ok()) {
        stream.Close(n.status());
        return n.status();
      }
      if (*n == 0) break;
      (void)stream.Write(chunk.substr(0, *n));
    }
    stream.Close(Status::Ok());
    return Status::Ok();
  }

  void DryRun() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& t : tasks_)
        if (!t->result.already_present && t->result.status.ok()) Schedule(*t);
    }
    for (BlobTask* b : blob_order_)
      Post(large_, [this, b] {
        std::vector<std::string> repos;
        for (const auto& [repo, images] : b->waiting) repos.push_back(repo);
        int present = 0;
        for (const std::string& repo : repos) {
          Result<bool> has = sink_.HasBlob(repo, b->blob);
          std::lock_guard<std::mutex> lock(mutex_);
          if (!has.ok())
            for (ImageTask* t : b->waiting[repo])
              if (t->result.status.ok()) t->result.status = has.status();
          present += has.ok() && *has ? 1 : 0;
        }
        // A blob no repository has is transferred once; the other repositories would mount it.
        std::lock_guard<std::mutex> lock(mutex_);
        if (present == 0) totals_.bytes_missing += b->blob.size;
        totals_.blobs_skipped += present;
        totals_.bytes_skipped += present * b->blob.size;
      });
    WaitIdle();
    for (auto& t : tasks_) {
      t->pushed = true;
      MaybeDone(*t);
    }
  }

  const CopyPlan& Plan() {
    CopyPlan plan;
    std::map<const ImageTask*, size_t> index;
    for (auto& t : tasks_) {  // images in input order, then attachments in the order they were found
      if (!t->result.status.ok() || t->image.manifests.empty()) continue;
      index[t.get()] = plan.images.size();
      plan.images.push_back({.name = t->result.image.name, .to = t->result.image.to, .image = &t->image,
                             .attachment = t->attachment});
    }
    for (auto& t : tasks_)
      if (t->subject && index.count(t.get()) && index.count(t->subject))
        plan.images[index[t.get()]].subject = &plan.images[index[t->subject]];
    plan.blobs = Blobs();
    plan_ = std::move(plan);  // the vector's buffer moves along: PlannedImage::subject stays valid
    return plan_;
  }

  std::vector<Descriptor> Blobs() {
    std::set<std::string> seen;
    std::vector<Descriptor> blobs;
    for (auto& t : tasks_)
      for (const Descriptor& d : t->image.blobs)
        if (seen.insert(d.digest).second) blobs.push_back(d);
    return blobs;
  }

  std::map<std::string, Descriptor> Unplaced() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::map<std::string, Descriptor> out;
    for (auto& [digest, b] : blobs_)
      if (!b.waiting.empty()) out[digest] = b.blob;
    return out;
  }

  // The first failure of an image so far, as a reason to stop ("N of M images could not be read").
  Status FirstFailure(const std::string& what) {
    std::string names;
    int failed = 0;
    Status first;
    for (auto& t : tasks_)
      if (!t->result.status.ok()) {
        ++failed;
        if (first.ok()) first = t->result.status;
        names += "\n  " + t->result.image.name + ": " + t->result.status.message();
      }
    if (failed == 0) return Status::Ok();
    return Status(first.code(), std::to_string(failed) + " of " + std::to_string(tasks_.size()) + " images " + what +
                                    "; nothing was written:" + names);
  }

  Status BlobFailure() {
    std::lock_guard<std::mutex> lock(mutex_);
    // A corrupt archive says so first: it is the cause, other failures follow from it.
    for (const Status& s : failures_)
      if (s.code() == StatusCode::kDataLoss) return s;
    return failures_.empty() ? Status::Ok() : failures_.front();
  }

  void FinishSink() {
    bool wrote = false;
    for (auto& t : tasks_) wrote = wrote || t->result.status.ok();
    if (!wrote && sink_.sequential()) return;  // an archive with nothing in it is not made at all
    Status finished = sink_.Finish();
    if (finished.ok()) return;
    for (auto& t : tasks_)
      if (t->result.status.ok()) t->result.status = finished;
  }

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

CopyReport CopyRun::Report(std::chrono::steady_clock::time_point start) {
  CopyReport report;
  report.totals = totals_;
  report.totals.passes = source_.passes();
  report.stopped = stopped_;
  for (auto& t : tasks_) {
    if (t->depth > 0) continue;
    const ImageResult& r = t->result;
    report.images.push_back(r);
    if (!r.status.ok()) ++report.totals.images_failed;
    else if (r.already_present) ++report.totals.images_present;
    else if (!options_.dry_run) ++report.totals.images_copied;
  }
  report.totals.elapsed =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  return report;
}

}  // namespace

CopyReport RunCopy(ImageSource& source, ImageSink& sink, const std::vector<CopyImage>& images,
                   const CopyOptions& options, CopyObserver* observer) {
  return CopyRun(source, sink, options, observer).Run(images);
}

}  // namespace ferry
