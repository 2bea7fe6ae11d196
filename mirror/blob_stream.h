// One blob's bytes on their way from where they are read (a registry download, an archive pass)
// on one thread to where they are written (an upload, a file) on another. Every stream of a copy
// draws on one ByteBudget: the reading side blocks while the budget is spent, so memory stays
// bounded however large the blobs or however many transfers are waiting. Thread-safe.
//
// CheckedReader sits in front of every write: it counts and hashes a blob's bytes and withholds
// the last of them until they match the descriptor, so no sink ever commits a corrupt blob.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/http_client.h"
#include "common/sha256.h"
#include "common/status.h"
#include "mirror/manifest.h"

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
  // At most `capacity` bytes wait in this stream, and all streams of `budget` together at most the
  // budget's capacity. Bytes wait in blocks of 64 KiB, each freed as soon as it is read, so what
  // stays resident follows what is buffered (not one allocation per chunk: chunks come from one
  // thread and go on another, and glibc's per-thread arenas would keep every high-water mark).
  explicit BlobStream(ByteBudget& budget, int64_t capacity = 1 << 20) : budget_(budget), capacity_(capacity) {}
  ~BlobStream();  // gives back what is still buffered
  BlobStream(const BlobStream&) = delete;
  BlobStream& operator=(const BlobStream&) = delete;

  // Reader side. Write blocks while this stream is full or the budget is spent. Once the upload
  // side abandoned the stream it drops the bytes and returns the abandon Status (OK: the bytes are
  // not needed). Close ends the stream: OK = all bytes written; an error is what the upload side's
  // next Read returns.
  Status Write(std::string_view bytes);
  void Close(Status status);

  // Upload side (a BodyReader): up to `size` bytes, blocking until some are there; 0 at the end
  // after Close(OK); the writer's error after Close(error). Abandon stops the stream early and
  // frees its buffer; later Writes return `status`.
  Result<size_t> Read(char* buffer, size_t size);
  void Abandon(Status status);
  bool abandoned() const;

 private:
  ByteBudget& budget_;
  const int64_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  struct Block {
    std::unique_ptr<char[]> bytes;
    size_t begin = 0, end = 0;  // the unread part
  };
  std::deque<Block> blocks_;
  int64_t buffered_ = 0;
  bool closed_ = false, abandoned_ = false;
  Status close_status_, abandon_status_;
};

// A BodyReader over `source` that yields exactly `blob.size` bytes: a short or long source, or
// bytes that do not hash to `blob.digest`, fail the read that would have returned the last bytes,
// so an upload or a file write stops before it is complete. `from` names the source in messages;
// `on_bytes` (may be empty) sees every chunk as it passes.
class CheckedReader {
 public:
  CheckedReader(BodyReader source, Descriptor blob, std::string from, std::function<void(size_t)> on_bytes = {});
  Result<size_t> operator()(char* buffer, size_t size);
  int64_t delivered() const { return delivered_; }

 private:
  Status Mismatch(const std::string& why) const;

  BodyReader source_;
  Descriptor blob_;
  std::string from_;
  std::function<void(size_t)> on_bytes_;
  Sha256 hash_;
  int64_t delivered_ = 0;
};

}  // namespace ferry
