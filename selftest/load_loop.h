// LoadLoop: the one event loop of `ferry load`, whatever carries the requests. It owns the epoll
// set, decides when each worker starts its next request (-n exactness, -z deadline, -q pacing),
// records each finished request into LoadResult (latency, phases, status codes, errors), closes
// timeline windows and honours stop_requested. The transport (selftest/load_transport.h) moves
// the bytes and reports each request's LoadOutcome back through LoadSink::Finished.
#pragma once

#include <vector>

#include "selftest/load_generator.h"
#include "selftest/load_transport.h"

namespace ferry::selftest {

class LoadLoop : public LoadSink {
 public:
  // `options` must have passed LoadRequest::Make and outlive the loop.
  explicit LoadLoop(const LoadOptions& options);
  ~LoadLoop() override;
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  // Creates the epoll set and the workers (min(-c, -n) of them without -z).
  Status Init();
  int epoll_fd() const { return epoll_; }
  size_t worker_count() const { return workers_.size(); }

  // Runs the load through `transport`, which must have been made for this loop's epoll set and
  // worker count. A non-OK Status means the loop itself failed; failed requests are counted.
  Result<LoadResult> Run(LoadTransport& transport);

  void Finished(size_t worker, const LoadOutcome& outcome) override;

 private:
  using Clock = LoadClock;

  // The loop's side of a worker: whether it has a request out, and its timing under -q.
  struct Worker {
    bool busy = false;
    Clock::time_point next_start;  // under -q, when this worker may send again
    Clock::time_point issued;      // handed to the transport
  };

  bool MayStart(Clock::time_point now) const;
  void StartDue(Clock::time_point now, LoadTransport& transport);
  void CloseWindow(Clock::time_point now);
  void Abandon(LoadTransport& transport);
  Clock::duration WaitTime(Clock::time_point now, const LoadTransport& transport) const;
  int Wait(epoll_event* events, int size, Clock::duration timeout);

  const LoadOptions& options_;
  int epoll_ = -1;
  std::vector<Worker> workers_;
  std::vector<size_t> idle_;  // workers waiting to start their next request

  Clock::time_point start_, deadline_, last_completion_, window_start_, next_window_;
  Clock::duration period_{0};  // between one worker's request starts, under -q
  bool stopped_ = false;
  int in_flight_ = 0;
  LoadResult result_;
  LatencyHistogram window_latency_;
  uint64_t window_finished_ = 0, window_errors_ = 0;
  int window_max_in_flight_ = 0;
};

}  // namespace ferry::selftest
