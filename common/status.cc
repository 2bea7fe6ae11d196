#include "common/status.h"

namespace ferry {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "ok";
    case StatusCode::kInvalidArgument: return "invalid argument";
    case StatusCode::kNotFound: return "not found";
    case StatusCode::kUnauthenticated: return "unauthenticated";
    case StatusCode::kPermissionDenied: return "permission denied";
    case StatusCode::kUnavailable: return "unavailable";
    case StatusCode::kTls: return "tls";
    case StatusCode::kDataLoss: return "data loss";
    case StatusCode::kUnsupported: return "unsupported";
    case StatusCode::kIo: return "i/o";
    case StatusCode::kInternal: return "internal";
    case StatusCode::kFailedPrecondition: return "failed precondition";
  }
  return "unknown";
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(code_, context + ": " + message_);
}

std::string Status::ToString() const { return ok() ? "OK" : message_; }

}  // namespace ferry
