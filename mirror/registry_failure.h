// Which failed images share a cause. When a registry cannot be reached, fails TLS or refuses the
// credentials, every image there fails alike though each message names its own repository; a
// report says that once per registry, with a count, instead of once per image.
#pragma once

#include <string>

#include "common/status.h"

namespace ferry {

// Failures that say nothing about one image: every image at that registry fails the same way.
bool IsRegistryFailure(StatusCode code);

// The registry a registry client's message is about ("registry HOST[, repository R]: ..."), or "".
std::string RegistryNamedIn(const std::string& message);

// Equal for failures with one cause: `registry` and the code for a registry failure, else
// `registry` and the message itself (an answer repeated verbatim, such as "not a registry").
std::string FailureCauseKey(const std::string& registry, const Status& status);

}  // namespace ferry
