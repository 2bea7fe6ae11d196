#include "selftest/load_loop.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ferry::selftest {
namespace {

double Seconds(LoadClock::duration d) { return std::chrono::duration<double>(d).count(); }

uint64_t Micros(LoadClock::duration d) {
  return d.count() > 0 ? std::chrono::duration_cast<std::chrono::microseconds>(d).count() : 0;
}

}  // namespace

LoadLoop::LoadLoop(const LoadOptions& options) : options_(options) {}

LoadLoop::~LoadLoop() {
  if (epoll_ >= 0) close(epoll_);
}

Status LoadLoop::Init() {
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return Internal(std::string("epoll_create1: ") + std::strerror(errno));
  int count = options_.concurrency;
  if (options_.duration.count() == 0) count = static_cast<int>(std::min<uint64_t>(count, options_.requests));
  workers_.resize(count);
  for (size_t i = 0; i < workers_.size(); ++i) idle_.push_back(workers_.size() - 1 - i);  // worker 0 first
  if (options_.rate_per_worker > 0)
    period_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / options_.rate_per_worker));
  return Status::Ok();
}

bool LoadLoop::MayStart(Clock::time_point now) const {
  if (stopped_) return false;
  if (options_.duration.count() > 0) return now < deadline_;
  return result_.started < options_.requests;
}

void LoadLoop::StartDue(Clock::time_point now, LoadTransport& transport) {
  for (size_t i = 0; i < idle_.size() && MayStart(now);) {
    size_t index = idle_[i];
    Worker& w = workers_[index];
    if (period_.count() > 0 && w.next_start > now) {
      ++i;
      continue;
    }
    idle_[i] = idle_.back();
    idle_.pop_back();
    w.issued = Clock::now();
    w.busy = true;
    ++result_.started;
    ++in_flight_;
    window_max_in_flight_ = std::max(window_max_in_flight_, in_flight_);
    result_.max_in_flight = std::max(result_.max_in_flight, in_flight_);
    transport.Start(index);
  }
}

void LoadLoop::Finished(size_t index, const LoadOutcome& outcome) {
  Worker& w = workers_[index];
  --in_flight_;
  ++window_finished_;
  last_completion_ = outcome.finished;
  result_.connections += outcome.connections;
  if (outcome.answered) {
    ++result_.responses;
    ++result_.status_codes[outcome.status];
    // Latency runs from the request's first send on a connected socket to its last byte, as wrk
    // times from its write: the server's time plus the network's. Time waiting in this loop
    // before the send is kept apart (`queued`): when it grows, the load generator itself is the
    // bottleneck.
    uint64_t latency = Micros(outcome.last_byte - outcome.sent);
    result_.latency.Record(latency);
    window_latency_.Record(latency);
    result_.queued.Record(Micros(outcome.sent - w.issued));
    result_.dns.Record(outcome.dns_micros);
    result_.connect.Record(outcome.connect_micros);
    result_.wait.Record(Micros(outcome.first_byte - outcome.sent));
    result_.read.Record(Micros(outcome.last_byte - outcome.first_byte));
    result_.body_bytes += outcome.body_bytes;
  } else {
    ++result_.errors[outcome.error];
    ++window_errors_;
  }
  w.busy = false;
  // Under -q, the next start is one period after this one was due, so pacing does not drift with
  // the loop's delays; a worker far behind (a slow answer) starts at once but does not burst.
  w.next_start = std::max(w.next_start + period_, outcome.finished - period_);
  idle_.push_back(index);
}

void LoadLoop::CloseWindow(Clock::time_point now) {
  LoadWindow w;
  w.end_seconds = Seconds(now - start_);
  w.length_seconds = Seconds(now - window_start_);
  w.in_flight = in_flight_;
  w.max_in_flight = window_max_in_flight_;
  w.completed = window_finished_;
  w.errors = window_errors_;
  w.requests_per_second = w.length_seconds > 0 ? window_finished_ / w.length_seconds : 0;
  w.p50_seconds = window_latency_.Percentile(50) / 1e6;
  w.p95_seconds = window_latency_.Percentile(95) / 1e6;
  w.p99_seconds = window_latency_.Percentile(99) / 1e6;
  result_.timeline.push_back(w);
  if (options_.on_window) options_.on_window(w);
  window_latency_.Clear();
  window_finished_ = window_errors_ = 0;
  window_max_in_flight_ = in_flight_;
  window_start_ = now;
  next_window_ += options_.window;
  if (next_window_ <= now) next_window_ = now + options_.window;  // the loop was held up
}

void LoadLoop::Abandon(LoadTransport& transport) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    if (!workers_[i].busy) continue;
    transport.Abandon(i);
    workers_[i].busy = false;
    ++result_.abandoned;
  }
  in_flight_ = 0;
}

LoadClock::duration LoadLoop::WaitTime(Clock::time_point now, const LoadTransport& transport) const {
  Clock::time_point until = std::min(next_window_, transport.NextTimer());
  if (MayStart(now)) {
    if (options_.duration.count() > 0) until = std::min(until, deadline_);
    for (size_t i : idle_) until = std::min(until, workers_[i].next_start);
  }
  return until <= now ? Clock::duration::zero() : until - now;
}

// epoll_pwait2 takes nanoseconds, so -q paces requests exactly; epoll_wait's milliseconds are the
// fallback on kernels before 5.11 (rounded up: waking early would spin).
int LoadLoop::Wait(epoll_event* events, int size, Clock::duration timeout) {
  static bool have_pwait2 = true;
  if (have_pwait2) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    timespec t{.tv_sec = static_cast<time_t>(ns / 1000000000), .tv_nsec = static_cast<long>(ns % 1000000000)};
    int ready = epoll_pwait2(epoll_, events, size, &t, nullptr);
    if (ready >= 0 || errno != ENOSYS) return ready;
    have_pwait2 = false;
  }
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count();
  return epoll_wait(epoll_, events, size, static_cast<int>((micros + 999) / 1000));
}

Result<LoadResult> LoadLoop::Run(LoadTransport& transport) {
  start_ = window_start_ = last_completion_ = Clock::now();
  deadline_ = start_ + options_.duration;
  next_window_ = start_ + options_.window;
  for (Worker& w : workers_) w.next_start = start_;
  constexpr int kEvents = 256;
  epoll_event events[kEvents];
  StartDue(start_, transport);
  while (in_flight_ > 0 || MayStart(Clock::now())) {
    int ready = Wait(events, kEvents, WaitTime(Clock::now(), transport));
    if (ready < 0 && errno != EINTR) return Internal(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < ready; ++i) FERRY_RETURN_IF_ERROR(transport.OnEvent(events[i]));
    Clock::time_point now = Clock::now();
    FERRY_RETURN_IF_ERROR(transport.OnTimers(now));
    if (now >= next_window_) {
      CloseWindow(now);
      if (options_.stop_requested && options_.stop_requested()) {
        stopped_ = true;
        Abandon(transport);
      }
    }
    StartDue(now, transport);
  }
  Clock::time_point end = Clock::now();
  if (window_finished_ > 0) CloseWindow(end);
  result_.total_seconds = Seconds((result_.abandoned ? end : last_completion_) - start_);
  return std::move(result_);
}

}  // namespace ferry::selftest
