// Parsing of WWW-Authenticate header values (RFC 7235), which tell a registry client how
// to authenticate: Basic with a realm, or Bearer with a token server (realm), service and scope.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

struct AuthChallenge {
  std::string scheme;                         // lowercased: "bearer", "basic"
  std::map<std::string, std::string> params;  // keys lowercased; values unquoted and unescaped

  bool operator==(const AuthChallenge&) const = default;
};

// Returns the challenges in header order. Parsing is lenient about whitespace and unquoted
// values; at the first syntax error it stops and returns the challenges completed before it,
// so an empty or garbage header gives an empty vector. A token68 credential
// ("Negotiate abc==") is skipped. When a parameter repeats, the first one counts.
std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view header_value);

}  // namespace ferry
