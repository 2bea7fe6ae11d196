// One blob's bytes on their way from the archive reader (one thread) to its upload (another), so
// `bundle load` can read the next entries while earlier blobs are still being sent. Every stream
// of a load draws on one ByteBudget: the reader blocks while the budget is spent, so memory stays
// bounded however large the blobs or however many uploads are waiting. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>

#include "common/status.h"

namespace ferry {

// Bytes buffered in all streams together, at most `capacity` (one chunk larger than that still
// passes when nothing else is buffered, so a writer never waits forever).
class ByteBudget {
 public:
  explicit ByteBudget(int64_t capacity) : capacity_(capacity) {}
  void Take(int64_t bytes);  // blocks while the budget is spent
  void Give(int64_t bytes);
  int64_t used() const;

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int64_t capacity_;
  int64_t used_ = 0;
};

class BlobStream {
 public:
  explicit BlobStream(ByteBudget& budget) : budget_(budget) {}
  ~BlobStream();  // gives back what is still buffered
  BlobStream(const BlobStream&) = delete;
  BlobStream& operator=(const BlobStream&) = delete;

  // Reader side. Write blocks while the budget is spent. Once the upload side abandoned the stream
  // it drops the chunk and returns the abandon Status (OK: the bytes are not needed). Close ends
  // the stream: OK = all bytes written; an error is what the upload side's next Read returns.
  Status Write(std::string chunk);
  void Close(Status status);

  // Upload side (a BodyReader): up to `size` bytes, blocking until some are there; 0 at the end
  // after Close(OK); the writer's error after Close(error). Abandon stops the stream early and
  // frees its buffer; later Writes return `status`.
  Result<size_t> Read(char* buffer, size_t size);
  void Abandon(Status status);

 private:
  ByteBudget& budget_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> chunks_;  // the front one partly read
  size_t front_pos_ = 0;
  int64_t buffered_ = 0;
  bool closed_ = false, abandoned_ = false;
  Status close_status_, abandon_status_;
};

}  // namespace ferry
