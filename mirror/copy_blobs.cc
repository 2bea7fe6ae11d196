// The copy engine's blobs: the queue, and placing a blob in a sink repository (keep, mount, write).
#include "mirror/copy_run.h"

#include <algorithm>

namespace ferry::copy_run {

// Queues `b` for a worker (with mutex_ held). The blob that unblocks the most work goes first
// (a base layer many images share, a large layer), small ones on a lane of their own.
void CopyRun::Enqueue(BlobTask& b) {
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
void CopyRun::Reweigh(BlobTask& b) {
  if (b.queued) Ready(b).erase(&b);
  b.weight = b.blob.size * static_cast<int64_t>(std::max<size_t>(1, b.waiting.size()));
  if (b.queued) Ready(b).insert(&b);
}

// Adds the image's blobs to the run (with mutex_ held); queues those no worker has yet.
void CopyRun::Schedule(ImageTask& t) {
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

// Places `b` in every repository waiting for it: one at a time until it is in one of them, then
// the others in parallel (they mount it from there). Without bytes at hand (a sequential source
// before its pass) only what needs none is done: keep, mount.
void CopyRun::PlaceAll(BlobTask& b, BlobBytes* bytes) {
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

void CopyRun::PlaceOne(BlobTask& b, const std::string& repo, BlobBytes* bytes) {
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
Result<std::optional<BlobAction>> CopyRun::PlaceIn(BlobTask& b, const std::string& repo,
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
Status CopyRun::Transfer(BlobTask& b, const std::string& repo, const std::string& from,
                const std::function<void(size_t)>& on_bytes, RetryBudget& budget) {
  BlobStream stream(budget_);
  std::thread producer([&] {
    int64_t delivered = 0;
    Status s;
    for (;;) {
      s = source_.ReadBlob(b.source_repository, b.blob, delivered, [&](std::string_view chunk) -> Status {
        if (stream.abandoned()) return Unavailable("not needed any more");
        FERRY_RETURN_IF_ERROR(stream.Write(chunk));
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

void CopyRun::Count(const Descriptor& blob, BlobAction action) {  // with mutex_ held
  switch (action) {
    case BlobAction::kSkipped: ++totals_.blobs_skipped, totals_.bytes_skipped += blob.size; break;
    case BlobAction::kMounted: ++totals_.blobs_mounted, totals_.bytes_mounted += blob.size; break;
    case BlobAction::kCopied: ++totals_.blobs_copied, totals_.bytes_copied += blob.size; break;
  }
}

Status CopyRun::BlobFailure() {
  std::lock_guard<std::mutex> lock(mutex_);
  // A corrupt archive says so first: it is the cause, other failures follow from it.
  for (const Status& s : failures_)
    if (s.code() == StatusCode::kDataLoss) return s;
  return failures_.empty() ? Status::Ok() : failures_.front();
}

}  // namespace ferry::copy_run
