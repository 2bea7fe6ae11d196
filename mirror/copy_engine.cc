// The copy engine (copy_engine.h): a run, its images (read, attachments, manifests) and its report.
#include "mirror/copy_run.h"

#include <algorithm>
#include <future>

namespace ferry::copy_run {

CopyReport CopyRun::Run(const std::vector<CopyImage>& images) {
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

void CopyRun::Post(TaskPool& pool, std::function<void()> task) {
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

void CopyRun::WaitIdle() {
  std::unique_lock<std::mutex> lock(idle_mutex_);
  idle_.wait(lock, [&] { return outstanding_ == 0; });
}

void CopyRun::Resolve(ImageTask& t) {
  ImageResult& r = t.result;
  const CopyImage& image = r.image;
  RetryBudget budget(options_.retry);
  // The repository's tags (where attachments are found) come meanwhile, not one round trip later.
  std::future<Result<std::vector<std::string>>> tags;
  bool attachments = options_.attachments && !options_.dry_run && t.depth < kMaxAttachmentDepth;
  if (attachments) tags = std::async(std::launch::async, [this, &image] { return Tags(image.from.repository); });
  // And so does the answer whether the sink has it, when it is asked for by tag.
  std::future<Result<std::optional<std::string>>> tagged;
  if (!image.to.tag.empty())
    tagged = std::async(std::launch::async, [this, &image] { return sink_.ManifestDigest(image.to.repository, image.to.tag); });
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
  const bool asked = tagged.valid();
  Result<std::optional<std::string>> there = asked ? tagged.get() : Status(StatusCode::kUnavailable, "not asked");
  if (!asked || (!there.ok() && budget.Again(there.status())))
    there = Retrying<std::optional<std::string>>(
        budget, [&] { return sink_.ManifestDigest(image.to.repository, t.identifier); });
  if (!there.ok()) return Resolved(t, there.status());
  r.already_present = there->has_value() && **there == r.digest;
  if (t.depth == 0) observer_->OnImageResolved(r);
  if (!attachments) return Resolved(t, Status::Ok());
  // Its blobs start now; finding its attachments only holds back the image's end.
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++t.attachments_pending;
  }
  Resolved(t, Status::Ok());
  Status found = FindAttachmentsOf(t, tags.get(), budget);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!found.ok() && t.result.status.ok()) t.result.status = found;
    --t.attachments_pending;
  }
  MaybeDone(t);
}

// The image is read (or failed to be): its blobs join the run, and it waits for them.
void CopyRun::Resolved(ImageTask& t, const Status& status) {
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
Status CopyRun::FindAttachmentsOf(ImageTask& t, Result<std::vector<std::string>> tags, RetryBudget& budget) {
  const std::string& repo = t.result.image.from.repository;
  if (!tags.ok() && budget.Again(tags.status()))
    tags = Retrying<std::vector<std::string>>(budget, [&] { return Tags(repo); });
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

Result<std::vector<std::string>> CopyRun::Tags(const std::string& repo) {
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

// Queues `t`'s manifest push once nothing holds it back (with mutex_ held): it is read, its blobs
// are in place, a planned run has placed every blob, and an attachment's image is pushed.
void CopyRun::CollectReady(ImageTask& t, std::vector<ImageTask*>& ready) {
  if (t.started || !t.resolved || t.blobs_pending > 0 || (planned_ && !plan_released_) ||
      (t.subject && !t.subject->pushed))
    return;
  t.started = true;
  ready.push_back(&t);
}

void CopyRun::Start(const std::vector<ImageTask*>& ready) {
  for (ImageTask* t : ready) Post(work_, [this, t] { PushManifests(*t); });
}

void CopyRun::Fail(ImageTask& t, const Status& status) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (t.result.status.ok()) t.result.status = status;
}

void CopyRun::PushManifests(ImageTask& t) {
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

bool CopyRun::Failed(ImageTask& t) {
  std::lock_guard<std::mutex> lock(mutex_);
  return !t.result.status.ok();
}

// An image is done once pushed and every attachment is done; an attachment's failure is its image's.
void CopyRun::MaybeDone(ImageTask& t) {
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

// The first failure of an image so far, as a reason to stop ("N of M images could not be read").
Status CopyRun::FirstFailure(const std::string& what) {
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

void CopyRun::FinishSink() {
  bool wrote = false;
  for (auto& t : tasks_) wrote = wrote || t->result.status.ok();
  if (!wrote && sink_.sequential()) return;  // an archive with nothing in it is not made at all
  Status finished = sink_.Finish();
  if (finished.ok()) return;
  for (auto& t : tasks_)
    if (t->result.status.ok()) t->result.status = finished;
}

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

}  // namespace ferry::copy_run

namespace ferry {

CopyReport RunCopy(ImageSource& source, ImageSink& sink, const std::vector<CopyImage>& images,
                   const CopyOptions& options, CopyObserver* observer) {
  return copy_run::CopyRun(source, sink, options, observer).Run(images);
}

}  // namespace ferry
