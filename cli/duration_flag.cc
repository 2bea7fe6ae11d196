// Parsing kubectl-style durations; see duration_flag.h.
#include "cli/duration_flag.h"

#include <cctype>
#include <string_view>

namespace ferry::cli {

Result<std::chrono::milliseconds> ParseDuration(const std::string& text, const std::string& flag) {
  auto bad = [&] {
    std::string message = flag;
    message.append(" ").append(text).append(": not a duration (write 90s, 10m, 1h30m)");
    return InvalidArgument(message);
  };
  long long total_ms = 0;
  size_t i = 0;
  if (text.empty()) return bad();
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start || i - start > 9) return bad();
    long long n = std::stoll(text.substr(start, i - start));
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string_view unit = std::string_view(text).substr(unit_start, i - unit_start);
    if (unit.empty() && start == 0 && i == text.size()) unit = "s";  // a bare number is seconds
    if (unit == "ms") total_ms += n;
    else if (unit == "s") total_ms += n * 1000;
    else if (unit == "m") total_ms += n * 60000;
    else if (unit == "h") total_ms += n * 3600000;
    else return bad();
  }
  if (total_ms <= 0) return bad();
  return std::chrono::milliseconds(total_ms);
}

}  // namespace ferry::cli
