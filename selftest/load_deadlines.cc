#include "selftest/load_deadlines.h"

namespace ferry::selftest {

void DeadlineList::Add(size_t worker, LoadClock::time_point deadline) {
  Link& link = links_[worker];
  link = {.prev = newest_, .next = kNone, .linked = true, .deadline = deadline};
  if (newest_ != kNone)
    links_[newest_].next = worker;
  else
    oldest_ = worker;
  newest_ = worker;
}

void DeadlineList::Remove(size_t worker) {
  Link& link = links_[worker];
  if (!link.linked) return;
  if (link.prev != kNone)
    links_[link.prev].next = link.next;
  else
    oldest_ = link.next;
  if (link.next != kNone)
    links_[link.next].prev = link.prev;
  else
    newest_ = link.prev;
  link = Link{};
}

}  // namespace ferry::selftest
