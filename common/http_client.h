// HTTP over libcurl: one request at a time per call, connections reused through a handle pool.
//
// Transport failures (DNS, connect, TLS, reset, timeout) come back as a non-OK Status naming the
// host; any HTTP answer, whatever its code, is a successful HttpResponse. Bodies can be buffered
// (small: manifests, tokens) or streamed through callbacks (blobs), so memory does not grow with
// blob size. Thread-safe: concurrent Send() calls each take their own libcurl handle.
// Proxies follow libcurl's environment rules (HTTPS_PROXY, HTTP_PROXY, NO_PROXY) unless
// HttpClientOptions::proxy_url names one.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace ferry {

struct TlsOptions {
  bool verify = true;   // verify the peer's certificate and host name
  std::string ca_file;  // extra CA bundle (PEM); empty = system store
  std::string ca_pem;   // CA bundle held in memory (PEM); used instead of ca_file when set
  // Client certificate and key (PEM, in memory); a request's own pair takes precedence.
  std::string client_cert_pem, client_key_pem;
  // The name to verify the server's certificate against (and send as SNI) instead of the URL's
  // host. Requests still connect to the URL's host and port (libcurl CONNECT_TO).
  std::string server_name;
};

// Receives response body bytes as they arrive. Return a non-OK Status to abort the transfer.
using BodyWriter = std::function<Status(std::string_view chunk)>;
// Fills `buffer` with up to `size` bytes of request body; returns 0 at the end. An error aborts.
using BodyReader = std::function<Result<size_t>(char* buffer, size_t size)>;

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // used when body_reader is empty
  BodyReader body_reader;            // streamed request body
  std::optional<uint64_t> body_size; // Content-Length of a streamed body; chunked when unknown
  BodyWriter body_writer;            // streamed response body; otherwise buffered in HttpResponse::body
  size_t max_buffered_body = 16 << 20;  // a larger buffered body fails with kDataLoss
  bool follow_redirects = true;
  // Client certificate and key for this request only (PEM), e.g. from a Kubernetes exec plugin.
  std::string client_cert_pem, client_key_pem;
  // The whole exchange must finish within this time; zero = no limit beyond the stall check.
  std::chrono::milliseconds timeout{0};
  // Long-lived streams (Kubernetes watches) may stay silent for minutes: no stall check, TCP
  // keep-alive instead.
  bool allow_idle = false;
  // Polled about once a second while the transfer runs; returning true aborts it with kUnavailable
  // ("cancelled"). Lets a caller stop a stream that is waiting for data.
  std::function<bool()> cancelled;
  // When set, receives whether any of the request reached the server: false means it was never
  // sent (connection refused, DNS, TLS handshake), so even a non-idempotent request may be retried.
  bool* request_sent = nullptr;
  // Header values not to echo in logs (e.g. Authorization) are never logged anyway.
};

struct HttpResponse {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased, in order
  std::string body;
  std::string effective_url;

  // First value of a header (name is case-insensitive); empty when absent.
  std::string Header(std::string_view name) const;
  std::vector<std::string> HeaderValues(std::string_view name) const;
};

struct HttpClientOptions {
  TlsOptions tls;
  long connect_timeout_seconds = 30;
  // A transfer slower than this many bytes/s for `low_speed_seconds` is aborted as stalled.
  long low_speed_bytes = 1024;
  long low_speed_seconds = 60;
  std::string proxy_url;  // explicit proxy ("http://host:port"); empty = libcurl's environment rules
  std::string user_agent = "ferry/" FERRY_VERSION;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  Result<HttpResponse> Send(const HttpRequest& request);
  const HttpClientOptions& options() const { return options_; }

 private:
  struct Handle;
  std::unique_ptr<Handle> Acquire();
  void Release(std::unique_ptr<Handle> handle);

  HttpClientOptions options_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

// "https://host:port/path" -> "host:port".
std::string UrlHost(std::string_view url);

// True when two absolute URLs name the same origin: scheme, host and port, compared without case
// and with the scheme's default port filled in ("https://Reg.example" = "https://reg.example:443/x").
// Credentials for one origin must not travel to another (an upload session or a redirect elsewhere).
bool SameOrigin(std::string_view a, std::string_view b);

// Percent-encodes everything but unreserved characters (RFC 3986).
std::string UrlEncode(std::string_view text);

// True for localhost, an IPv4 address in 127.0.0.0/8 and [::1] (or [::ffff:127.x.y.z]), with or
// without a port. The address is parsed: "127.example.com" or "localhost.example.com" is not
// loopback, and neither is anything malformed. It decides where plain HTTP and credentials over
// http:// are allowed, so when in doubt it says false.
bool IsLoopbackHost(std::string_view host_port);

}  // namespace ferry
