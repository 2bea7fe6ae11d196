// The copy engine's planned runs: everything read first, laid out at the sink, then the blobs
// (one at a time into an archive; in passes out of one), and dry runs.
#include "mirror/copy_run.h"

#include <algorithm>

namespace ferry::copy_run {

// Everything is resolved: lay it out at the sink, place every blob, then let the manifests go.
void CopyRun::RunPlanned() {
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

Status CopyRun::PlaceEverything() {
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
Status CopyRun::Passes(bool inline_writes) {
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
Status CopyRun::Visit(BlobTask& b, const BodyReader& read, bool inline_writes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (b.waiting.empty() || b.busy) return Status::Ok();  // placed already, or twice in the archive
    b.busy = true;
  }
  auto bytes = std::make_shared<BlobBytes>();
  // One stream is filled at a time here: it may use the whole budget, so the pass can read ahead
  // of a slow upload and go on to the next entries.
  bytes->stream = std::make_shared<BlobStream>(budget_, kStreamBudget);
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

Status CopyRun::Pump(const BodyReader& read, BlobStream& stream) {
  std::string chunk(kChunk, '\0');
  for (;;) {
    if (stream.abandoned()) return Status::Ok();  // not needed: the pass skips the rest
    Result<size_t> n = read(chunk.data(), chunk.size());
    if (!n.ok()) {
      stream.Close(n.status());
      return n.status();
    }
    if (*n == 0) break;
    (void)stream.Write(std::string_view(chunk).substr(0, *n));
  }
  stream.Close(Status::Ok());
  return Status::Ok();
}

void CopyRun::DryRun() {
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

const CopyPlan& CopyRun::Plan() {
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

std::vector<Descriptor> CopyRun::Blobs() {
  std::set<std::string> seen;
  std::vector<Descriptor> blobs;
  for (auto& t : tasks_)
    for (const Descriptor& d : t->image.blobs)
      if (seen.insert(d.digest).second) blobs.push_back(d);
  return blobs;
}

std::map<std::string, Descriptor> CopyRun::Unplaced() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::map<std::string, Descriptor> out;
  for (auto& [digest, b] : blobs_)
    if (!b.waiting.empty()) out[digest] = b.blob;
  return out;
}

}  // namespace ferry::copy_run
