// The request every load worker repeats: LoadOptions checked, the URL taken apart, and (for the
// plain-HTTP transport) the HTTP/1.1 request bytes. Internal to the load generator
// (selftest/load_generator.cc); tests reach it through RunLoad and load_request_test.cc.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "selftest/load_generator.h"

namespace ferry::selftest {

// What a valid LoadOptions resolves to, shared (read-only) by every worker.
class LoadRequest {
 public:
  // Checks the URL (http/https, well formed), counts, method and headers; names the bad flag.
  static Result<LoadRequest> Make(const LoadOptions& options);

  bool tls() const { return tls_; }
  // "host:port" of the URL, for error messages (no user info, path or query).
  const std::string& target() const { return target_; }
  // The name or address to connect to (IPv6 without brackets) and the port, default filled in.
  const std::string& host() const { return host_; }
  const std::string& port() const { return port_; }
  // Path and query of the URL, as sent on the request line ("/" when the URL has none).
  const std::string& path() const { return path_; }
  // "Name: value" lines from -H, --host and -T, checked for line breaks. Each transport adds its
  // own Host and User-Agent unless these give them.
  const std::vector<std::string>& header_lines() const { return header_lines_; }

  // The whole HTTP/1.1 request for `method` and `path` (the URL's, or a redirect's on the same
  // origin): request line, Host, User-Agent, the header lines, Content-Length and the body when
  // `with_body`, and `Connection: close` when keep-alive is off. Built once per run (and once per
  // redirect hop), so the hot path writes these bytes without building anything.
  std::string Serialize(std::string_view method, std::string_view path, bool with_body) const;

 private:
  LoadRequest() = default;

  bool tls_ = false, keep_alive_ = true;
  std::string target_, host_, port_, path_, body_;
  std::vector<std::string> header_lines_;
  std::string fixed_lines_;  // Host, User-Agent, Authorization as the socket transport sends them
};

}  // namespace ferry::selftest
