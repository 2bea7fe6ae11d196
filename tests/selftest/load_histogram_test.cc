// LatencyHistogram: the percentiles `ferry load` and the self-test report are right, in fixed memory.
#include "selftest/latency_histogram.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using ferry::selftest::LatencyHistogram;

namespace {

// The nearest-rank percentile of the raw samples: what the histogram approximates.
uint64_t ExactPercentile(std::vector<uint64_t> samples, double percent) {
  std::sort(samples.begin(), samples.end());
  auto rank = static_cast<size_t>(std::ceil(percent * samples.size() / 100.0));
  return samples[std::max<size_t>(rank, 1) - 1];
}

}  // namespace

TEST_CASE("an empty histogram reports zeros") {
  LatencyHistogram h;
  CHECK(h.count() == 0);
  CHECK(h.Percentile(50) == 0);
  CHECK(h.min_micros() == 0);
  CHECK(h.max_micros() == 0);
  CHECK(h.MeanMicros() == 0);
}

TEST_CASE("below 256 µs every value is kept exactly") {
  LatencyHistogram h;
  for (uint64_t v = 1; v <= 100; ++v) h.Record(v);
  CHECK(h.Percentile(1) == 1);
  CHECK(h.Percentile(10) == 10);
  CHECK(h.Percentile(50) == 50);
  CHECK(h.Percentile(99) == 99);
  CHECK(h.Percentile(100) == 100);
  CHECK(h.Percentile(99.5) == 100);  // nearest rank rounds up
  CHECK(h.sum_micros() == 5050);
  CHECK(h.MeanMicros() == Approx(50.5));
}

TEST_CASE("bucket boundaries tile the value range without gaps, each at most 1/128 of its value wide") {
  for (size_t i = 0; i + 1 < 4000; ++i) {
    INFO("bucket " << i);
    REQUIRE(LatencyHistogram::BucketUpper(i) == LatencyHistogram::BucketLower(i + 1));
    uint64_t lower = LatencyHistogram::BucketLower(i);
    REQUIRE(LatencyHistogram::BucketIndex(lower) == i);
    REQUIRE(LatencyHistogram::BucketIndex(LatencyHistogram::BucketUpper(i) - 1) == i);
    if (lower >= 256) REQUIRE((LatencyHistogram::BucketUpper(i) - lower) * 128 <= lower);
  }
}

TEST_CASE("percentiles of a wide spread are within 0.4% of the exact sample") {
  std::mt19937_64 random(42);
  std::lognormal_distribution<double> latency(std::log(2000.0), 1.0);  // median 2 ms, long tail
  std::vector<uint64_t> samples;
  LatencyHistogram h;
  for (int i = 0; i < 100000; ++i) {
    auto v = static_cast<uint64_t>(latency(random));
    samples.push_back(v);
    h.Record(v);
  }
  for (double p : {10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0, 99.9}) {
    INFO("p" << p);
    double exact = static_cast<double>(ExactPercentile(samples, p));
    CHECK(std::abs(static_cast<double>(h.Percentile(p)) - exact) <= exact * 0.004 + 1);
  }
  CHECK(h.Percentile(100) == *std::max_element(samples.begin(), samples.end()));
  CHECK(h.min_micros() == *std::min_element(samples.begin(), samples.end()));
}

TEST_CASE("a percentile never lies outside the recorded range") {
  LatencyHistogram h;
  h.Record(1000003);  // alone in a bucket 4096 µs wide: the midpoint would be far off
  CHECK(h.Percentile(50) == 1000003);
  CHECK(h.Percentile(99) == 1000003);
}

TEST_CASE("huge values are clamped into the last bucket, min and max stay exact") {
  LatencyHistogram h;
  h.Record(uint64_t{1} << 50);
  h.Record(5);
  CHECK(h.max_micros() == uint64_t{1} << 50);
  CHECK(h.Percentile(100) <= uint64_t{1} << 50);
  CHECK(h.Percentile(50) == 5);
}

TEST_CASE("merging windows gives the same percentiles as recording everything in one") {
  LatencyHistogram all, first, second;
  for (uint64_t v = 100; v < 50000; v += 7) {
    all.Record(v);
    (v % 2 ? first : second).Record(v);
  }
  LatencyHistogram merged;
  merged.Merge(first);
  merged.Merge(second);
  CHECK(merged.count() == all.count());
  CHECK(merged.sum_micros() == all.sum_micros());
  CHECK(merged.min_micros() == all.min_micros());
  CHECK(merged.max_micros() == all.max_micros());
  for (double p : {50.0, 95.0, 99.0}) CHECK(merged.Percentile(p) == all.Percentile(p));
  merged.Clear();
  CHECK(merged.count() == 0);
  CHECK(merged.Percentile(50) == 0);
}
