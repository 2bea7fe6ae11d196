#include "selftest/latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace ferry::selftest {
namespace {

constexpr uint64_t kExact = 256;     // values below this have a bucket each
constexpr uint64_t kSubBuckets = 128;  // buckets per power of two above kExact
constexpr int kFirstMagnitude = 8;     // log2(kExact)
constexpr int kLastMagnitude = 43;     // 2^44 µs is about 200 days: larger values are clamped
constexpr size_t kBuckets = kExact + (kLastMagnitude - kFirstMagnitude + 1) * kSubBuckets;

}  // namespace

LatencyHistogram::LatencyHistogram() : counts_(kBuckets, 0) {}

size_t LatencyHistogram::BucketIndex(uint64_t micros) {
  if (micros < kExact) return micros;
  micros = std::min<uint64_t>(micros, (uint64_t{1} << (kLastMagnitude + 1)) - 1);
  int magnitude = std::bit_width(micros) - 1;
  int shift = magnitude - 7;  // keep the top 8 bits: 128..255
  return kExact + (magnitude - kFirstMagnitude) * kSubBuckets + ((micros >> shift) - kSubBuckets);
}

uint64_t LatencyHistogram::BucketLower(size_t index) {
  if (index < kExact) return index;
  size_t group = (index - kExact) / kSubBuckets, offset = (index - kExact) % kSubBuckets;
  int shift = static_cast<int>(group) + kFirstMagnitude - 7;
  return (kSubBuckets + offset) << shift;
}

uint64_t LatencyHistogram::BucketUpper(size_t index) {
  if (index < kExact) return index + 1;
  int shift = static_cast<int>((index - kExact) / kSubBuckets) + kFirstMagnitude - 7;
  return BucketLower(index) + (uint64_t{1} << shift);
}

uint64_t LatencyHistogram::Representative(size_t index) const {
  uint64_t lower = BucketLower(index);
  uint64_t mid = index < kExact ? lower : lower + (BucketUpper(index) - lower) / 2;
  return std::clamp(mid, min_micros(), max_);
}

void LatencyHistogram::Record(uint64_t micros) {
  ++counts_[BucketIndex(micros)];
  min_ = count_ ? std::min(min_, micros) : micros;
  max_ = std::max(max_, micros);
  ++count_;
  sum_ += micros;
}

void LatencyHistogram::Merge(const LatencyHistogram& other) {
  if (other.count_ == 0) return;
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  min_ = count_ ? std::min(min_, other.min_) : other.min_;
  max_ = std::max(max_, other.max_);
  count_ += other.count_;
  sum_ += other.sum_;
}

void LatencyHistogram::Clear() {
  if (count_ == 0) return;
  std::fill(counts_.begin(), counts_.end(), 0);
  count_ = sum_ = min_ = max_ = 0;
}

uint64_t LatencyHistogram::Percentile(double percent) const {
  if (count_ == 0) return 0;
  double wanted = std::ceil(std::clamp(percent, 0.0, 100.0) * static_cast<double>(count_) / 100.0);
  uint64_t rank = std::max<uint64_t>(1, static_cast<uint64_t>(wanted));
  if (rank == 1) return min_;
  if (rank >= count_) return max_;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return Representative(i);
  }
  return max_;
}

}  // namespace ferry::selftest
