// Watching a resource: a stream of ADDED/MODIFIED/DELETED/BOOKMARK events handed to a callback,
// kept alive across cut connections and server timeouts by resuming from the last resourceVersion.
//
// When the server no longer has that resourceVersion (HTTP 410, or an ERROR event with code 410:
// etcd compacted it), the watch lists again and hands the caller one RESYNC event whose object is
// the fresh List: everything not in it is gone, and the caller must treat it as the new truth.
// Then it watches on from the list's resourceVersion.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "installer/kube_client.h"

namespace ferry::installer {

struct WatchEvent {
  std::string type;  // ADDED, MODIFIED, DELETED, BOOKMARK, or RESYNC (object = the fresh List)
  nlohmann::json object;
};

enum class WatchControl { kContinue, kStop };
using WatchCallback = std::function<WatchControl(const WatchEvent&)>;

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  // Start after this version. Empty: list first and hand each item over as ADDED.
  std::string resource_version;
  bool bookmarks = true;                // allowWatchBookmarks: fresher versions to resume from
  int server_timeout_seconds = 300;     // timeoutSeconds of one connection; the watch then reconnects
  Deadline deadline{};                  // end the watch (successfully) at this time; zero: no limit
  std::stop_token stop;                 // end the watch (successfully) when stop is requested
  int max_failures = 6;                 // connections in a row that fail before the watch gives up
};

enum class WatchEnd { kCallback, kStopRequested, kDeadline };

struct WatchSummary {
  WatchEnd end = WatchEnd::kCallback;
  std::string resource_version;  // the last one seen: where a later watch can resume
  int connections = 0;           // watch requests made (1 + reconnects)
  int relists = 0;               // RESYNC events delivered after 410
  int events = 0;                // events handed to the callback
};

// Runs until the callback says stop, the stop token fires or the deadline passes (all OK), or an
// error the watch cannot get past: a non-retryable API error (403, 404), or max_failures
// connections in a row that failed. `ns` follows KubeClient::List ("*" = all namespaces).
KubeResult<WatchSummary> Watch(KubeClient& client, const ResourceRef& ref, std::string_view ns,
                               const WatchOptions& options, const WatchCallback& callback);

}  // namespace ferry::installer
