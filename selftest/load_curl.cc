#include "selftest/load_curl.h"

#include <curl/curl.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace ferry::selftest {
namespace {

using Clock = LoadClock;

// One worker's handle and the timeline of its current request (after redirects, of all hops).
struct CurlWorker {
  CURL* easy = nullptr;
  bool busy = false;
  bool was_sent = false, answered = false;
  Clock::time_point sent;        // first sent on a connected socket: the latency starts here
  Clock::time_point first_byte;  // the first response header line arrived
  Clock::time_point last_byte;   // the end of the headers or the latest body bytes arrived
  uint64_t body_bytes = 0;
};

class CurlTransport : public LoadTransport {
 public:
  CurlTransport(const LoadOptions& options, const LoadRequest& request, int epoll_fd, size_t workers,
                LoadSink* sink)
      : options_(options), request_(request), epoll_(epoll_fd), workers_(workers), sink_(sink) {}
  ~CurlTransport() override;

  Status Init();
  void Start(size_t worker) override;
  Status OnEvent(const epoll_event& event) override;
  Status OnTimers(Clock::time_point now) override;
  Clock::time_point NextTimer() const override { return timer_ ? *timer_ : Clock::time_point::max(); }
  void Abandon(size_t worker) override;

 private:
  static int OnSocket(CURL*, curl_socket_t socket, int what, void* self, void* registered);
  static int OnTimer(CURLM*, long timeout_ms, void* self);
  static int OnSend(void* worker, char*, char*, int, int);
  static size_t OnHeader(char*, size_t size, size_t count, void* worker);
  static size_t OnBody(char*, size_t size, size_t count, void* worker);

  Status Configure(CURL* easy) const;
  void RunExpired();
  void DrainFinished();
  void Finish(CURL* easy, CURLcode code, Clock::time_point now);
  std::string Describe(CURLcode code) const;

  const LoadOptions& options_;
  const LoadRequest& request_;
  int epoll_;
  std::vector<CurlWorker> workers_;
  LoadSink* sink_;
  CURLM* multi_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::optional<Clock::time_point> timer_;  // when libcurl wants CURL_SOCKET_TIMEOUT
  Status callback_status_;
  LoadOutcome outcome_;  // reused for every finished request
};

CurlTransport::~CurlTransport() {
  for (CurlWorker& w : workers_) {
    if (multi_ && w.busy) curl_multi_remove_handle(multi_, w.easy);
    curl_easy_cleanup(w.easy);
  }
  if (multi_) curl_multi_cleanup(multi_);
  curl_slist_free_all(headers_);
}

Status CurlTransport::Init() {
  static const CURLcode global = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (global != CURLE_OK) return Internal("libcurl initialisation failed");
  for (const std::string& line : request_.header_lines()) {
    curl_slist* grown = curl_slist_append(headers_, line.c_str());
    if (!grown) return Internal("libcurl could not allocate a header list");
    headers_ = grown;
  }
  // libcurl would wait for "100 Continue" before sending a larger body; hey does not.
  curl_slist* grown = curl_slist_append(headers_, "Expect:");
  if (!grown) return Internal("libcurl could not allocate a header list");
  headers_ = grown;
  multi_ = curl_multi_init();
  if (!multi_) return Internal("libcurl could not create a multi handle");
  curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, OnSocket);
  curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
  curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, OnTimer);
  curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  // The connection cache holds one connection per worker, so each keeps its own alive.
  curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(workers_.size()));
  for (size_t i = 0; i < workers_.size(); ++i) {
    CURL* easy = workers_[i].easy = curl_easy_init();
    if (!easy) return Internal("libcurl could not create an easy handle");
    FERRY_RETURN_IF_ERROR(Configure(easy));
    curl_easy_setopt(easy, CURLOPT_PRIVATE, reinterpret_cast<void*>(i));
    curl_easy_setopt(easy, CURLOPT_PREREQFUNCTION, OnSend);
    curl_easy_setopt(easy, CURLOPT_PREREQDATA, &workers_[i]);  // workers_ never grows again
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &workers_[i]);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &workers_[i]);
  }
  return Status::Ok();
}

Status CurlTransport::Configure(CURL* easy) const {
  bool ok = true;
  auto set = [&ok, easy](CURLoption option, auto value) { ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK; };
  set(CURLOPT_URL, options_.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_HTTPHEADER, headers_);
  set(CURLOPT_USERAGENT, "ferry-load/" FERRY_VERSION);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  set(CURLOPT_FOLLOWLOCATION, options_.follow_redirects ? 1L : 0L);
  set(CURLOPT_TCP_NODELAY, 1L);
  if (!options_.keep_alive) set(CURLOPT_FORBID_REUSE, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
  if (!options_.ca_file.empty()) set(CURLOPT_CAINFO, options_.ca_file.c_str());
  if (options_.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (!options_.body.empty()) {
    // libcurl reads the body from `options` without copying it.
    set(CURLOPT_POSTFIELDS, options_.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options_.body.size()));
    if (options_.method != "POST") set(CURLOPT_CUSTOMREQUEST, options_.method.c_str());
  } else if (options_.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, options_.method.c_str());
  }
  if (!ok) return Internal("libcurl rejected the request settings for " + request_.target());
  return Status::Ok();
}

int CurlTransport::OnSocket(CURL*, curl_socket_t socket, int what, void* self_ptr, void* registered) {
  auto* self = static_cast<CurlTransport*>(self_ptr);
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

int CurlTransport::OnSend(void* worker, char*, char*, int, int) {
  auto* w = static_cast<CurlWorker*>(worker);
  if (!w->was_sent) {  // a redirect sends again; the latency covers every hop
    w->sent = Clock::now();
    w->was_sent = true;
  }
  return CURL_PREREQFUNC_OK;
}

// The response's arrival is timed here, as libcurl hands it over, rather than when
// curl_multi_socket_action returns: that call may go on to send other workers' requests first.
size_t CurlTransport::OnHeader(char* line, size_t size, size_t count, void* worker) {
  auto* w = static_cast<CurlWorker*>(worker);
  if (!w->answered) {
    w->first_byte = w->last_byte = Clock::now();
    w->answered = true;
  } else if (size * count <= 2 && (line[0] == '\r' || line[0] == '\n')) {
    w->last_byte = Clock::now();  // the blank line that ends the headers
  }
  return size * count;
}

size_t CurlTransport::OnBody(char*, size_t size, size_t count, void* worker) {
  auto* w = static_cast<CurlWorker*>(worker);
  w->body_bytes += size * count;
  w->last_byte = Clock::now();
  return size * count;
}

int CurlTransport::OnTimer(CURLM*, long timeout_ms, void* self_ptr) {
  auto* self = static_cast<CurlTransport*>(self_ptr);
  if (timeout_ms < 0)
    self->timer_.reset();
  else
    self->timer_ = Clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

void CurlTransport::Start(size_t index) {
  CurlWorker& w = workers_[index];
  w.sent = w.first_byte = w.last_byte = Clock::now();
  w.was_sent = w.answered = false;
  w.busy = true;
  w.body_bytes = 0;
  curl_multi_add_handle(multi_, w.easy);
}

std::string CurlTransport::Describe(CURLcode code) const {
  // One message per kind of failure, so the error distribution groups them (no timings inside).
  if (code == CURLE_OPERATION_TIMEDOUT)
    return "request to " + request_.target() + ": no complete response within " +
           std::to_string(options_.timeout.count()) + " ms (timeout)";
  return "request to " + request_.target() + ": " + curl_easy_strerror(code);
}

void CurlTransport::Finish(CURL* easy, CURLcode code, Clock::time_point now) {
  char* private_data = nullptr;
  curl_easy_getinfo(easy, CURLINFO_PRIVATE, &private_data);
  size_t index = reinterpret_cast<size_t>(private_data);
  CurlWorker& w = workers_[index];
  curl_multi_remove_handle(multi_, easy);
  w.busy = false;
  long connects = 0;
  curl_easy_getinfo(easy, CURLINFO_NUM_CONNECTS, &connects);
  LoadOutcome& o = outcome_;
  o.finished = now;
  o.connections = connects;
  o.answered = code == CURLE_OK;
  o.error.clear();
  if (o.answered) {
    curl_off_t dns = 0, connect = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &o.status);
    curl_easy_getinfo(easy, CURLINFO_NAMELOOKUP_TIME_T, &dns);
    curl_easy_getinfo(easy, CURLINFO_CONNECT_TIME_T, &connect);
    // A reused connection has no DNS or connect phase of its own.
    o.dns_micros = connects ? dns : 0;
    o.connect_micros = connects ? connect : 0;
    o.sent = w.sent;
    o.last_byte = w.answered ? w.last_byte : now;
    o.first_byte = w.answered ? w.first_byte : now;
    o.body_bytes = w.body_bytes;
  } else {
    o.error = Describe(code);
  }
  sink_->Finished(index, o);
}

void CurlTransport::RunExpired() {
  if (timer_ && Clock::now() >= *timer_) {
    timer_.reset();
    int running = 0;
    curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
  }
}

void CurlTransport::DrainFinished() {
  int queued = 0;
  CURLMsg* msg = curl_multi_info_read(multi_, &queued);
  if (!msg) return;
  Clock::time_point now = Clock::now();
  for (; msg; msg = curl_multi_info_read(multi_, &queued))
    if (msg->msg == CURLMSG_DONE) Finish(msg->easy_handle, msg->data.result, now);
}

Status CurlTransport::OnEvent(const epoll_event& event) {
  uint32_t e = event.events;
  int what = (e & (EPOLLIN | EPOLLHUP) ? CURL_CSELECT_IN : 0) | (e & EPOLLOUT ? CURL_CSELECT_OUT : 0) |
             (e & EPOLLERR ? CURL_CSELECT_ERR : 0);
  int running = 0;
  curl_multi_socket_action(multi_, event.data.fd, what, &running);
  RunExpired();     // libcurl finishes a transfer that has read its last byte on a timer
  DrainFinished();  // now, so a completion is not timed late by the sockets after it
  return callback_status_;
}

Status CurlTransport::OnTimers(Clock::time_point) {
  RunExpired();
  DrainFinished();
  return callback_status_;
}

void CurlTransport::Abandon(size_t index) {
  CurlWorker& w = workers_[index];
  if (!w.busy) return;
  curl_multi_remove_handle(multi_, w.easy);
  w.busy = false;
}

}  // namespace

Result<std::unique_ptr<LoadTransport>> MakeCurlTransport(const LoadOptions& options, const LoadRequest& request,
                                                         int epoll_fd, size_t workers, LoadSink* sink) {
  auto transport = std::make_unique<CurlTransport>(options, request, epoll_fd, workers, sink);
  FERRY_RETURN_IF_ERROR(transport->Init());
  return std::unique_ptr<LoadTransport>(std::move(transport));
}

}  // namespace ferry::selftest
