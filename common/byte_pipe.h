// A bounded, blocking byte pipe between one producer thread and one consumer thread: a blob flows
// from a download into an upload through it, so memory stays at `capacity` whatever the blob size.
// Either side can close with a Status; the other side then sees that Status.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

class BytePipe {
 public:
  explicit BytePipe(size_t capacity) : capacity_(capacity) {}

  // Blocks while the pipe is full. Fails once the reader has closed.
  Status Write(std::string_view bytes);
  // The producer is done: OK means end of data, an error is passed to the reader.
  void CloseWrite(Status status);

  // Blocks while the pipe is empty. Returns 0 at the end of data, or the producer's error.
  Result<size_t> Read(char* buffer, size_t size);
  // The consumer gives up (its error, or OK when it needs no more); unblocks the producer.
  void CloseRead(Status status);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::string> chunks_;  // written chunks, the front one partly read
  size_t front_pos_ = 0;            // bytes of chunks_.front() already read
  size_t buffered_ = 0;             // unread bytes in all chunks
  size_t capacity_;
  bool write_closed_ = false;
  bool read_closed_ = false;
  Status write_status_;
  Status read_status_;
};

}  // namespace ferry
