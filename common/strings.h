// Small text helpers shared by messages, scripts and parsers.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// "a, b, c" for Join({"a", "b", "c"}, ", "); "" for no parts.
std::string Join(const std::vector<std::string>& parts, std::string_view separator);

// ASCII lower case (header names, hosts, schemes).
std::string Lower(std::string_view s);

// Without leading and trailing ASCII white space.
std::string Trim(std::string_view s);

// a-z or 0-9: what a registry path component is made of.
bool IsLowerAlnum(char c);

// Text from outside (user input, an archive's entry names) quoted for an error message: quotes and
// backslashes escaped, control and non-ASCII bytes as \xNN (nothing garbles the terminal), cut
// after 300 characters with "..." (nothing floods it).
std::string Quote(std::string_view s);

}  // namespace ferry
