// LatencyHistogram: counts latencies in fixed memory, for percentiles over any number of requests.
//
// Values are microseconds. Below 256 µs every value has its own bucket (exact); above, buckets are
// log-linear with 128 per power of two, so a bucket is at most 1/128 of its value wide and a
// reported percentile (the bucket's midpoint, clamped to the exact min and max) is within 0.4% of
// the true sample. Count, sum, min and max are exact. About 36 KB whatever the sample count, so a
// long `-z` run does not grow. Not thread-safe; the load loop owns one per window.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ferry::selftest {

class LatencyHistogram {
 public:
  LatencyHistogram();

  void Record(uint64_t micros);
  // Adds every sample of `other` to this histogram.
  void Merge(const LatencyHistogram& other);
  void Clear();

  uint64_t count() const { return count_; }
  uint64_t sum_micros() const { return sum_; }
  // 0 when empty.
  uint64_t min_micros() const { return count_ ? min_ : 0; }
  uint64_t max_micros() const { return max_; }
  double MeanMicros() const { return count_ ? static_cast<double>(sum_) / count_ : 0.0; }

  // The nearest-rank percentile: the smallest recorded value (to the bucket's precision) that at
  // least `percent`% of samples do not exceed. `percent` in (0, 100]; 0 when empty. The first and
  // last ranks are the exact min and max.
  uint64_t Percentile(double percent) const;

  // Calls `visit(lower_micros, count)` for each non-empty bucket in ascending order, `lower` being
  // the bucket's lower bound raised to the exact minimum (so the fastest sample is placed exactly).
  template <typename Visit>
  void ForEachBucket(Visit visit) const {
    for (size_t i = 0; i < counts_.size(); ++i)
      if (counts_[i]) visit(std::max(BucketLower(i), min_micros()), counts_[i]);
  }

  // Bucket arithmetic, public for tests: a value's bucket index and a bucket's [lower, upper).
  static size_t BucketIndex(uint64_t micros);
  static uint64_t BucketLower(size_t index);
  static uint64_t BucketUpper(size_t index);

 private:
  uint64_t Representative(size_t index) const;

  std::vector<uint64_t> counts_;
  uint64_t count_ = 0, sum_ = 0, min_ = 0, max_ = 0;
};

}  // namespace ferry::selftest
