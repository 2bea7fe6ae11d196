#include "mirror/bundle_stream.h"

#include <algorithm>
#include <cstring>

namespace ferry {

void ByteBudget::Take(int64_t bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return used_ == 0 || used_ + bytes <= capacity_; });
  used_ += bytes;
}

void ByteBudget::Give(int64_t bytes) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    used_ -= bytes;
  }
  changed_.notify_all();
}

int64_t ByteBudget::used() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return used_;
}

BlobStream::~BlobStream() {
  if (buffered_ > 0) budget_.Give(buffered_);
}

Status BlobStream::Write(std::string chunk) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (abandoned_) return abandon_status_;
  }
  // Taken outside the lock: the upload side must be able to read (and so give back) meanwhile.
  const int64_t size = static_cast<int64_t>(chunk.size());
  budget_.Take(size);
  std::lock_guard<std::mutex> lock(mutex_);
  if (abandoned_) {
    budget_.Give(size);
    return abandon_status_;
  }
  chunks_.push_back(std::move(chunk));
  buffered_ += size;
  changed_.notify_all();
  return Status::Ok();
}

void BlobStream::Close(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  closed_ = true;
  close_status_ = std::move(status);
  changed_.notify_all();
}

Result<size_t> BlobStream::Read(char* buffer, size_t size) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return closed_ || buffered_ > 0; });
  if (buffered_ == 0) {
    if (!close_status_.ok()) return close_status_;
    return size_t{0};
  }
  size_t copied = 0;
  while (copied < size && !chunks_.empty()) {
    const std::string& front = chunks_.front();
    size_t n = std::min(size - copied, front.size() - front_pos_);
    std::memcpy(buffer + copied, front.data() + front_pos_, n);
    copied += n;
    front_pos_ += n;
    if (front_pos_ == front.size()) {
      chunks_.pop_front();
      front_pos_ = 0;
    }
  }
  buffered_ -= static_cast<int64_t>(copied);
  budget_.Give(static_cast<int64_t>(copied));
  return copied;
}

void BlobStream::Abandon(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  abandoned_ = true;
  abandon_status_ = std::move(status);
  chunks_.clear();
  front_pos_ = 0;
  budget_.Give(buffered_);
  buffered_ = 0;
  changed_.notify_all();
}

}  // namespace ferry
