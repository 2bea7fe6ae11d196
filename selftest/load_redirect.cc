#include "selftest/load_redirect.h"

#include <curl/curl.h>
#include <strings.h>

#include <memory>

namespace ferry::selftest {
namespace {

using Url = std::unique_ptr<CURLU, void (*)(CURLU*)>;

std::string Part(const Url& url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  std::string s;
  if (curl_url_get(url.get(), part, &value, flags) == CURLUE_OK && value) s = value;
  curl_free(value);
  return s;
}

std::string Unbracketed(std::string host) {
  if (host.size() > 2 && host.front() == '[') return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

Result<std::string> SameOriginRedirect(const LoadRequest& request, std::string_view current_path,
                                       const std::string& location) {
  if (location.empty()) return InvalidArgument("redirect without a Location header");
  Url url(curl_url(), curl_url_cleanup);
  if (!url) return Internal("libcurl could not allocate a URL parser");
  std::string scheme = request.tls() ? "https" : "http";
  std::string base = scheme + "://" + request.target();
  base.append(current_path);
  if (curl_url_set(url.get(), CURLUPART_URL, base.c_str(), 0) != CURLUE_OK ||
      curl_url_set(url.get(), CURLUPART_URL, location.c_str(), CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK)
    return InvalidArgument("redirect to a malformed Location");
  std::string to_scheme = Part(url, CURLUPART_SCHEME), host = Part(url, CURLUPART_HOST);
  std::string port = Part(url, CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (to_scheme != scheme || strcasecmp(Unbracketed(host).c_str(), request.host().c_str()) != 0 ||
      port != request.port()) {
    std::string origin = to_scheme + "://" + host + (port.empty() ? "" : ":" + port);
    return InvalidArgument("redirect to another origin (" + origin + ") not followed");
  }
  std::string path = Part(url, CURLUPART_PATH), query = Part(url, CURLUPART_QUERY);
  if (path.empty()) path = "/";
  if (!query.empty()) path += "?" + query;
  return path;
}

}  // namespace ferry::selftest
