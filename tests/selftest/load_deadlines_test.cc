// DeadlineList: -t for the plain-HTTP load transport. The request that started first is always the
// one checked, whichever others finish in between.
#include "selftest/load_deadlines.h"

#include <catch2/catch.hpp>

using ferry::selftest::DeadlineList;
using ferry::selftest::LoadClock;

TEST_CASE("the oldest request in flight is at the front, whatever finishes in between") {
  DeadlineList list(4);
  LoadClock::time_point t0{};
  CHECK(list.empty());
  CHECK(list.earliest() == LoadClock::time_point::max());
  int second = 0;  // started in this order, so deadlines in this order
  for (size_t w : {2, 0, 3, 1}) list.Add(w, t0 + std::chrono::seconds(++second));
  CHECK(list.oldest() == 2);
  list.Remove(0);  // from the middle
  CHECK(list.oldest() == 2);
  list.Remove(2);  // the front
  CHECK(list.oldest() == 3);
  CHECK(list.earliest() == t0 + std::chrono::seconds(3));  // worker 3 started third
  list.Remove(2);  // not in the list any more: nothing happens
  list.Remove(1);  // the back
  CHECK(list.oldest() == 3);
  list.Add(0, t0 + std::chrono::seconds(20));  // a finished worker starts again, behind the others
  list.Remove(3);
  CHECK(list.oldest() == 0);
  list.Remove(0);
  CHECK(list.empty());
}
