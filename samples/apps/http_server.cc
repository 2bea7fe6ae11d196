// The sample apps' HTTP/1.1 server: see http_server.h.
#include "samples/apps/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <system_error>
#include <thread>

namespace sample {
namespace {

constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxBodyBytes = 16 << 20;
// How long a stop waits for requests in flight before the process exits anyway.
constexpr auto kDrainTimeout = std::chrono::seconds(30);

// The open connections, so a stop can wake the threads blocked reading them.
class Connections {
 public:
  void Add(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    fds_.insert(fd);
  }
  void Remove(int fd) {
    std::lock_guard<std::mutex> lock(mutex_);
    fds_.erase(fd);
    if (fds_.empty()) drained_.notify_all();
  }
  // Ends the read side of every connection: a thread waiting for the next request sees EOF and
  // closes; a thread running a handler still writes its response.
  void ShutdownReads() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (int fd : fds_) shutdown(fd, SHUT_RD);
  }
  bool WaitUntilEmpty(std::chrono::seconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return drained_.wait_for(lock, timeout, [&] { return fds_.empty(); });
  }

 private:
  std::mutex mutex_;
  std::condition_variable drained_;
  std::set<int> fds_;
};

std::atomic<bool> stopping{false};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

bool ContainsTokenIgnoreCase(std::string_view value, std::string_view token) {
  for (size_t i = 0; i + token.size() <= value.size(); ++i)
    if (EqualsIgnoreCase(value.substr(i, token.size()), token)) return true;
  return false;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool SendResponse(int fd, const Response& response, bool head, bool keep_alive, bool http10) {
  std::string out;
  out.reserve(160 + response.body.size());
  out += "HTTP/1.1 ";
  out += std::to_string(response.status);
  out += ' ';
  out += ReasonPhrase(response.status);
  out += "\r\nContent-Type: ";
  out += response.content_type;
  out += "\r\nContent-Length: ";
  out += std::to_string(response.body.size());
  if (!keep_alive)
    out += "\r\nConnection: close";
  else if (http10)
    out += "\r\nConnection: keep-alive";
  out += "\r\n\r\n";
  if (!head) out += response.body;
  return SendAll(fd, out);
}

// Reads until `buffer` holds at least `size` bytes. False on EOF or error.
bool ReadAtLeast(int fd, std::string& buffer, size_t size) {
  char chunk[16 << 10];
  while (buffer.size() < size) {
    ssize_t n = recv(fd, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  return true;
}

// Serves one connection's requests in order until the client closes, asks to close, or the
// server stops.
void ServeConnection(int fd, const Handler& handler) {
  std::string buffer;
  char chunk[16 << 10];
  for (;;) {
    size_t header_end;
    while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      if (buffer.size() > kMaxHeaderBytes) {
        SendResponse(fd, {.status = 431, .body = "request header too large\n"}, false, false, false);
        return;
      }
      ssize_t n = recv(fd, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      buffer.append(chunk, static_cast<size_t>(n));
    }
    std::string_view head(buffer.data(), header_end);
    size_t line_end = head.find("\r\n");
    std::string_view request_line = head.substr(0, line_end);
    size_t sp1 = request_line.find(' ');
    size_t sp2 = request_line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1 || request_line.substr(sp2 + 1).substr(0, 5) != "HTTP/") {
      SendResponse(fd, {.status = 400, .body = "malformed request line\n"}, false, false, false);
      return;
    }
    Request request;
    request.method = std::string(request_line.substr(0, sp1));
    request.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    bool http10 = request_line.substr(sp2 + 1) == "HTTP/1.0";
    bool keep_alive = !http10;
    size_t content_length = 0;
    bool chunked = false;
    std::string_view rest = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
    while (!rest.empty()) {
      size_t eol = rest.find("\r\n");
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string_view name = line.substr(0, colon);
      std::string_view value = Trim(line.substr(colon + 1));
      if (EqualsIgnoreCase(name, "Content-Length")) {
        content_length = std::strtoull(std::string(value).c_str(), nullptr, 10);
      } else if (EqualsIgnoreCase(name, "Transfer-Encoding")) {
        chunked = true;
      } else if (EqualsIgnoreCase(name, "Connection")) {
        if (ContainsTokenIgnoreCase(value, "close")) keep_alive = false;
        if (ContainsTokenIgnoreCase(value, "keep-alive")) keep_alive = true;
      }
    }
    // The samples read no request bodies: a chunked one is refused rather than parsed.
    if (chunked || content_length > kMaxBodyBytes) {
      SendResponse(fd, {.status = chunked ? 501 : 413, .body = "request body not supported\n"}, false, false, http10);
      return;
    }
    size_t request_end = header_end + 4 + content_length;
    if (!ReadAtLeast(fd, buffer, request_end)) return;
    size_t question = request.target.find('?');
    request.path = request.target.substr(0, question);
    if (question != std::string::npos) request.query = request.target.substr(question + 1);
    buffer.erase(0, request_end);  // what remains is the next pipelined request, if any

    Response response = handler(request);
    if (stopping.load()) keep_alive = false;
    if (!SendResponse(fd, response, request.method == "HEAD", keep_alive, http10) || !keep_alive) return;
  }
}

int Listen(std::string_view name, int port) {
  int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1, zero = 0;
  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    sockaddr_in6 addr{};
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons(static_cast<uint16_t>(port));
    if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && listen(fd, 1024) == 0) return fd;
    close(fd);
  }
  // No IPv6 here (some pod networks disable it): IPv4 only.
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::fprintf(stderr, "%.*s: socket: %s\n", int(name.size()), name.data(), std::strerror(errno));
    return -1;
  }
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 1024) != 0) {
    std::fprintf(stderr, "%.*s: cannot listen on port %d: %s\n", int(name.size()), name.data(), port,
                 std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string QueryValue(std::string_view query, std::string_view key, bool* found) {
  *found = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    if (Unescape(pair.substr(0, eq)) != key) continue;
    *found = true;
    return eq == std::string_view::npos ? std::string() : Unescape(pair.substr(eq + 1));
  }
  return {};
}

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 413: return "Content Too Large";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    default: return "Unknown";
  }
}

int PortFromEnvironment(std::string_view name) {
  const char* text = std::getenv("PORT");
  if (text == nullptr || *text == '\0') return 8080;
  char* end = nullptr;
  long port = std::strtol(text, &end, 10);
  if (*end != '\0' || port < 1 || port > 65535) {
    std::fprintf(stderr, "%.*s: PORT=%s is not a port number (1-65535)\n", int(name.size()), name.data(), text);
    std::exit(2);
  }
  return static_cast<int>(port);
}

int Serve(std::string_view name, int port, const Handler& handler) {
  // Every thread inherits this mask, so the signals arrive only through the signalfd below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  int listen_fd = Listen(name, port);
  if (listen_fd < 0 || signal_fd < 0) return 1;
  std::fprintf(stderr, "%.*s: listening on port %d\n", int(name.size()), name.data(), port);

  // Never freed: a connection thread that outlives the drain timeout may still touch them.
  Connections& connections = *new Connections;
  const Handler& serve = *new Handler(handler);
  pollfd fds[2] = {{listen_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "%.*s: poll: %s\n", int(name.size()), name.data(), std::strerror(errno));
      break;
    }
    if (fds[1].revents != 0) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: back off briefly instead of spinning on a ready listen socket.
      if (errno == EMFILE || errno == ENFILE) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      continue;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    connections.Add(fd);
    try {
      std::thread([fd, &serve, &connections] {
        ServeConnection(fd, serve);
        connections.Remove(fd);
        close(fd);
      }).detach();
    } catch (const std::system_error& e) {  // out of threads: drop this connection, keep serving
      std::fprintf(stderr, "%.*s: cannot start a connection thread: %s\n", int(name.size()), name.data(), e.what());
      connections.Remove(fd);
      close(fd);
    }
  }

  stopping.store(true);
  close(listen_fd);
  connections.ShutdownReads();
  bool drained = connections.WaitUntilEmpty(kDrainTimeout);
  std::fprintf(stderr, "%.*s: stopped%s\n", int(name.size()), name.data(),
               drained ? "" : " (requests still in flight after the drain timeout)");
  return 0;
}

}  // namespace sample
