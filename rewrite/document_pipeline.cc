// A small ordered work queue for FindImagesInStream; see document_pipeline.h.
#include "rewrite/document_pipeline.h"

#include <sched.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace ferry {
namespace {

// Documents in flight per worker: enough that a worker never waits for the reader while another
// document is ready, few enough to keep memory to a handful of documents.
constexpr size_t kInFlightPerWorker = 3;

struct Job {
  YamlDocument doc;
  Result<std::vector<ImageOccurrence>> found = std::vector<ImageOccurrence>{};
  bool done = false;
};

class Pipeline {
 public:
  Pipeline(const std::string& name, int threads) : name_(name), threads_(threads) {}

  ~Pipeline() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    work_ready_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // Queues a copy of `doc`; first hands back finished documents while too many are in flight.
  Status Add(const YamlDocument& doc, const FoundDocumentFn& each) {
    while (window_.size() >= kInFlightPerWorker * static_cast<size_t>(threads_)) {
      FERRY_RETURN_IF_ERROR(DeliverFront(each));
    }
    // Workers start with the first document, so an empty stream starts none.
    while (workers_.size() < static_cast<size_t>(threads_)) {
      workers_.emplace_back([this] { Work(); });
    }
    window_.push_back(std::make_unique<Job>());
    window_.back()->doc = doc;
    {
      std::lock_guard lock(mutex_);
      queue_.push_back(window_.back().get());
    }
    work_ready_.notify_one();
    return Status::Ok();
  }

  Status Finish(const FoundDocumentFn& each) {
    while (!window_.empty()) FERRY_RETURN_IF_ERROR(DeliverFront(each));
    return Status::Ok();
  }

 private:
  // Waits for the oldest document and hands it to `each`.
  Status DeliverFront(const FoundDocumentFn& each) {
    Job& job = *window_.front();
    {
      std::unique_lock lock(mutex_);
      job_done_.wait(lock, [&] { return job.done; });
    }
    Status status = job.found.ok() ? each(job.doc, *job.found) : job.found.status();
    window_.pop_front();
    return status;
  }

  void Work() {
    for (;;) {
      Job* job = nullptr;
      {
        std::unique_lock lock(mutex_);
        work_ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        job = queue_.front();
        queue_.pop_front();
      }
      Result<std::vector<ImageOccurrence>> found = FindImages(job->doc, name_);
      {
        std::lock_guard lock(mutex_);
        job->found = std::move(found);
        job->done = true;
      }
      job_done_.notify_all();
    }
  }

  const std::string& name_;
  const int threads_;
  std::vector<std::thread> workers_;
  // Caller's thread only: every queued document, oldest first, until delivered.
  std::deque<std::unique_ptr<Job>> window_;
  std::mutex mutex_;  // guards queue_, stopping_ and every Job's found and done
  std::condition_variable work_ready_, job_done_;
  std::deque<Job*> queue_;  // not yet taken by a worker
  bool stopping_ = false;
};

}  // namespace

int DefaultFinderThreads() {
  // The cores this process may run on (taskset, cgroup cpusets), not all the machine has.
  cpu_set_t cpus;
  int cores = sched_getaffinity(0, sizeof cpus, &cpus) == 0
                  ? CPU_COUNT(&cpus)
                  : static_cast<int>(std::thread::hardware_concurrency());
  return std::clamp(cores, 1, 4);
}

Status FindImagesInStream(std::istream& in, const std::string& name, const FoundDocumentFn& each,
                          int threads) {
  if (threads <= 1) {
    return ForEachDocument(in, [&](const YamlDocument& doc) -> Status {
      Result<std::vector<ImageOccurrence>> found = FindImages(doc, name);
      if (!found.ok()) return found.status();
      return each(doc, *found);
    });
  }
  Pipeline pipeline(name, threads);
  Status delivered;  // the first error handing a document back, which ends the reading
  Status read = ForEachDocument(in, [&](const YamlDocument& doc) {
    delivered = pipeline.Add(doc, each);
    return delivered;
  });
  if (!delivered.ok()) return delivered;
  // A read error comes after the documents read before it, as in a sequential scan.
  FERRY_RETURN_IF_ERROR(pipeline.Finish(each));
  return read;
}

}  // namespace ferry
