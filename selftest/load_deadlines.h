// DeadlineList: the requests in flight of the plain-HTTP load transport, oldest first, for -t.
// Requests start in order and all have the same timeout, so appending at start keeps the list in
// deadline order: the earliest deadline is always at the front, and adding, removing (a request
// finished) and checking the front are O(1) with no allocation after construction. One entry per
// worker, so its size is bounded by -c however long the run.
#pragma once

#include <cstddef>
#include <vector>

#include "selftest/load_transport.h"

namespace ferry::selftest {

class DeadlineList {
 public:
  explicit DeadlineList(size_t workers) : links_(workers) {}

  // REQUIRES: `worker` is not in the list, and `deadline` is not before any deadline in it.
  void Add(size_t worker, LoadClock::time_point deadline);
  // Does nothing when `worker` is not in the list.
  void Remove(size_t worker);
  bool empty() const { return oldest_ == kNone; }
  // The worker with the earliest deadline. REQUIRES: !empty().
  size_t oldest() const { return oldest_; }
  // The earliest deadline; time_point::max() when empty.
  LoadClock::time_point earliest() const {
    return empty() ? LoadClock::time_point::max() : links_[oldest_].deadline;
  }

 private:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  struct Link {
    size_t prev = kNone, next = kNone;
    bool linked = false;
    LoadClock::time_point deadline;
  };
  std::vector<Link> links_;
  size_t oldest_ = kNone, newest_ = kNone;
};

}  // namespace ferry::selftest
