#include "installer/watch.h"

#include <algorithm>
#include <thread>

#include "common/log.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;

// One watch connection's state, fed by the HTTP body as it arrives.
struct Connection {
  const WatchCallback* callback;
  WatchSummary* summary;
  std::string pending;             // bytes after the last newline
  bool stop = false;               // the callback said stop
  bool gone = false;               // an ERROR event with code 410
  std::optional<ApiError> error;   // any other ERROR event, or a line that is not JSON
  int events = 0;

  // Handles one newline-terminated JSON event. Returns false to end the connection.
  bool Handle(std::string_view line, const std::string& context) {
    nlohmann::json event = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("type") || !event["type"].is_string()) {
      error = LocalApiError("InternalError", "the watch stream sent something that is not an event", context);
      return false;
    }
    WatchEvent e{event["type"].get<std::string>(), event.value("object", nlohmann::json())};
    if (e.type == "ERROR") {
      ApiError status = ApiErrorFromStatus(e.object, context);
      if (status.code == 410) gone = true;
      else error = std::move(status);
      return false;
    }
    if (std::string rv = ResourceVersion(e.object); !rv.empty()) summary->resource_version = rv;
    ++events;
    ++summary->events;
    if ((*callback)(e) == WatchControl::kStop) {
      stop = true;
      return false;
    }
    return true;
  }
};

// Lists `ref` and returns the List; its resourceVersion is where the watch goes on.
KubeResult<nlohmann::json> Relist(KubeClient& client, const ResourceRef& ref, std::string_view ns,
                                  const WatchOptions& options) {
  ListOptions list{.label_selector = options.label_selector, .field_selector = options.field_selector};
  return client.List(ref, ns, list);
}

}  // namespace

KubeResult<WatchSummary> Watch(KubeClient& client, const ResourceRef& ref, std::string_view ns,
                               const WatchOptions& options, const WatchCallback& callback) {
  WatchSummary summary;
  summary.resource_version = options.resource_version;
  const std::string n = client.NamespaceFor(ref, ns);
  const std::string context = KubeClient::Describe("watch", ref, n) + " (server " + client.config().server + ")";
  const bool has_deadline = options.deadline != Deadline{};
  auto finished = [&]() -> std::optional<WatchEnd> {
    if (options.stop.stop_requested()) return WatchEnd::kStopRequested;
    if (has_deadline && Clock::now() >= options.deadline) return WatchEnd::kDeadline;
    return std::nullopt;
  };

  if (summary.resource_version.empty()) {
    KubeResult<nlohmann::json> list = Relist(client, ref, ns, options);
    if (!list.ok()) return list.error();
    summary.resource_version = ResourceVersion(*list);
    for (const auto& item : (*list)["items"]) {
      ++summary.events;
      if (callback(WatchEvent{"ADDED", item}) == WatchControl::kStop) return summary;
    }
  }

  int failures = 0;
  while (true) {
    if (auto end = finished()) {
      summary.end = *end;
      return summary;
    }
    int timeout = options.server_timeout_seconds;
    if (has_deadline) {
      auto left = std::chrono::duration_cast<std::chrono::seconds>(options.deadline - Clock::now()).count() + 1;
      timeout = static_cast<int>(std::min<long long>(timeout, left));
    }
    std::string query = "?watch=1&resourceVersion=" + UrlEncode(summary.resource_version) +
                        "&timeoutSeconds=" + std::to_string(timeout);
    if (options.bookmarks) query += "&allowWatchBookmarks=true";
    if (!options.label_selector.empty()) query += "&labelSelector=" + UrlEncode(options.label_selector);
    if (!options.field_selector.empty()) query += "&fieldSelector=" + UrlEncode(options.field_selector);

    Connection connection{.callback = &callback, .summary = &summary};
    RawRequest request{.path = KubeClient::ResourcePath(ref, n) + query,
                       .retry = false,
                       .what = KubeClient::Describe("watch", ref, n)};
    request.body_writer = [&](std::string_view chunk) -> Status {
      connection.pending.append(chunk);
      size_t start = 0;
      for (size_t nl; (nl = connection.pending.find('\n', start)) != std::string::npos; start = nl + 1) {
        std::string_view line(connection.pending.data() + start, nl - start);
        if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
        if (!connection.Handle(line, context)) return Unavailable("watch ended by its reader");
      }
      connection.pending.erase(0, start);
      return Status::Ok();
    };
    request.cancelled = [&] { return finished().has_value(); };
    ++summary.connections;
    KubeResult<HttpResponse> result = client.Send(request);

    if (connection.stop) return summary;
    if (connection.error) return *connection.error;
    if (connection.events > 0) failures = 0;
    bool gone = connection.gone || (!result.ok() && result.error().IsGone());
    if (gone) {
      Log(LogLevel::kInfo, context + ": resourceVersion " + summary.resource_version + " is gone; listing again");
      KubeResult<nlohmann::json> list = Relist(client, ref, ns, options);
      if (!list.ok()) return list.error();
      summary.resource_version = ResourceVersion(*list);
      ++summary.relists;
      ++summary.events;
      if (callback(WatchEvent{"RESYNC", std::move(*list)}) == WatchControl::kStop) return summary;
      continue;
    }
    if (result.ok()) continue;  // the server ended the watch (timeoutSeconds): resume
    if (auto end = finished()) {
      summary.end = *end;
      return summary;
    }
    const ApiError& error = result.error();
    if (!error.IsRetryable()) return error;
    if (++failures >= options.max_failures) {
      ApiError last = error;
      last.context += " (" + std::to_string(failures) + " connections in a row failed)";
      return last;
    }
    auto delay = BackoffDelay(client.options().retry, failures, RandomUnit());
    if (error.retry_after_seconds) delay = std::max<std::chrono::milliseconds>(delay, std::chrono::seconds(*error.retry_after_seconds));
    if (has_deadline) delay = std::min(delay, std::chrono::duration_cast<std::chrono::milliseconds>(options.deadline - Clock::now()));
    Log(LogLevel::kInfo, context + ": " + error.ServerText() + "; resuming from resourceVersion " +
                             summary.resource_version + " in " + std::to_string(delay.count()) + "ms");
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
  }
}

}  // namespace ferry::installer
