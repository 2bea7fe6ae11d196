// Listening and answering: every port, each connection sniffed for TLS, HTTP/2 (gRPC health) or
// HTTP/1.1. One thread per connection: probes and webhook calls are few.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <thread>

#include "tests/standin/standin.h"

namespace standin {
namespace {

// A connection, plain or TLS.
class Conn {
 public:
  Conn(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}
  ~Conn() {
    if (ssl_) {
      SSL_shutdown(ssl_);
      SSL_free(ssl_);
    }
    close(fd_);
  }
  // Reads exactly n bytes; false at end of stream or error.
  bool ReadFull(char* out, size_t n) {
    while (n > 0) {
      long got = ssl_ ? SSL_read(ssl_, out, static_cast<int>(n)) : read(fd_, out, n);
      if (got <= 0) return false;
      out += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }
  long ReadSome(char* out, size_t n) { return ssl_ ? SSL_read(ssl_, out, static_cast<int>(n)) : read(fd_, out, n); }
  bool Write(const std::string& data) {
    size_t done = 0;
    while (done < data.size()) {
      long put = ssl_ ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
                      : write(fd_, data.data() + done, data.size() - done);
      if (put <= 0) return false;
      done += static_cast<size_t>(put);
    }
    return true;
  }

 private:
  int fd_;
  SSL* ssl_;
};

// ---- HTTP/1.1 ----

void ServeHttp1(Conn& conn, std::string buffered) {
  while (true) {
    size_t end;
    while ((end = buffered.find("\r\n\r\n")) == std::string::npos) {
      char chunk[4096];
      long got = conn.ReadSome(chunk, sizeof chunk);
      if (got <= 0) return;
      buffered.append(chunk, static_cast<size_t>(got));
    }
    std::string head = buffered.substr(0, end);
    buffered.erase(0, end + 4);
    size_t length = 0;
    bool close_after = false;
    size_t pos = 0;
    while ((pos = head.find("\r\n", pos)) != std::string::npos) {
      pos += 2;
      std::string line = head.substr(pos, head.find("\r\n", pos) - pos);
      for (size_t i = 0; i < line.size() && line[i] != ':'; ++i) line[i] = static_cast<char>(std::tolower(line[i]));
      if (line.starts_with("content-length:")) length = std::strtoul(line.c_str() + 15, nullptr, 10);
      if (line.starts_with("connection:") && line.find("close") != std::string::npos) close_after = true;
    }
    while (buffered.size() < length) {
      char chunk[4096];
      long got = conn.ReadSome(chunk, sizeof chunk);
      if (got <= 0) return;
      buffered.append(chunk, static_cast<size_t>(got));
    }
    std::string body = buffered.substr(0, length);
    buffered.erase(0, length);
    std::string answer = "ok\n", type = "text/plain";
    if (head.starts_with("POST ") && body.find("AdmissionReview") != std::string::npos) {
      answer = AdmissionAnswer(body);
      type = "application/json";
    }
    if (!conn.Write("HTTP/1.1 200 OK\r\nContent-Type: " + type + "\r\nContent-Length: " +
                    std::to_string(answer.size()) + "\r\n" + (close_after ? "Connection: close\r\n" : "") +
                    "\r\n" + answer))
      return;
    if (close_after) return;
  }
}

// ---- HTTP/2: just enough for grpc.health.v1.Health/Check ----

constexpr char kPreface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
enum : uint8_t { kData = 0, kHeaders = 1, kRstStream = 3, kSettings = 4, kPing = 6, kGoAway = 7 };
enum : uint8_t { kEndStream = 0x1, kAck = 0x1, kEndHeaders = 0x4 };

std::string Frame(uint8_t type, uint8_t flags, uint32_t stream, const std::string& payload) {
  std::string f(9, '\0');
  f[0] = static_cast<char>(payload.size() >> 16);
  f[1] = static_cast<char>(payload.size() >> 8);
  f[2] = static_cast<char>(payload.size());
  f[3] = static_cast<char>(type);
  f[4] = static_cast<char>(flags);
  for (int i = 0; i < 4; ++i) f[5 + i] = static_cast<char>(stream >> (24 - 8 * i));
  return f + payload;
}

// HPACK literal header field without indexing, new name (RFC 7541 6.2.2); short strings only.
std::string Literal(const std::string& name, const std::string& value) {
  return std::string(1, '\0') + static_cast<char>(name.size()) + name + static_cast<char>(value.size()) + value;
}

std::string GrpcServingAnswer(uint32_t stream) {
  // :status 200 is entry 8 of HPACK's static table.
  std::string headers = std::string(1, static_cast<char>(0x88)) + Literal("content-type", "application/grpc");
  // One gRPC message: not compressed, 2 bytes: HealthCheckResponse{status: SERVING (1)}.
  std::string message("\0\0\0\0\x02\x08\x01", 7);
  return Frame(kHeaders, kEndHeaders, stream, headers) + Frame(kData, 0, stream, message) +
         Frame(kHeaders, kEndHeaders | kEndStream, stream, Literal("grpc-status", "0"));
}

void ServeHttp2(Conn& conn) {
  if (!conn.Write(Frame(kSettings, 0, 0, ""))) return;
  while (true) {
    char header[9];
    if (!conn.ReadFull(header, 9)) return;
    auto byte = [&](int i) { return static_cast<uint32_t>(static_cast<uint8_t>(header[i])); };
    uint32_t length = byte(0) << 16 | byte(1) << 8 | byte(2);
    uint8_t type = header[3], flags = header[4];
    uint32_t stream = (byte(5) << 24 | byte(6) << 16 | byte(7) << 8 | byte(8)) & 0x7fffffff;
    std::string payload(length, '\0');
    if (length > 0 && !conn.ReadFull(payload.data(), length)) return;
    bool ok = true;
    if (type == kSettings && !(flags & kAck)) ok = conn.Write(Frame(kSettings, kAck, 0, ""));
    else if (type == kPing && !(flags & kAck)) ok = conn.Write(Frame(kPing, kAck, 0, payload));
    else if ((type == kHeaders || type == kData) && (flags & kEndStream)) ok = conn.Write(GrpcServingAnswer(stream));
    else if (type == kGoAway) return;
    if (!ok) return;
  }
}

// ---- dispatch ----

void Serve(int fd, SSL_CTX* tls) {
  char first[sizeof kPreface - 1];
  long seen = recv(fd, first, sizeof first, MSG_PEEK | MSG_WAITALL);
  if (seen <= 0) {
    close(fd);
    return;
  }
  if (first[0] == 0x16 && tls) {
    SSL* ssl = SSL_new(tls);
    SSL_set_fd(ssl, fd);
    Conn conn(fd, ssl);
    if (SSL_accept(ssl) <= 0) return;
    ServeHttp1(conn, "");
    return;
  }
  Conn conn(fd, nullptr);
  if (seen == static_cast<long>(sizeof first) && std::memcmp(first, kPreface, sizeof first) == 0) {
    char discard[sizeof first];
    if (!conn.ReadFull(discard, sizeof discard)) return;
    ServeHttp2(conn);
    return;
  }
  ServeHttp1(conn, "");
}

SSL_CTX* MakeTls(const Tls& tls) {
  if (tls.cert.empty() || tls.key.empty()) return nullptr;
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  std::unique_ptr<BIO, decltype(&BIO_free)> cert(BIO_new_mem_buf(tls.cert.data(), static_cast<int>(tls.cert.size())),
                                                 BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key(BIO_new_mem_buf(tls.key.data(), static_cast<int>(tls.key.size())),
                                                BIO_free);
  X509* x509 = PEM_read_bio_X509(cert.get(), nullptr, nullptr, nullptr);
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (!x509 || !pkey || SSL_CTX_use_certificate(ctx, x509) != 1 || SSL_CTX_use_PrivateKey(ctx, pkey) != 1) {
    Log("the TLS certificate or key in the configuration is unusable");
    std::exit(2);
  }
  X509_free(x509);
  EVP_PKEY_free(pkey);
  return ctx;
}

int Listen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || listen(fd, 64) != 0) {
    Log("cannot listen on port " + std::to_string(port) + ": " + std::strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void Log(const std::string& line) {
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  std::fprintf(stderr, "%s %s\n", stamp, line.c_str());
}

int ServePorts(const Config& config) {
  SSL_CTX* tls = MakeTls(config.tls);
  std::vector<int> listeners;
  for (int port : config.ports) {
    int fd = Listen(port);
    if (fd < 0) return 1;
    listeners.push_back(fd);
  }
  std::string ports;
  for (int port : config.ports) ports += " " + std::to_string(port);
  Log("listening on" + (ports.empty() ? std::string(" no port") : ports));
  for (size_t i = 1; i < listeners.size(); ++i)
    std::thread([fd = listeners[i], tls] {
      while (true) {
        int client = accept(fd, nullptr, nullptr);
        if (client >= 0) std::thread(Serve, client, tls).detach();
      }
    }).detach();
  if (listeners.empty()) {
    while (true) pause();
  }
  while (true) {
    int client = accept(listeners[0], nullptr, nullptr);
    if (client >= 0) std::thread(Serve, client, tls).detach();
  }
}

}  // namespace standin
