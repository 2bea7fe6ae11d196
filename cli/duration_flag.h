// Durations on the command line as kubectl writes them: "90s", "10m", "1h30m", "500ms"; a bare
// number is seconds.
#pragma once

#include <chrono>
#include <string>

#include "common/status.h"

namespace ferry::cli {

// InvalidArgument naming `flag` for anything else, or for zero.
Result<std::chrono::milliseconds> ParseDuration(const std::string& text, const std::string& flag);

}  // namespace ferry::cli
