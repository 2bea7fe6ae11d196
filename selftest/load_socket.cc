#include "selftest/load_socket.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "selftest/load_deadlines.h"
#include "selftest/load_redirect.h"
#include "selftest/load_response.h"

namespace ferry::selftest {
namespace {

using Clock = LoadClock;

uint64_t Micros(Clock::duration d) { return std::chrono::duration_cast<std::chrono::microseconds>(d).count(); }

// One worker: its connection, and the request it has in flight (over all hops and the retry).
struct SocketWorker {
  // The connection. `generation` tells a stale epoll event (of a closed descriptor) from a live one.
  int fd = -1;
  uint32_t generation = 0;
  bool connecting = false, writing = false;  // waiting for connect() to finish / to write the rest
  bool reused = false;                       // it carried an earlier answer
  size_t address = 0;                        // which resolved address it connects to
  Clock::time_point connect_start;

  // The request.
  bool busy = false, retried = false, was_sent = false, answered = false, failing = false;
  int hops = 0;
  const std::string* bytes = nullptr;  // what this hop writes: the run's request or `redirect`
  size_t written = 0;
  bool head = false;                   // this hop is a HEAD request
  std::string redirect, path;          // a redirect hop's request and path (only on redirects)
  LoadOutcome outcome;                 // filled as the request goes
  ResponseParser parser;
};

class SocketTransport : public LoadTransport {
 public:
  SocketTransport(const LoadOptions& options, const LoadRequest& request, int epoll_fd, size_t workers, LoadSink* sink);
  ~SocketTransport() override;

  void Resolve();
  void Start(size_t worker) override;
  Status OnEvent(const epoll_event& event) override;
  Status OnTimers(Clock::time_point now) override;
  Clock::time_point NextTimer() const override;
  void Abandon(size_t worker) override;

 private:
  void Connect(size_t i);
  void ConnectFailed(size_t i, int error);
  void Connected(size_t i, Clock::time_point now);
  void BeginHop(size_t i);
  void Write(size_t i);
  void Read(size_t i);
  void HopDone(size_t i, Clock::time_point now, bool leftover);
  void Lost(size_t i, const std::string& error);
  void Fail(size_t i, const std::string& error);
  void Close(size_t i);
  bool Watch(size_t i, int op, uint32_t events);
  std::string Error(const std::string& reason) const { return "request to " + request_.target() + ": " + reason; }

  const LoadOptions& options_;
  const LoadRequest& request_;
  int epoll_;
  LoadSink* sink_;
  std::vector<SocketWorker> workers_;
  DeadlineList deadlines_;  // requests in flight under -t, oldest first
  const std::string bytes_;  // the run's request, serialised once
  bool follow_;
  std::vector<sockaddr_storage> addresses_;
  std::vector<socklen_t> address_sizes_;
  size_t preferred_address_ = 0;  // the one that last accepted a connection
  std::string resolve_error_;
  uint64_t dns_micros_ = 0;
  bool first_connection_ = true;
  std::vector<size_t> failed_in_start_;  // reported on the next OnTimers, never inside Start
  bool starting_ = false;
  // One text per kind of failure, so the error distribution groups them.
  const std::string refused_, reset_, closed_, timeout_;
  char buffer_[64 * 1024];  // every read lands here and is parsed at once
};

SocketTransport::SocketTransport(const LoadOptions& options, const LoadRequest& request, int epoll_fd, size_t workers,
                                 LoadSink* sink)
    : options_(options),
      request_(request),
      epoll_(epoll_fd),
      sink_(sink),
      workers_(workers),
      deadlines_(workers),
      bytes_(request.Serialize(options.method, request.path(), options.method != "HEAD")),
      follow_(options.follow_redirects),
      refused_(Error("connection refused")),
      reset_(Error("connection reset by peer")),
      closed_(Error("connection closed before the response was complete")),
      timeout_(Error("no complete response within " + std::to_string(options.timeout.count()) + " ms (timeout)")) {}

SocketTransport::~SocketTransport() {
  for (SocketWorker& w : workers_)
    if (w.fd >= 0) close(w.fd);
}

void SocketTransport::Resolve() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  Clock::time_point start = Clock::now();
  int rc = getaddrinfo(request_.host().c_str(), request_.port().c_str(), &hints, &found);
  dns_micros_ = Micros(Clock::now() - start);
  if (rc != 0) {
    resolve_error_ = Error(std::string("could not resolve the host name: ") + gai_strerror(rc));
    return;
  }
  for (addrinfo* a = found; a; a = a->ai_next) {
    sockaddr_storage address{};
    std::memcpy(&address, a->ai_addr, a->ai_addrlen);
    addresses_.push_back(address);
    address_sizes_.push_back(a->ai_addrlen);
  }
  freeaddrinfo(found);
}

void SocketTransport::Start(size_t i) {
  SocketWorker& w = workers_[i];
  w.busy = true;
  w.retried = w.was_sent = w.answered = w.failing = false;
  w.hops = 0;
  w.bytes = &bytes_;
  w.head = options_.method == "HEAD";
  w.path.clear();
  w.outcome.connections = w.outcome.dns_micros = w.outcome.connect_micros = 0;
  if (options_.timeout.count() > 0) deadlines_.Add(i, Clock::now() + options_.timeout);
  starting_ = true;
  if (!resolve_error_.empty())
    Fail(i, resolve_error_);
  else
    BeginHop(i);
  starting_ = false;
}

// Sends the current hop on the worker's connection, opening one when it has none.
void SocketTransport::BeginHop(size_t i) {
  SocketWorker& w = workers_[i];
  w.written = 0;
  w.parser.Reset(w.head, follow_);
  if (w.fd >= 0) return Write(i);
  w.address = preferred_address_;
  Connect(i);
}

void SocketTransport::Connect(size_t i) {
  SocketWorker& w = workers_[i];
  const sockaddr_storage& address = addresses_[w.address];
  w.fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (w.fd < 0) return Fail(i, Error(std::string("could not open a socket: ") + std::strerror(errno)));
  int one = 1;
  setsockopt(w.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // the request goes out in one segment, now
  ++w.generation;
  w.reused = false;
  w.connect_start = Clock::now();
  if (connect(w.fd, reinterpret_cast<const sockaddr*>(&address), address_sizes_[w.address]) == 0) {
    if (Watch(i, EPOLL_CTL_ADD, EPOLLIN)) Connected(i, Clock::now());
    return;
  }
  int error = errno;
  if (error == EINPROGRESS) {
    w.connecting = true;
    Watch(i, EPOLL_CTL_ADD, EPOLLOUT);
    return;
  }
  ConnectFailed(i, error);
}

void SocketTransport::ConnectFailed(size_t i, int error) {
  SocketWorker& w = workers_[i];
  Close(i);
  if (error == ECONNREFUSED && w.address + 1 < addresses_.size()) {  // try the name's next address, as Go does
    ++w.address;
    return Connect(i);
  }
  Fail(i, error == ECONNREFUSED ? refused_ : Error(std::string("could not connect: ") + std::strerror(error)));
}

void SocketTransport::Connected(size_t i, Clock::time_point now) {
  SocketWorker& w = workers_[i];
  w.connecting = false;
  preferred_address_ = w.address;
  ++w.outcome.connections;
  w.outcome.connect_micros = Micros(now - w.connect_start);
  // The one lookup is charged to the run's first connection.
  w.outcome.dns_micros = first_connection_ ? dns_micros_ : 0;
  first_connection_ = false;
  Write(i);
}

void SocketTransport::Write(size_t i) {
  SocketWorker& w = workers_[i];
  if (!w.was_sent) {  // the latency starts at the first hop's first send, over every hop
    w.outcome.sent = Clock::now();
    w.was_sent = true;
  }
  const std::string& bytes = *w.bytes;
  ssize_t n = send(w.fd, bytes.data() + w.written, bytes.size() - w.written, MSG_NOSIGNAL);
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    int error = errno;
    if (error == EPIPE || error == ECONNRESET) return Lost(i, reset_);
    Close(i);
    return Fail(i, Error(std::string("could not send the request: ") + std::strerror(error)));
  }
  if (n > 0) w.written += n;
  bool done = w.written == bytes.size();
  if (done == !w.writing) return;  // already watching the right events
  w.writing = !done;
  Watch(i, EPOLL_CTL_MOD, done ? EPOLLIN : EPOLLIN | EPOLLOUT);
}

void SocketTransport::Read(size_t i) {
  SocketWorker& w = workers_[i];
  for (;;) {
    ssize_t n = read(w.fd, buffer_, sizeof buffer_);
    int error = n < 0 ? errno : 0;
    Clock::time_point now = Clock::now();  // one clock read per read(), as wrk
    if (n < 0) {
      if (error == EAGAIN || error == EWOULDBLOCK || error == EINTR) return;
      if (error == ECONNRESET) return Lost(i, reset_);
      Close(i);
      return Fail(i, Error(std::string("could not read the response: ") + std::strerror(error)));
    }
    if (n == 0) {
      w.parser.FeedEof();  // ends a body that runs until the server closes
      if (w.parser.complete()) {
        Close(i);
        return HopDone(i, now, false);
      }
      return Lost(i, closed_);
    }
    if (!w.answered) {
      w.outcome.first_byte = now;
      w.answered = true;
    }
    size_t used = w.parser.Feed(buffer_, n);
    if (w.parser.malformed()) {
      Close(i);
      return Fail(i, Error(std::string("malformed response: ") + w.parser.malformed_reason()));
    }
    if (w.parser.complete()) return HopDone(i, now, used < static_cast<size_t>(n));
    if (static_cast<size_t>(n) < sizeof buffer_) return;  // the rest has not arrived yet
  }
}

// The connection ended before an answer: on a reused connection that the server closed before
// sending anything, the request is sent again once on a new one; otherwise it failed.
void SocketTransport::Lost(size_t i, const std::string& error) {
  SocketWorker& w = workers_[i];
  bool retry = w.reused && !w.retried && !w.parser.started();
  Close(i);
  if (!retry) return Fail(i, error);
  w.retried = true;
  BeginHop(i);
}

void SocketTransport::HopDone(size_t i, Clock::time_point now, bool leftover) {
  SocketWorker& w = workers_[i];
  int status = w.parser.status();
  // Bytes after the answer mean the connection is out of step: it is not reused.
  bool keep = w.parser.keep_alive() && options_.keep_alive && !leftover;
  if (w.fd >= 0 && !keep) Close(i);
  if (w.fd >= 0) w.reused = true;
  bool redirect = status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
  if (follow_ && redirect && !w.parser.location().empty()) {
    if (w.hops == kMaxRedirects) {
      Close(i);
      return Fail(i, Error("stopped after " + std::to_string(kMaxRedirects) + " redirects"));
    }
    Result<std::string> next = SameOriginRedirect(request_, w.hops ? w.path : request_.path(), w.parser.location());
    if (!next.ok()) {
      Close(i);
      return Fail(i, Error(next.status().message()));
    }
    ++w.hops;
    w.path = std::move(*next);
    // As Go: 301, 302 and 303 turn into GET without the body (HEAD stays HEAD); 307 and 308 repeat the request.
    std::string method = options_.method;
    if (status != 307 && status != 308 && method != "HEAD") method = "GET";
    w.head = method == "HEAD";
    w.redirect = request_.Serialize(method, w.path, method == options_.method && !w.head);
    w.bytes = &w.redirect;
    w.retried = false;
    return BeginHop(i);
  }
  LoadOutcome& o = w.outcome;
  o.answered = true;
  o.status = status;
  o.error.clear();
  o.last_byte = o.finished = now;
  o.body_bytes = w.parser.body_bytes();
  w.busy = false;
  deadlines_.Remove(i);
  sink_->Finished(i, o);
}

void SocketTransport::Fail(size_t i, const std::string& error) {
  SocketWorker& w = workers_[i];
  LoadOutcome& o = w.outcome;
  o.answered = false;
  o.error = error;
  o.finished = Clock::now();
  deadlines_.Remove(i);
  if (starting_) {  // the loop hears of it on its next turn, not while it is starting requests
    w.failing = true;
    failed_in_start_.push_back(i);
    return;
  }
  w.busy = false;
  sink_->Finished(i, o);
}

void SocketTransport::Close(size_t i) {
  SocketWorker& w = workers_[i];
  if (w.fd < 0) return;
  close(w.fd);  // also leaves the epoll set
  w.fd = -1;
  w.connecting = w.writing = w.reused = false;
}

bool SocketTransport::Watch(size_t i, int op, uint32_t events) {
  SocketWorker& w = workers_[i];
  epoll_event event{};
  event.events = events;
  event.data.u64 = (uint64_t{w.generation} << 32) | i;
  if (epoll_ctl(epoll_, op, w.fd, &event) == 0) return true;
  int error = errno;
  Close(i);
  Fail(i, Error(std::string("could not watch the connection: ") + std::strerror(error)));
  return false;
}

Status SocketTransport::OnEvent(const epoll_event& event) {
  size_t i = event.data.u64 & 0xffffffffu;
  if (i >= workers_.size()) return Internal("load transport: an epoll event for an unknown worker");
  SocketWorker& w = workers_[i];
  if (w.fd < 0 || (event.data.u64 >> 32) != w.generation) return Status::Ok();  // a closed connection's
  if (!w.busy) {
    Close(i);  // an idle kept-alive connection that the server closed (or wrote to): open anew next time
    return Status::Ok();
  }
  if (w.connecting) {
    int error = 0;
    socklen_t size = sizeof error;
    if (getsockopt(w.fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0) error = errno;
    if (error == 0) {
      if (Watch(i, EPOLL_CTL_MOD, EPOLLIN)) Connected(i, Clock::now());
      return Status::Ok();
    }
    ConnectFailed(i, error);
    return Status::Ok();
  }
  if (w.writing && (event.events & EPOLLOUT)) {
    uint32_t generation = w.generation;
    Write(i);
    if (w.fd < 0 || !w.busy || w.generation != generation) return Status::Ok();  // failed, or retrying
  }
  if (event.events & (EPOLLIN | EPOLLERR | EPOLLHUP)) Read(i);
  return Status::Ok();
}

Status SocketTransport::OnTimers(Clock::time_point now) {
  for (size_t i : failed_in_start_) {
    SocketWorker& w = workers_[i];
    if (!w.failing) continue;  // abandoned meanwhile
    w.failing = w.busy = false;
    sink_->Finished(i, w.outcome);
  }
  failed_in_start_.clear();
  while (!deadlines_.empty() && deadlines_.earliest() <= now) {
    size_t i = deadlines_.oldest();
    Close(i);
    Fail(i, timeout_);
  }
  return Status::Ok();
}

Clock::time_point SocketTransport::NextTimer() const {
  if (!failed_in_start_.empty()) return Clock::time_point::min();
  return deadlines_.earliest();
}

void SocketTransport::Abandon(size_t i) {
  SocketWorker& w = workers_[i];
  Close(i);
  deadlines_.Remove(i);
  w.busy = w.failing = false;
}

}  // namespace

Result<std::unique_ptr<LoadTransport>> MakeSocketTransport(const LoadOptions& options, const LoadRequest& request,
                                                           int epoll_fd, size_t workers, LoadSink* sink) {
  auto transport = std::make_unique<SocketTransport>(options, request, epoll_fd, workers, sink);
  transport->Resolve();
  return std::unique_ptr<LoadTransport>(std::move(transport));
}

}  // namespace ferry::selftest
