#include "selftest/load_request.h"

#include <curl/curl.h>
#include <strings.h>

#include <cstring>
#include <memory>
#include <utility>

#include "common/base64.h"

namespace ferry::selftest {
namespace {

bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 32 || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  return true;
}

// Whether header `line` ("Name: value") is named `name`, ignoring case.
bool Names(const std::string& line, const char* name) {
  size_t n = std::strlen(name);
  return line.size() > n && line[n] == ':' && strncasecmp(line.data(), name, n) == 0;
}

// The URL's parts as libcurl parses them (the same parser the https transport and redirects use).
struct UrlParts {
  std::string scheme, host, port, explicit_port, path, query, user, password;
};

Result<UrlParts> ParseUrl(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed) return Internal("libcurl could not allocate a URL parser");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return InvalidArgument("the URL is malformed; expected http://HOST[:PORT]/PATH");
  auto get = [&parsed](CURLUPart part, unsigned flags) {
    char* value = nullptr;
    std::string s;
    if (curl_url_get(parsed.get(), part, &value, flags) == CURLUE_OK && value) s = value;
    curl_free(value);
    return s;
  };
  UrlParts p{.scheme = get(CURLUPART_SCHEME, 0), .host = get(CURLUPART_HOST, 0),
             .port = get(CURLUPART_PORT, CURLU_DEFAULT_PORT), .explicit_port = get(CURLUPART_PORT, 0),
             .path = get(CURLUPART_PATH, 0), .query = get(CURLUPART_QUERY, 0),
             .user = get(CURLUPART_USER, CURLU_URLDECODE), .password = get(CURLUPART_PASSWORD, CURLU_URLDECODE)};
  if (p.scheme != "http" && p.scheme != "https") return InvalidArgument("the URL must start with http:// or https://");
  return p;
}

}  // namespace

Result<LoadRequest> LoadRequest::Make(const LoadOptions& options) {
  if (options.url.find("://") == std::string::npos)
    return InvalidArgument("the URL must start with http:// or https://");
  Result<UrlParts> url = ParseUrl(options.url);
  if (!url.ok()) return url.status();
  if (options.concurrency < 1) return InvalidArgument("-c (concurrency) must be at least 1");
  if (options.duration.count() < 0) return InvalidArgument("-z (duration) must not be negative");
  if (options.duration.count() == 0 && options.requests < 1)
    return InvalidArgument("-n (requests) must be at least 1, or set -z (duration)");
  if (options.rate_per_worker < 0) return InvalidArgument("-q (rate per worker) must not be negative");
  if (options.timeout.count() < 0) return InvalidArgument("-t (timeout) must not be negative");
  if (options.window.count() < 1) return InvalidArgument("the timeline window must be at least 1 ms");
  if (!IsToken(options.method)) return InvalidArgument("-m: '" + options.method + "' is not an HTTP method");

  LoadRequest request;
  request.tls_ = url->scheme == "https";
  request.keep_alive_ = options.keep_alive;
  request.target_ = url->host + ":" + url->port;
  request.host_ = url->host;
  if (request.host_.size() > 2 && request.host_.front() == '[') request.host_ = request.host_.substr(1, request.host_.size() - 2);
  request.port_ = url->port;
  request.path_ = url->path.empty() ? "/" : url->path;
  if (!url->query.empty()) request.path_ += "?" + url->query;
  request.body_ = options.body;
  // Values are checked for line breaks: a header must not smuggle a second header or request.
  auto add = [&request](const std::string& line) -> Status {
    if (line.find_first_of("\r\n") != std::string::npos)
      return InvalidArgument("-H: a header must not contain line breaks");
    size_t colon = line.find(':');
    if (colon == std::string::npos || !IsToken(line.substr(0, colon)))
      return InvalidArgument("-H '" + line.substr(0, line.find(':')) + "': expected 'Name: value'");
    request.header_lines_.push_back(line);
    return Status::Ok();
  };
  for (const std::string& header : options.headers) FERRY_RETURN_IF_ERROR(add(header));
  if (!options.host.empty()) FERRY_RETURN_IF_ERROR(add("Host: " + options.host));
  if (!options.content_type.empty()) FERRY_RETURN_IF_ERROR(add("Content-Type: " + options.content_type));

  // The socket transport's own lines, unless a header line replaces them (as libcurl does).
  // With both -H 'Host: ...' and --host, --host wins: it is the later line.
  auto given = [&request](const char* name) {
    for (const std::string& line : request.header_lines_)
      if (Names(line, name)) return true;
    return false;
  };
  if (!given("Host")) {
    request.fixed_lines_ += "Host: " + url->host;
    if (!url->explicit_port.empty() && url->explicit_port != (request.tls_ ? "443" : "80"))
      request.fixed_lines_ += ":" + url->explicit_port;
    request.fixed_lines_ += "\r\n";
  }
  if (!given("User-Agent")) request.fixed_lines_ += "User-Agent: ferry-load/" FERRY_VERSION "\r\n";
  if (!url->user.empty() && !given("Authorization"))
    request.fixed_lines_ += "Authorization: Basic " + Base64Encode(url->user + ":" + url->password) + "\r\n";
  return request;
}

std::string LoadRequest::Serialize(std::string_view method, std::string_view path, bool with_body) const {
  std::string out;
  out.append(method).append(" ").append(path).append(" HTTP/1.1\r\n").append(fixed_lines_);
  const std::string* host_line = nullptr;  // the last Host line given wins, the others are dropped
  for (const std::string& line : header_lines_)
    if (Names(line, "Host")) host_line = &line;
  for (const std::string& line : header_lines_) {
    if (Names(line, "Host") && &line != host_line) continue;
    out.append(line).append("\r\n");
  }
  // Go sends a length for methods that carry a body even when it is empty; some servers want it.
  bool body_method = method == "POST" || method == "PUT" || method == "PATCH";
  if (with_body && (!body_.empty() || body_method))
    out.append("Content-Length: ").append(std::to_string(body_.size())).append("\r\n");
  if (!keep_alive_) out.append("Connection: close\r\n");
  out.append("\r\n");
  if (with_body) out.append(body_);
  return out;
}

}  // namespace ferry::selftest
