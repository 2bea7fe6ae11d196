#include "installer/api_error.h"

#include <ctime>

#include "common/retry.h"

namespace ferry::installer {
namespace {

// What client-go says when the server's answer carries no Status (a proxy's HTML page, say).
std::string GenericMessage(long code) {
  switch (code) {
    case 400: return "the server rejected our request for an unknown reason";
    case 401: return "the server has asked for the client to provide credentials";
    case 403: return "the server does not allow access to the requested resource";
    case 404: return "the server could not find the requested resource";
    case 405: return "the server does not allow this method on the requested resource";
    case 409: return "the server reported a conflict";
    case 410: return "the server no longer has the requested resource";
    case 422: return "the server rejected our request due to an error in our request";
    case 429: return "the server has received too many requests and has asked us to try again later";
    case 500: return "an error on the server has prevented the request from succeeding";
    case 503: return "the server is currently unable to handle the request";
    case 504: return "the server was unable to return a response in the time allotted";
  }
  return "the server responded with HTTP " + std::to_string(code);
}

std::string JsonString(const nlohmann::json& object, const char* key) {
  auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string ReasonForCode(long code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 406: return "NotAcceptable";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 413: return "RequestEntityTooLarge";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
  }
  return "Unknown";
}

bool ApiError::IsRetryable() const {
  if (is_transport) return transport.code() == StatusCode::kUnavailable;
  return IsRetryableStatus(code);
}

std::string ApiError::ServerText() const {
  if (is_transport) return transport.message();
  if (code == 0) return message;  // found by ferry, not said by the server
  return "Error from server (" + reason + "): " + message;
}

std::string ApiError::ToString() const {
  std::string text = ServerText();
  for (const StatusCause& cause : causes) {
    // Invalid messages already list their causes; webhook denials and others may not.
    if (cause.message.empty() || text.find(cause.message) != std::string::npos) continue;
    text += "; " + (cause.field.empty() ? "" : cause.field + ": ") + cause.message;
  }
  return context.empty() ? text : context + ": " + text;
}

Status ApiError::ToStatus() const {
  if (is_transport) return Status(transport.code(), ToString());
  StatusCode status_code = StatusCode::kInvalidArgument;
  if (code == 401) status_code = StatusCode::kUnauthenticated;
  else if (code == 403) status_code = StatusCode::kPermissionDenied;
  else if (code == 404) status_code = StatusCode::kNotFound;
  else if (code == 429 || code >= 500) status_code = StatusCode::kUnavailable;
  else if (code == 0 && reason == "NotFound") status_code = StatusCode::kNotFound;
  else if (code == 0) status_code = StatusCode::kInternal;
  return Status(status_code, ToString());
}

ApiError ApiErrorFromStatus(const nlohmann::json& status, std::string context) {
  ApiError error;
  error.context = std::move(context);
  if (!status.is_object()) {
    error.message = "malformed Status from the server";
    error.reason = "InternalError";
    return error;
  }
  if (auto c = status.find("code"); c != status.end() && c->is_number_integer()) error.code = c->get<long>();
  error.reason = JsonString(status, "reason");
  if (error.reason.empty()) error.reason = ReasonForCode(error.code);
  error.message = JsonString(status, "message");
  if (error.message.empty()) error.message = GenericMessage(error.code);
  if (auto d = status.find("details"); d != status.end() && d->is_object()) {
    error.kind = JsonString(*d, "kind");
    error.name = JsonString(*d, "name");
    error.group = JsonString(*d, "group");
    if (auto r = d->find("retryAfterSeconds"); r != d->end() && r->is_number_integer())
      error.retry_after_seconds = r->get<int>();
    if (auto causes = d->find("causes"); causes != d->end() && causes->is_array())
      for (const auto& cause : *causes)
        if (cause.is_object())
          error.causes.push_back({JsonString(cause, "reason"), JsonString(cause, "message"), JsonString(cause, "field")});
  }
  return error;
}

ApiError ApiErrorFromResponse(const HttpResponse& response, std::string context) {
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  ApiError error;
  if (body.is_object() && JsonString(body, "kind") == "Status") {
    error = ApiErrorFromStatus(body, std::move(context));
  } else {
    error.context = std::move(context);
    error.reason = ReasonForCode(response.status);
    error.message = GenericMessage(response.status);
  }
  error.code = response.status;  // the HTTP code wins over whatever the body claims
  if (error.reason == "Unknown" || error.reason.empty()) error.reason = ReasonForCode(response.status);
  if (!error.retry_after_seconds) {
    if (auto after = ParseRetryAfter(response.Header("retry-after"), std::time(nullptr)))
      error.retry_after_seconds = static_cast<int>(after->count());
  }
  return error;
}

ApiError TransportApiError(Status transport, std::string context) {
  ApiError error;
  error.is_transport = true;
  error.message = transport.message();
  error.transport = std::move(transport);
  error.context = std::move(context);
  return error;
}

ApiError LocalApiError(std::string reason, std::string message, std::string context) {
  ApiError error;
  error.reason = std::move(reason);
  error.message = std::move(message);
  error.context = std::move(context);
  return error;
}

}  // namespace ferry::installer
