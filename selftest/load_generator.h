// RunLoad: an HTTP load generator in the manner of hey, on one thread and one epoll loop.
//
// `concurrency` workers each send one request at a time over their own kept-alive connection, so
// at most `concurrency` connections stay open. The run stops after `requests` requests or, when
// `duration` is set, at the first request that would start after it; requests in flight then
// finish (as in hey). The scheduling and recording live once, in selftest/load_loop.h; two
// transports carry the bytes (selftest/load_transport.h):
//   - http:// goes over plain non-blocking sockets with the request serialised once and answers
//     parsed by http_parser, as wrk does (selftest/load_socket.h). It follows redirects only on
//     the same scheme, host and port; a redirect elsewhere counts as a failed request.
//   - https:// goes through libcurl's multi API for TLS (selftest/load_curl.h), which follows
//     redirects anywhere.
// Each request's latency runs from its first send on a connected socket to its last byte, as wrk
// times from its write; time spent waiting in the loop before that is reported apart
// (LoadResult::queued). Connection setup shows in LoadResult::connect, not in the latency.
//
// While it runs, RunLoad cuts time into windows of `window` (default one second) and reports each
// through `on_window` and in LoadResult::timeline: requests in flight, completions per second and
// that window's latency percentiles. The self-test draws its charts from these.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"
#include "selftest/latency_histogram.h"

namespace ferry::selftest {

// One window of the timeline. Latencies are of the requests that completed in the window.
struct LoadWindow {
  double end_seconds = 0;       // since the run started
  double length_seconds = 0;    // the last window may be shorter
  int in_flight = 0;            // requests in flight when the window closed
  int max_in_flight = 0;        // the most at once during the window
  uint64_t completed = 0;       // requests finished in the window: answered (any status) or failed
  uint64_t errors = 0;          // transport failures in the window
  double requests_per_second = 0;  // completed / length_seconds
  double p50_seconds = 0, p95_seconds = 0, p99_seconds = 0;  // 0 when nothing completed
};

struct LoadOptions {
  std::string url;                   // http:// or https://
  std::string method = "GET";
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent when not empty
  std::string content_type;          // Content-Type header when not empty
  std::string host;                  // Host header instead of the URL's host when not empty
  int concurrency = 50;              // workers (hey -c)
  uint64_t requests = 200;           // total requests across all workers (hey -n); ignored with duration
  std::chrono::milliseconds duration{0};  // run this long instead of counting requests (hey -z)
  double rate_per_worker = 0;        // at most this many requests per second per worker; 0 = no limit (hey -q)
  std::chrono::milliseconds timeout{20000};  // per request; 0 = none (hey -t)
  bool keep_alive = true;            // false: a new connection for every request
  bool follow_redirects = true;      // http: same origin only, at most 10 hops; https: libcurl's rules
  bool tls_verify = true;
  std::string ca_file;               // extra CA bundle (PEM) for https
  std::chrono::milliseconds window{1000};   // timeline resolution
  // Called on the loop's thread after each window closes; keep it quick (it delays requests).
  std::function<void(const LoadWindow&)> on_window;
  // Polled when each window closes; true ends the run, abandoning requests in flight.
  std::function<bool()> stop_requested;
};

// Per-phase timing (hey's "Details"), over successful requests only.
struct PhaseStats {
  uint64_t sum_micros = 0, min_micros = 0, max_micros = 0, count = 0;
  void Record(uint64_t micros);
  double MeanSeconds() const { return count ? sum_micros / 1e6 / count : 0.0; }
};

struct LoadResult {
  double total_seconds = 0;        // from the first request to the last completion
  uint64_t started = 0;            // requests sent
  uint64_t responses = 0;          // requests answered with any HTTP status
  uint64_t abandoned = 0;          // in flight when stop_requested ended the run
  uint64_t connections = 0;        // TCP (or TLS) connections opened
  uint64_t body_bytes = 0;         // response body bytes received
  int max_in_flight = 0;
  LatencyHistogram latency;        // of every answered request
  // Phases of each successful request; 0 for a request that opened no connection. https: as libcurl
  // times them (connect includes DNS and TLS). http: connect is connect() until writable; the name
  // is looked up once before the run, and that time is charged to the run's first connection.
  PhaseStats connect;
  PhaseStats dns;
  PhaseStats wait;                 // request sent to first response header byte
  PhaseStats read;                 // first response byte to the last
  PhaseStats queued;               // handed to the transport until sent (waiting in the loop, connecting)
  std::map<long, uint64_t> status_codes;
  std::map<std::string, uint64_t> errors;  // transport failure message -> count
  std::vector<LoadWindow> timeline;

  uint64_t error_count() const;
  // Finished requests (answered or failed) per second, as hey counts them.
  double RequestsPerSecond() const { return total_seconds > 0 ? (responses + error_count()) / total_seconds : 0.0; }
};

// Checks `options` (URL scheme, counts, headers) and runs the load. A non-OK Status means the run
// could not start (bad options, libcurl or epoll setup); failed requests, a host name that does
// not resolve included, are counted in LoadResult::errors.
Result<LoadResult> RunLoad(const LoadOptions& options);

}  // namespace ferry::selftest
