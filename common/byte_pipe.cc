#include "common/byte_pipe.h"

#include <algorithm>
#include <cstring>

namespace ferry {

Status BytePipe::Write(std::string_view bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!bytes.empty()) {
    changed_.wait(lock, [&] { return read_closed_ || buffered_ < capacity_; });
    if (read_closed_) return read_status_.ok() ? Internal("pipe reader closed early") : read_status_;
    size_t n = std::min(bytes.size(), capacity_ - buffered_);
    chunks_.emplace_back(bytes.substr(0, n));
    buffered_ += n;
    bytes.remove_prefix(n);
    changed_.notify_all();
  }
  return Status::Ok();
}

void BytePipe::CloseWrite(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  write_closed_ = true;
  write_status_ = std::move(status);
  changed_.notify_all();
}

Result<size_t> BytePipe::Read(char* out, size_t size) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return write_closed_ || buffered_ > 0; });
  if (buffered_ == 0) {
    if (!write_status_.ok()) return write_status_;
    return size_t{0};
  }
  size_t copied = 0;
  while (copied < size && !chunks_.empty()) {
    const std::string& front = chunks_.front();
    size_t n = std::min(size - copied, front.size() - front_pos_);
    std::memcpy(out + copied, front.data() + front_pos_, n);
    copied += n;
    front_pos_ += n;
    if (front_pos_ == front.size()) {
      chunks_.pop_front();
      front_pos_ = 0;
    }
  }
  buffered_ -= copied;
  changed_.notify_all();
  return copied;
}

void BytePipe::CloseRead(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  read_closed_ = true;
  read_status_ = std::move(status);
  changed_.notify_all();
}

}  // namespace ferry
