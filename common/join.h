// Joining words into one line of a message or a script.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// "a, b, c" for Join({"a", "b", "c"}, ", "); "" for no parts.
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

}  // namespace ferry
