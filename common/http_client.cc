#include "common/http_client.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>
#include <cstring>

#include "common/log.h"
#include "common/strings.h"

namespace ferry {
namespace {

struct GlobalInit {
  GlobalInit() { curl_global_init(CURL_GLOBAL_DEFAULT); }
};

// Per-transfer state shared with libcurl's callbacks.
struct Transfer {
  const HttpRequest* request;
  HttpResponse* response;
  CURL* curl;
  size_t upload_offset = 0;
  Status callback_status;  // why a callback aborted the transfer
};

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();  // a new response (after a redirect or 100 Continue)
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t->response->headers.emplace_back(Lower(Trim(line.substr(0, colon))), Trim(line.substr(colon + 1)));
  }
  return size * count;
}

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view chunk(data, size * count);
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  // Error bodies are always buffered, so a streaming consumer only ever sees real content.
  if (t->request->body_writer && code >= 200 && code < 300) {
    t->callback_status = t->request->body_writer(chunk);
    return t->callback_status.ok() ? chunk.size() : 0;
  }
  if (t->response->body.size() + chunk.size() > t->request->max_buffered_body) {
    t->callback_status = DataLoss("response body from " + UrlHost(t->request->url) + " is larger than " +
                                  std::to_string(t->request->max_buffered_body) + " bytes");
    return 0;
  }
  t->response->body.append(chunk);
  return chunk.size();
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t room = size * count;
  if (t->request->body_reader) {
    Result<size_t> n = t->request->body_reader(buffer, room);
    if (!n.ok()) {
      t->callback_status = n.status();
      return CURL_READFUNC_ABORT;
    }
    return *n;
  }
  const std::string& body = t->request->body;
  size_t n = std::min(room, body.size() - t->upload_offset);
  std::memcpy(buffer, body.data() + t->upload_offset, n);
  t->upload_offset += n;
  return n;
}

// Aborts a transfer the caller cancelled; libcurl calls this about once a second, even when idle.
int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->request->cancelled && t->request->cancelled()) {
    t->callback_status = Unavailable("request to " + UrlHost(t->request->url) + " cancelled");
    return 1;
  }
  return 0;
}

void SetBlob(CURL* curl, CURLoption option, const std::string& pem) {
  curl_blob blob{.data = const_cast<char*>(pem.data()), .len = pem.size(), .flags = CURL_BLOB_COPY};
  curl_easy_setopt(curl, option, &blob);
}

// "host:port" or "[v6]:port" split into host and port; `default_port` when the port is absent.
std::pair<std::string, std::string> SplitHostPort(const std::string& host_port, const std::string& default_port) {
  size_t colon = host_port.rfind(':');
  size_t bracket = host_port.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket))
    return {host_port, default_port};
  return {host_port.substr(0, colon), host_port.substr(colon + 1)};
}

// For a TLS server name that differs from the URL's host: the URL carries the name (so libcurl
// verifies the certificate against it and sends it as SNI) and CONNECT_TO points at the real host.
// Returns the rewritten URL and the CONNECT_TO entry.
std::pair<std::string, std::string> RouteByServerName(const std::string& url, const std::string& server_name) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return {url, ""};
  std::string scheme = url.substr(0, scheme_end);
  std::string host_port = UrlHost(url);
  std::string rest = url.substr(scheme_end + 3 + host_port.size());
  auto [host, port] = SplitHostPort(host_port, scheme == "https" ? "443" : "80");
  return {scheme + "://" + server_name + ":" + port + rest, server_name + ":" + port + ":" + host + ":" + port};
}

Status TransportError(CURLcode code, const char* detail, const std::string& url) {
  std::string host = UrlHost(url);
  std::string why = detail && *detail ? detail : curl_easy_strerror(code);
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
      return NotFound("cannot resolve host " + host + " (" + why + ")");
    case CURLE_COULDNT_RESOLVE_PROXY:
      return Unavailable("cannot resolve the proxy for " + host + " (" + why + ")");
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      return TlsError("TLS with " + host + " failed: " + why);
    default:
      return Unavailable("connection to " + host + " failed: " + why);
  }
}

}  // namespace

struct HttpClient::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() { curl_easy_cleanup(curl); }
};

std::string HttpResponse::Header(std::string_view name) const {
  std::string key = Lower(name);
  for (const auto& [k, v] : headers)
    if (k == key) return v;
  return "";
}

std::vector<std::string> HttpResponse::HeaderValues(std::string_view name) const {
  std::string key = Lower(name);
  std::vector<std::string> values;
  for (const auto& [k, v] : headers)
    if (k == key) values.push_back(v);
  return values;
}

std::string UrlHost(std::string_view url) {
  if (auto scheme = url.find("://"); scheme != std::string_view::npos) url.remove_prefix(scheme + 3);
  return std::string(url.substr(0, url.find('/')));
}

bool SameOrigin(std::string_view a, std::string_view b) {
  auto origin = [](std::string_view url) -> std::string {
    size_t scheme_end = url.find("://");
    if (scheme_end == std::string_view::npos) return "";
    std::string scheme = Lower(url.substr(0, scheme_end));
    std::string host_port = Lower(UrlHost(url));
    host_port = host_port.substr(0, host_port.find_first_of("?#"));
    if (host_port.empty()) return "";
    auto [host, port] = SplitHostPort(host_port, scheme == "https" ? "443" : scheme == "http" ? "80" : "");
    return scheme + "://" + host + ":" + port;
  };
  std::string left = origin(a);
  return !left.empty() && left == origin(b);
}

std::string UrlEncode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsLoopbackHost(std::string_view host_port) {
  // Split "host", "host:port", "[v6]" or "[v6]:port"; a port must be digits.
  std::string_view host = host_port, port;
  bool bracketed = host_port.starts_with('[');
  if (bracketed) {
    size_t close = host_port.find(']');
    if (close == std::string_view::npos) return false;
    host = host_port.substr(1, close - 1);
    std::string_view rest = host_port.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return false;
    if (!rest.empty()) port = rest.substr(1);
    if (!rest.empty() && port.empty()) return false;
  } else if (size_t colon = host_port.find(':'); colon != std::string_view::npos) {
    host = host_port.substr(0, colon);
    port = host_port.substr(colon + 1);
    if (port.empty()) return false;
  }
  if (!std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); })) return false;
  // The address itself, parsed: a name that merely starts with "127." or "localhost" is not one.
  std::string name(host);
  if (!bracketed && Lower(name) == "localhost") return true;
  if (bracketed) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, name.c_str(), &v6) != 1) return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  in_addr v4{};
  if (inet_pton(AF_INET, name.c_str(), &v4) != 1) return false;
  return (ntohl(v4.s_addr) >> 24) == 127;
}

HttpClient::HttpClient(HttpClientOptions options) : options_(std::move(options)) { static GlobalInit init; }
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!idle_.empty()) {
      auto handle = std::move(idle_.back());
      idle_.pop_back();
      return handle;
    }
  }
  return std::make_unique<Handle>();
}

void HttpClient::Release(std::unique_ptr<Handle> handle) {
  std::lock_guard<std::mutex> lock(mutex_);
  idle_.push_back(std::move(handle));
}

Result<HttpResponse> HttpClient::Send(const HttpRequest& request) {
  std::unique_ptr<Handle> handle = Acquire();
  CURL* curl = handle->curl;
  curl_easy_reset(curl);  // keeps the connection cache, clears options

  HttpResponse response;
  Transfer transfer{.request = &request, .response = &response, .curl = curl};
  char error[CURL_ERROR_SIZE] = {0};

  std::string url = request.url;
  curl_slist* connect_to = nullptr;
  if (!options_.tls.server_name.empty()) {
    auto [routed, entry] = RouteByServerName(request.url, options_.tls.server_name);
    url = routed;
    if (!entry.empty()) connect_to = curl_slist_append(connect_to, entry.c_str());
    curl_easy_setopt(curl, CURLOPT_CONNECT_TO, connect_to);
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, options_.connect_timeout_seconds);
  if (request.allow_idle) {
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPIDLE, 30L);
    curl_easy_setopt(curl, CURLOPT_TCP_KEEPINTVL, 15L);
  } else {
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_bytes);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, options_.low_speed_seconds);
  }
  if (request.timeout.count() > 0) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  if (request.cancelled) {
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, OnProgress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  }
  if (!options_.proxy_url.empty()) curl_easy_setopt(curl, CURLOPT_PROXY, options_.proxy_url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.tls.verify ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.tls.verify ? 2L : 0L);
  if (!options_.tls.ca_pem.empty()) {
    SetBlob(curl, CURLOPT_CAINFO_BLOB, options_.tls.ca_pem);
  } else if (!options_.tls.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, options_.tls.ca_file.c_str());
  }
  bool own_cert = !request.client_cert_pem.empty();
  const std::string& cert = own_cert ? request.client_cert_pem : options_.tls.client_cert_pem;
  const std::string& key = own_cert ? request.client_key_pem : options_.tls.client_key_pem;
  if (!cert.empty()) {
    SetBlob(curl, CURLOPT_SSLCERT_BLOB, cert);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    if (!key.empty()) {
      SetBlob(curl, CURLOPT_SSLKEY_BLOB, key);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);

  bool has_body = request.body_reader || !request.body.empty();
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "GET") {
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    if (has_body || request.method == "PUT" || request.method == "PATCH" || request.method == "POST") {
      curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(curl, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(curl, CURLOPT_READDATA, &transfer);
      uint64_t size = request.body_reader ? request.body_size.value_or(UINT64_MAX) : request.body.size();
      if (size != UINT64_MAX) curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
    }
  }

  curl_slist* headers = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_slist_free_all(connect_to);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (request.request_sent) {
    long sent_bytes = 0;
    curl_easy_getinfo(curl, CURLINFO_REQUEST_SIZE, &sent_bytes);
    *request.request_sent = sent_bytes > 0;
  }
  char* effective = nullptr;
  curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
  if (effective) response.effective_url = effective;
  Release(std::move(handle));

  if (LogEnabled(LogLevel::kDebug))
    Log(LogLevel::kDebug, request.method + " " + request.url + " -> " +
                              (code == CURLE_OK ? std::to_string(response.status) : curl_easy_strerror(code)));
  if (!transfer.callback_status.ok()) return transfer.callback_status;
  if (code != CURLE_OK) return TransportError(code, error, request.url);
  return response;
}

}  // namespace ferry
