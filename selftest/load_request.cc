#include "selftest/load_request.h"

#include <cstring>
#include <memory>
#include <utility>

namespace ferry::selftest {
namespace {

bool IsToken(const std::string& s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (c <= 32 || c >= 127 || std::strchr("\"(),/:;<=>?@[\\]{}", c)) return false;
  return true;
}

// "host:port" from a URL libcurl accepts; the scheme's default port when none is given.
Result<std::string> UrlTarget(const std::string& url) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> parsed(curl_url(), curl_url_cleanup);
  if (!parsed) return Internal("libcurl could not allocate a URL parser");
  if (curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return InvalidArgument("the URL is malformed; expected http://HOST[:PORT]/PATH");
  char *scheme = nullptr, *host = nullptr, *port = nullptr;
  curl_url_get(parsed.get(), CURLUPART_SCHEME, &scheme, 0);
  curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0);
  curl_url_get(parsed.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
  std::string s = scheme ? scheme : "", h = host ? host : "", p = port ? port : "";
  curl_free(scheme);
  curl_free(host);
  curl_free(port);
  if (s != "http" && s != "https") return InvalidArgument("the URL must start with http:// or https://");
  return h + ":" + p;
}

}  // namespace

Result<LoadRequest> LoadRequest::Make(const LoadOptions& options) {
  if (options.url.find("://") == std::string::npos)
    return InvalidArgument("the URL must start with http:// or https://");
  Result<std::string> target = UrlTarget(options.url);
  if (!target.ok()) return target.status();
  if (options.concurrency < 1) return InvalidArgument("-c (concurrency) must be at least 1");
  if (options.duration.count() < 0) return InvalidArgument("-z (duration) must not be negative");
  if (options.duration.count() == 0 && options.requests < 1)
    return InvalidArgument("-n (requests) must be at least 1, or set -z (duration)");
  if (options.rate_per_worker < 0) return InvalidArgument("-q (rate per worker) must not be negative");
  if (options.timeout.count() < 0) return InvalidArgument("-t (timeout) must not be negative");
  if (options.window.count() < 1) return InvalidArgument("the timeline window must be at least 1 ms");
  if (!IsToken(options.method)) return InvalidArgument("-m: '" + options.method + "' is not an HTTP method");

  LoadRequest request;
  request.target_ = std::move(*target);
  // Values are checked for line breaks: a header must not smuggle a second header or request.
  auto add = [&request](const std::string& line) -> Status {
    if (line.find_first_of("\r\n") != std::string::npos)
      return InvalidArgument("-H: a header must not contain line breaks");
    size_t colon = line.find(':');
    if (colon == std::string::npos || !IsToken(line.substr(0, colon)))
      return InvalidArgument("-H '" + line.substr(0, line.find(':')) + "': expected 'Name: value'");
    curl_slist* grown = curl_slist_append(request.headers_, line.c_str());
    if (!grown) return Internal("libcurl could not allocate a header list");
    request.headers_ = grown;
    return Status::Ok();
  };
  for (const std::string& header : options.headers) FERRY_RETURN_IF_ERROR(add(header));
  if (!options.host.empty()) FERRY_RETURN_IF_ERROR(add("Host: " + options.host));
  if (!options.content_type.empty()) FERRY_RETURN_IF_ERROR(add("Content-Type: " + options.content_type));
  // libcurl would wait for "100 Continue" before sending a larger body; hey does not.
  FERRY_RETURN_IF_ERROR(add("Expect:"));
  return request;
}

LoadRequest::LoadRequest(LoadRequest&& other) noexcept
    : target_(std::move(other.target_)), headers_(std::exchange(other.headers_, nullptr)) {}

LoadRequest::~LoadRequest() { curl_slist_free_all(headers_); }

Status LoadRequest::Configure(CURL* easy, const LoadOptions& options) const {
  bool ok = true;
  auto set = [&ok, easy](CURLoption option, auto value) { ok = ok && curl_easy_setopt(easy, option, value) == CURLE_OK; };
  set(CURLOPT_URL, options.url.c_str());
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_HTTPHEADER, headers_);
  set(CURLOPT_USERAGENT, "ferry-load/" FERRY_VERSION);
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout.count()));
  set(CURLOPT_FOLLOWLOCATION, options.follow_redirects ? 1L : 0L);
  set(CURLOPT_TCP_NODELAY, 1L);
  if (!options.keep_alive) set(CURLOPT_FORBID_REUSE, 1L);
  set(CURLOPT_SSL_VERIFYPEER, options.tls_verify ? 1L : 0L);
  set(CURLOPT_SSL_VERIFYHOST, options.tls_verify ? 2L : 0L);
  if (!options.ca_file.empty()) set(CURLOPT_CAINFO, options.ca_file.c_str());
  if (options.method == "HEAD") {
    set(CURLOPT_NOBODY, 1L);
  } else if (!options.body.empty()) {
    // libcurl reads the body from `options` without copying it.
    set(CURLOPT_POSTFIELDS, options.body.data());
    set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options.body.size()));
    if (options.method != "POST") set(CURLOPT_CUSTOMREQUEST, options.method.c_str());
  } else if (options.method != "GET") {
    set(CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  if (!ok) return Internal("libcurl rejected the request settings for " + target_);
  return Status::Ok();
}

}  // namespace ferry::selftest
