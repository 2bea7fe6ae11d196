// Grouping failed images by cause; see registry_failure.h.
#include "mirror/registry_failure.h"

namespace ferry {

bool IsRegistryFailure(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kTls || code == StatusCode::kUnauthenticated ||
         code == StatusCode::kPermissionDenied;
}

std::string RegistryNamedIn(const std::string& message) {
  const std::string lead = "registry ";
  if (!message.starts_with(lead)) return "";
  size_t end = message.find_first_of(",: ", lead.size());
  // A host:port has a colon: the name ends at ", " or ": ", not at the port's colon.
  while (end != std::string::npos && message[end] == ':' && end + 1 < message.size() && message[end + 1] != ' ')
    end = message.find_first_of(",: ", end + 1);
  return end == std::string::npos ? "" : message.substr(lead.size(), end - lead.size());
}

std::string FailureCauseKey(const std::string& registry, const Status& status) {
  return registry + "\n" + (IsRegistryFailure(status.code()) ? StatusCodeName(status.code()) : status.message());
}

}  // namespace ferry
