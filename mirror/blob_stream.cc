#include "mirror/blob_stream.h"

#include <algorithm>
#include <cstring>

namespace ferry {
namespace {

constexpr size_t kBlock = 64 << 10;

}  // namespace

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

Status BlobStream::Write(std::string_view bytes) {
  while (!bytes.empty()) {
    int64_t n;
    {
      // This stream's own room first: a fast reader must not fill the budget ahead of a slow writer.
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return abandoned_ || buffered_ < capacity_; });
      if (abandoned_) return abandon_status_;
      n = std::min<int64_t>(static_cast<int64_t>(bytes.size()), capacity_ - buffered_);
    }
    // Taken outside the lock: the upload side must be able to read (and so give back) meanwhile.
    budget_.Take(n);
    std::lock_guard<std::mutex> lock(mutex_);
    if (abandoned_) {
      budget_.Give(n);
      return abandon_status_;
    }
    for (int64_t copied = 0; copied < n;) {
      if (blocks_.empty() || blocks_.back().end == kBlock) blocks_.push_back({std::make_unique_for_overwrite<char[]>(kBlock)});
      Block& last = blocks_.back();
      size_t m = std::min(kBlock - last.end, static_cast<size_t>(n - copied));
      std::memcpy(last.bytes.get() + last.end, bytes.data() + copied, m);
      last.end += m;
      copied += static_cast<int64_t>(m);
    }
    buffered_ += n;
    bytes.remove_prefix(static_cast<size_t>(n));
    changed_.notify_all();
  }
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
  size_t n = 0;
  while (n < size && !blocks_.empty()) {
    Block& front = blocks_.front();
    size_t m = std::min(size - n, front.end - front.begin);
    std::memcpy(buffer + n, front.bytes.get() + front.begin, m);
    front.begin += m;
    n += m;
    if (front.begin == front.end) blocks_.pop_front();  // freed as soon as it is read
  }
  buffered_ -= static_cast<int64_t>(n);
  budget_.Give(static_cast<int64_t>(n));
  changed_.notify_all();  // the writer may be waiting for room
  return n;
}

void BlobStream::Abandon(Status status) {
  std::lock_guard<std::mutex> lock(mutex_);
  abandoned_ = true;
  abandon_status_ = std::move(status);
  budget_.Give(buffered_);
  buffered_ = 0;
  blocks_.clear();
  changed_.notify_all();
}

bool BlobStream::abandoned() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return abandoned_;
}

CheckedReader::CheckedReader(BodyReader source, Descriptor blob, std::string from, std::function<void(size_t)> on_bytes)
    : source_(std::move(source)), blob_(std::move(blob)), from_(std::move(from)), on_bytes_(std::move(on_bytes)) {}

Status CheckedReader::Mismatch(const std::string& why) const {
  return DataLoss("blob " + blob_.digest + " from " + from_ + " " + why + "; nothing was committed");
}

Result<size_t> CheckedReader::operator()(char* buffer, size_t size) {
  const int64_t left = blob_.size - delivered_;
  // Ask for one byte more than is left, so a source longer than its descriptor is noticed.
  size_t want = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size), left + 1));
  if (want == 0) want = 1;
  Result<size_t> n = source_(buffer, want);
  if (!n.ok()) return n;
  if (*n == 0) {
    if (left == 0) {
      // An empty blob has no last chunk to check: check it here.
      if (blob_.size == 0 && Sha256Digest("") != blob_.digest) return Mismatch("is empty");
      return size_t{0};
    }
    return Mismatch("ended after " + std::to_string(delivered_) + " of " + std::to_string(blob_.size) + " bytes");
  }
  if (static_cast<int64_t>(*n) > left)
    return Mismatch("is longer than its descriptor's " + std::to_string(blob_.size) + " bytes");
  hash_.Update(std::string_view(buffer, *n));
  if (static_cast<int64_t>(*n) == left) {
    std::string actual = hash_.Digest();
    if (actual != blob_.digest) return Mismatch("has bytes that hash to " + actual);
  }
  delivered_ += static_cast<int64_t>(*n);
  if (on_bytes_) on_bytes_(*n);
  return n;
}

}  // namespace ferry
