// Status and Result<T>: errors as values, carrying what the user needs to act on them.
//
// A Status is OK or holds a code and a message. Messages name the thing and the place
// ("registry localhost:5000, repository a/b: ...") and never contain secrets.
// Nothing in ferry throws across module boundaries; functions that can fail return one of these.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace ferry {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,  // the user's input is malformed (a reference, a flag, a file)
  kNotFound,         // the thing asked for does not exist (manifest, blob, repository)
  kUnauthenticated,  // credentials missing or rejected (401)
  kPermissionDenied, // authenticated but not allowed (403)
  kUnavailable,      // transport failure, timeout, 5xx, 429: may succeed if tried again
  kTls,              // certificate verification or TLS handshake failed
  kDataLoss,         // bytes do not match their digest, or the peer lied
  kUnsupported,      // valid but not something ferry can do (schema 1, unknown media type)
  kIo,               // local file system failure
  kInternal,         // a bug, or a server answer that makes no sense
  kFailedPrecondition,  // the system is not in a state the operation needs (nothing runs that should)
};

const char* StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // Returns a copy whose message is "context: message"; OK stays OK.
  Status WithContext(const std::string& context) const;

  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status TlsError(std::string m) { return {StatusCode::kTls, std::move(m)}; }
inline Status DataLoss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status Unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status IoError(std::string m) { return {StatusCode::kIo, std::move(m)}; }
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status FailedPrecondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }

// Either a value or a non-OK Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}
  Result(Status status) : status_(std::move(status)) {}

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace ferry

// Returns early from the enclosing function when `expr` is not OK.
#define FERRY_RETURN_IF_ERROR(expr)          \
  do {                                       \
    ::ferry::Status ferry_status_ = (expr);  \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)
