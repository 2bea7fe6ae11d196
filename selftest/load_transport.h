// The seam between the load loop (selftest/load_loop.h: workers, pacing, windows, recording) and
// the code that moves a request's bytes: libcurl for https (load_curl.h), a plain socket with
// http_parser for http (load_socket.h). Internal to the load generator.
#pragma once

#include <sys/epoll.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include "common/status.h"

namespace ferry::selftest {

using LoadClock = std::chrono::steady_clock;

// How one request ended, filled by the transport. Times are of the whole request: `sent` is the
// first send of its first hop, `last_byte` the end of its last hop's answer.
struct LoadOutcome {
  bool answered = false;   // an HTTP answer arrived (any status); else `error` says why not
  long status = 0;
  std::string error;       // "request to HOST:PORT: <reason>", one text per kind of failure
  LoadClock::time_point sent, first_byte, last_byte;  // meaningful when answered
  LoadClock::time_point finished;  // when the transport saw the request end (answered or not)
  uint64_t body_bytes = 0;
  uint64_t connections = 0;        // connections this request opened
  uint64_t dns_micros = 0, connect_micros = 0;  // of the connection it opened, else 0
};

// Receives finished requests; the load loop implements it.
class LoadSink {
 public:
  virtual ~LoadSink() = default;
  // `worker`'s request ended. Called from OnEvent/OnTimers, never from inside Start.
  virtual void Finished(size_t worker, const LoadOutcome& outcome) = 0;
};

// Moves the requests of `workers` workers (indices 0..workers-1), each with at most one request in
// flight, over descriptors it registers with the loop's epoll set. Single-threaded.
class LoadTransport {
 public:
  virtual ~LoadTransport() = default;
  // Begins `worker`'s next request (the loop has marked it busy).
  virtual void Start(size_t worker) = 0;
  // One ready descriptor from the loop's epoll set. A non-OK Status ends the run (a bug or
  // resource failure, not a failed request).
  virtual Status OnEvent(const epoll_event& event) = 0;
  // Called on every loop turn: time-outs and anything else due by now.
  virtual Status OnTimers(LoadClock::time_point now) = 0;
  // When OnTimers next has work; time_point::max() when nothing is pending.
  virtual LoadClock::time_point NextTimer() const = 0;
  // Drops `worker`'s request in flight without reporting it (the run is being stopped).
  virtual void Abandon(size_t worker) = 0;
};

}  // namespace ferry::selftest
