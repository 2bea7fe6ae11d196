// A failed Kubernetes API call as a value: either the server answered with an error (a metav1.Status
// carrying code, reason, message, causes, retryAfterSeconds), or the request never got an answer
// (connection refused, TLS, reset: a transport error). KubeResult<T> is a T or an ApiError.
//
// Callers branch on the reason (IsNotFound(), IsConflict(), ...) the way client-go's apierrors do;
// ToStatus() turns the error into a ferry Status for modules that only pass errors up. Messages
// read like kubectl's plus ferry's context:
//   get deployments.apps "x" in namespace "y" (server https://h:6443): Error from server (NotFound):
//   deployments.apps "x" not found
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/http_client.h"
#include "common/status.h"

namespace ferry::installer {

// One entry of Status.details.causes (a field that failed validation, a webhook's complaint).
struct StatusCause {
  std::string reason;
  std::string message;
  std::string field;
};

struct ApiError {
  // True when no HTTP answer arrived; `transport` then holds the HTTP client's Status and `code`
  // is 0. False for every answer from the server, whatever its code.
  bool is_transport = false;
  Status transport;

  long code = 0;               // HTTP status
  std::string reason;          // "NotFound", "Conflict", ...; derived from the code when the body has none
  std::string message;         // the server's message (or the transport error's)
  std::vector<StatusCause> causes;
  std::optional<int> retry_after_seconds;  // details.retryAfterSeconds or the Retry-After header
  std::string kind, name, group;           // details.{kind,name,group} when the server sent them

  std::string context;  // what ferry was doing: "get deployments.apps \"x\" ... (server ...)"

  bool IsNotFound() const { return reason == "NotFound"; }
  bool IsAlreadyExists() const { return reason == "AlreadyExists"; }
  bool IsConflict() const { return reason == "Conflict"; }
  bool IsInvalid() const { return reason == "Invalid"; }
  bool IsForbidden() const { return reason == "Forbidden"; }
  bool IsUnauthorized() const { return reason == "Unauthorized"; }
  bool IsGone() const { return code == 410; }  // "Gone" or "Expired" (an old watch resourceVersion)
  bool IsTooManyRequests() const { return reason == "TooManyRequests"; }
  // Worth asking again: transport errors and 429/500/502/503/504.
  bool IsRetryable() const;

  // "Error from server (NotFound): deployments.apps \"x\" not found", or the transport message.
  std::string ServerText() const;
  // context + ": " + ServerText(), causes listed when the message does not already name them.
  std::string ToString() const;
  // The ferry Status: 401 kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 429/5xx
  // kUnavailable, other 4xx kInvalidArgument; a transport error keeps its own code (kUnavailable,
  // kTls, kNotFound for an unknown host).
  Status ToStatus() const;
};

// The reason the API server uses for an HTTP code ("NotFound" for 404, "Conflict" for 409, ...).
std::string ReasonForCode(long code);

// The error for an HTTP answer that is not 2xx: parses a metav1.Status body when there is one.
ApiError ApiErrorFromResponse(const HttpResponse& response, std::string context);
// The error for a metav1.Status object (as in a watch ERROR event).
ApiError ApiErrorFromStatus(const nlohmann::json& status, std::string context);
ApiError TransportApiError(Status transport, std::string context);
// An error ferry found itself (a malformed answer, an unknown kind): reason as given, code 0.
ApiError LocalApiError(std::string reason, std::string message, std::string context);

// Either a value or an ApiError.
template <typename T>
class [[nodiscard]] KubeResult {
 public:
  KubeResult(T value) : value_(std::move(value)) {}
  KubeResult(ApiError error) : error_(std::move(error)) {}

  bool ok() const { return value_.has_value(); }
  const ApiError& error() const { return error_; }
  Status status() const { return ok() ? Status::Ok() : error_.ToStatus(); }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  ApiError error_;
};

}  // namespace ferry::installer
