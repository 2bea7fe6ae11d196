#include "selftest/load_generator.h"

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "selftest/load_request.h"

namespace ferry::selftest {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// One worker's handle and the timeline of its current request (after redirects, of all hops).
struct Worker {
  CURL* easy = nullptr;
  bool busy = false;
  Clock::time_point next_start;  // under -q, when this worker may send again
  Clock::time_point issued;      // handed to libcurl
  Clock::time_point sent;        // first sent on a connected socket: the latency starts here
  Clock::time_point first_byte;  // the first response header line arrived
  Clock::time_point last_byte;   // the end of the headers or the latest body bytes arrived
  bool was_sent = false, answered = false;
  uint64_t body_bytes = 0;
};

// The event loop: owns the multi handle, the easy handles and the epoll set for one run.
class LoadLoop {
 public:
  LoadLoop(const LoadOptions& options, LoadRequest request) : options_(options), request_(std::move(request)) {}
  ~LoadLoop();
  LoadLoop(const LoadLoop&) = delete;
  LoadLoop& operator=(const LoadLoop&) = delete;

  Status Init();
  Result<LoadResult> Run();

 private:
  static int OnSocket(CURL*, curl_socket_t socket, int what, void* self, void* registered);
  static int OnTimer(CURLM*, long timeout_ms, void* self);
  static int OnSend(void* worker, char*, char*, int, int);
  static size_t OnHeader(char*, size_t size, size_t count, void* worker);
  static size_t OnBody(char*, size_t size, size_t count, void* worker);

  bool MayStart(Clock::time_point now) const;
  void StartDue(Clock::time_point now);
  void Finish(CURL* easy, CURLcode code, Clock::time_point now);
  void DrainFinished();
  void RunExpired(int* running);
  void CloseWindow(Clock::time_point now);
  void Abandon();
  Clock::duration WaitTime(Clock::time_point now) const;
  int Wait(epoll_event* events, int size, Clock::duration timeout);
  std::string Describe(CURLcode code) const;

  const LoadOptions& options_;
  LoadRequest request_;
  CURLM* multi_ = nullptr;
  int epoll_ = -1;
  std::vector<Worker> workers_;
  std::vector<size_t> idle_;  // workers waiting to start their next request
  std::optional<Clock::time_point> timer_;  // when libcurl wants CURL_SOCKET_TIMEOUT
  Status callback_status_;

  Clock::time_point start_, deadline_, last_completion_, window_start_, next_window_;
  Clock::duration period_{0};  // between one worker's request starts, under -q
  bool stopped_ = false;
  int in_flight_ = 0;
  LoadResult result_;
  LatencyHistogram window_latency_;
  uint64_t window_finished_ = 0, window_errors_ = 0;
  int window_max_in_flight_ = 0;
};

LoadLoop::~LoadLoop() {
  for (Worker& w : workers_) {
    if (multi_) curl_multi_remove_handle(multi_, w.easy);
    curl_easy_cleanup(w.easy);
  }
  if (multi_) curl_multi_cleanup(multi_);
  if (epoll_ >= 0) close(epoll_);
}

Status LoadLoop::Init() {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return Internal("libcurl initialisation failed");
  epoll_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_ < 0) return Internal(std::string("epoll_create1: ") + std::strerror(errno));
  multi_ = curl_multi_init();
  if (!multi_) return Internal("libcurl could not create a multi handle");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // The connection cache holds one connection per worker, so each keeps its own alive.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.concurrency));
  int count = options_.concurrency;
  if (options_.duration.count() == 0) count = static_cast<int>(std::min<uint64_t>(count, options_.requests));
  workers_.resize(count);
  for (size_t i = 0; i < workers_.size(); ++i) {
    workers_[i].easy = curl_easy_init();
    if (!workers_[i].easy) return Internal("libcurl could not create an easy handle");
    FERRY_RETURN_IF_ERROR(request_.Configure(workers_[i].easy, options_));
    curl_easy_setopt(workers_[i].easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(i));
    curl_easy_setopt(workers_[i].easy, CURLOPT_PREREQFUNCTION, OnSend);
    curl_easy_setopt(workers_[i].easy, CURLOPT_PREREQDATA, &workers_[i]);  // workers_ never grows again
    curl_easy_setopt(workers_[i].easy, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(workers_[i].easy, CURLOPT_HEADERDATA, &workers_[i]);
    curl_easy_setopt(workers_[i].easy, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(workers_[i].easy, CURLOPT_WRITEDATA, &workers_[i]);
    idle_.push_back(workers_.size() - 1 - i);  // start worker 0 first
  }
  if (options_.rate_per_worker > 0)
    period_ = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / options_.rate_per_worker));
  return Status::Ok();
}

int LoadLoop::OnSocket(CURL*, curl_socket_t socket, int what, void* self_ptr, void* registered) {
  auto* self = static_cast<LoadLoop*>(self_ptr);
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(self->epoll_, EPOLL_CTL_DEL, socket, nullptr);
    return 0;
  }
  epoll_event event{};
  event.events = (what & CURL_POLL_IN ? uint32_t{EPOLLIN} : 0u) | (what & CURL_POLL_OUT ? uint32_t{EPOLLOUT} : 0u);
  event.data.fd = socket;
  int op = registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(self->epoll_, op, socket, &event) != 0) {
    // A descriptor number reused after a close libcurl did not announce: switch operations.
    op = errno == EEXIST ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(self->epoll_, op, socket, &event) != 0) {
      self->callback_status_ = Internal(std::string("epoll_ctl: ") + std::strerror(errno));
      return -1;
    }
  }
  if (!registered) curl_multi_assign(self->multi_, socket, self);
  return 0;
}

int LoadLoop::OnSend(void* worker, char*, char*, int, int) {
  auto* w = static_cast<Worker*>(worker);
  if (!w->was_sent) {  // a redirect sends again; the latency covers every hop
    w->sent = Clock::now();
    w->was_sent = true;
  }
  return CURL_PREREQFUNC_OK;
}

// The response's arrival is timed here, as libcurl hands it over, rather than when
// curl_multi_socket_action returns: that call may go on to send other workers' requests first.
size_t LoadLoop::OnHeader(char* line, size_t size, size_t count, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  if (!w->answered) {
    w->first_byte = w->last_byte = Clock::now();
    w->answered = true;
  } else if (size * count <= 2 && (line[0] == '\r' || line[0] == '\n')) {
    w->last_byte = Clock::now();  // the blank line that ends the headers
  }
  return size * count;
}

size_t LoadLoop::OnBody(char*, size_t size, size_t count, void* worker) {
  auto* w = static_cast<Worker*>(worker);
  w->body_bytes += size * count;
  w->last_byte = Clock::now();
  return size * count;
}

int LoadLoop::OnTimer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<LoadLoop*>(self_ptr);
  if (timeout_ms < 0)
    self->timer_.reset();
  else
    self->timer_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

bool LoadLoop::MayStart(Clock::time_point now) const {
  if (stopped_) return false;
  if (options_.duration.count() > 0) return now < deadline_;
  return result_.started < options_.requests;
}

void LoadLoop::StartDue(Clock::time_point now) {
  for (size_t i = 0; i < idle_.size() && MayStart(now);) {
    Worker& w = workers_[idle_[i]];
    if (period_.count() > 0 && w.next_start > now) {
      ++i;
      continue;
    }
    idle_[i] = idle_.back();
    idle_.pop_back();
    w.issued = w.sent = w.first_byte = w.last_byte = Clock::now();
    w.was_sent = w.answered = false;
    w.busy = true;
    curl_multi_add_handle(multi_, w.easy);
    ++result_.started;
    ++in_flight_;
    window_max_in_flight_ = std::max(window_max_in_flight_, in_flight_);
    result_.max_in_flight = std::max(result_.max_in_flight, in_flight_);
  }
}

std::string LoadLoop::Describe(CURLcode code) const {
  // One message per kind of failure, so the error distribution groups them (no timings inside).
  if (code == CURLE_OPERATION_TIMEDOUT)
    return "request to " + request_.target() + ": no complete response within " +
           std::to_string(options_.timeout.count()) + " ms (timeout)";
  return "request to " + request_.target() + ": " + curl_easy_strerror(code);
}

void LoadLoop::Finish(CURL* easy, CURLcode code, Clock::time_point now) {
  char* private_data = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
  size_t index = reinterpret_cast<size_t>(private_data);
  Worker& w = workers_[index];
  curl_multi_remove_handle(multi_, easy);
  --in_flight_;
  ++window_finished_;
  last_completion_ = now;
  long connects = 0;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
  result_.connections += connects;
  if (code == CURLE_OK) {
    long status = 0;
    curl_off_t dns = 0, connect = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    ++result_.responses;
    ++result_.status_codes[status];
    // Latency runs from the request's first send on a connected socket to its last byte, both
    // stamped in libcurl's callbacks, as wrk times from its write: the server's time plus the
    // network's. Time waiting in this loop before the send is kept apart (`queued`): when it
    // grows, the load generator itself is the bottleneck.
    auto us = [](Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); };
    Clock::time_point done = w.answered ? w.last_byte : now;
    uint64_t latency = us(done - w.sent);
    result_.latency.Record(latency);
    window_latency_.Record(latency);
    result_.queued.Record(us(w.sent - w.issued));
    // A reused connection has no DNS or connect phase of its own.
    result_.dns.Record(connects ? dns : 0);
    result_.connect.Record(connects ? connect : 0);
    Clock::time_point first_byte = w.answered ? w.first_byte : now;
    result_.wait.Record(us(first_byte - w.sent));
    result_.read.Record(us(done - first_byte));
    result_.body_bytes += w.body_bytes;
  } else {
    ++result_.errors[Describe(code)];
    ++window_errors_;
  }
  w.busy = false;
  w.body_bytes = 0;
  // Under -q, the next start is one period after this one was due, so pacing does not drift with
  // the loop's delays; a worker far behind (a slow answer) starts at once but does not burst.
  w.next_start = std::max(w.next_start + period_, now - period_);
  idle_.push_back(index);
}

void LoadLoop::RunExpired(int* running) {
  if (timer_ && Clock::now() >= *timer_) {
    timer_.reset();
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, running);
  }
}

void LoadLoop::DrainFinished() {
  int queued = 0;
  CURLMsg* msg = curl_multi_info_read(multi_, &queued);
  if (!msg) return;
  Clock::time_point now = Clock::now();
  for (; msg; msg = curl_multi_info_read(multi_, &queued))
    if (msg->msg == CURLMSG_DONE) Finish(msg->easy_handle, msg->data.result, now);
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

void LoadLoop::Abandon() {
  for (Worker& w : workers_) {
    if (!w.busy) continue;
    curl_multi_remove_handle(multi_, w.easy);
    w.busy = false;
    ++result_.abandoned;
  }
  in_flight_ = 0;
}

Clock::duration LoadLoop::WaitTime(Clock::time_point now) const {
  Clock::time_point until = next_window_;
  if (timer_) until = std::min(until, *timer_);
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

Result<LoadResult> LoadLoop::Run() {
  start_ = window_start_ = last_completion_ = Clock::now();
  deadline_ = start_ + options_.duration;
  next_window_ = start_ + options_.window;
  for (Worker& w : workers_) w.next_start = start_;
  int running = 0;
  epoll_event events[64];
  StartDue(start_);
  while (in_flight_ > 0 || MayStart(Clock::now())) {
    int ready = Wait(events, 64, WaitTime(Clock::now()));
    if (ready < 0 && errno != EINTR) return Internal(std::string("epoll_wait: ") + std::strerror(errno));
    for (int i = 0; i < ready; ++i) {
      uint32_t e = events[i].events;
      int what = (e & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
                 (e & EPOLLERR ? CURL_CSELECT_ERR : 0);
      curl_multi_socket_action(multi_, events[i].data.fd, what, &running);
      RunExpired(&running);  // libcurl finishes a transfer that has read its last byte on a timer
      DrainFinished();       // now, so a completion is not timed late by the sockets after it
    }
    RunExpired(&running);
    DrainFinished();
    FERRY_RETURN_IF_ERROR(callback_status_);
    Clock::time_point now = Clock::now();
    if (now >= next_window_) {
      CloseWindow(now);
      if (options_.stop_requested && options_.stop_requested()) {
        stopped_ = true;
        Abandon();
      }
    }
    StartDue(now);
  }
  Clock::time_point end = Clock::now();
  if (window_finished_ > 0) CloseWindow(end);
  result_.total_seconds = Seconds((result_.abandoned ? end : last_completion_) - start_);
  return std::move(result_);
}

}  // namespace

void PhaseStats::Record(uint64_t micros) {
  min_micros = count ? std::min(min_micros, micros) : micros;
  max_micros = std::max(max_micros, micros);
  sum_micros += micros;
  ++count;
}

uint64_t LoadResult::error_count() const {
  uint64_t n = 0;
  for (const auto& [message, count] : errors) n += count;
  return n;
}

Result<LoadResult> RunLoad(const LoadOptions& options) {
  Result<LoadRequest> request = LoadRequest::Make(options);
  if (!request.ok()) return request.status();
  LoadLoop loop(options, std::move(*request));
  FERRY_RETURN_IF_ERROR(loop.Init());
  return loop.Run();
}

}  // namespace ferry::selftest
