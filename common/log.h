// Diagnostic logging to stderr. Quiet by default; `-v` shows each HTTP exchange (never credentials).
#pragma once

#include <string_view>

namespace ferry {

enum class LogLevel { kError = 0, kWarning = 1, kInfo = 2, kDebug = 3 };

void SetLogLevel(LogLevel level);
bool LogEnabled(LogLevel level);
void Log(LogLevel level, std::string_view message);

}  // namespace ferry
