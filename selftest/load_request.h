// The request every load worker repeats: LoadOptions checked and turned into libcurl settings.
// Internal to the load generator (selftest/load_generator.cc); tests reach it through RunLoad.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>

#include "common/status.h"
#include "selftest/load_generator.h"

namespace ferry::selftest {

// What a valid LoadOptions resolves to, shared (read-only) by every worker's easy handle.
// Owns the header list libcurl reads from; move-only.
class LoadRequest {
 public:
  // Checks the URL (http/https, well formed), counts, method and headers; names the bad flag.
  static Result<LoadRequest> Make(const LoadOptions& options);

  LoadRequest(LoadRequest&& other) noexcept;
  LoadRequest& operator=(LoadRequest&&) = delete;
  LoadRequest(const LoadRequest&) = delete;
  ~LoadRequest();

  // Applies the request to `easy` (not its header and body callbacks: the load loop's own).
  // `options` must be the LoadOptions given to Make and, like this object, outlive the transfers.
  Status Configure(CURL* easy, const LoadOptions& options) const;

  // "host:port" of the URL, for error messages (no user info, path or query).
  const std::string& target() const { return target_; }

 private:
  LoadRequest() = default;

  std::string target_;
  curl_slist* headers_ = nullptr;
};

}  // namespace ferry::selftest
