#include "mirror/auth_challenge.h"

#include <cctype>
#include <optional>

#include "common/strings.h"

namespace ferry {
namespace {

bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken68Char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("-._~+/").find(c) != std::string_view::npos;
}

// A cursor over the header value.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  bool AtEnd() const { return pos_ >= text_.size(); }
  char Peek() const { return AtEnd() ? '\0' : text_[pos_]; }
  size_t pos() const { return pos_; }
  void Reset(size_t pos) { pos_ = pos; }

  void SkipSpace() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t')) ++pos_;
  }
  void SkipSpaceAndCommas() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t' || Peek() == ',')) ++pos_;
  }

  std::string_view Token() { return TakeWhile(IsTokenChar); }

  // Returns false when nothing token68-like is here.
  bool SkipToken68() {
    if (TakeWhile(IsToken68Char).empty()) return false;
    while (Peek() == '=') ++pos_;
    return true;
  }

  // A quoted-string or, leniently, any run up to a comma or whitespace.
  std::optional<std::string> Value() {
    if (Peek() != '"') {
      return std::string(TakeWhile([](char c) {
        return c != ',' && c != ' ' && c != '\t' && c != '"';
      }));
    }
    ++pos_;
    std::string out;
    while (!AtEnd()) {
      char c = text_[pos_++];
      if (c == '"') return out;
      if (c == '\\' && !AtEnd()) c = text_[pos_++];
      out += c;
    }
    return std::nullopt;  // unterminated
  }

 private:
  template <typename Pred>
  std::string_view TakeWhile(Pred pred) {
    size_t start = pos_;
    while (!AtEnd() && pred(Peek())) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  std::string_view text_;
  size_t pos_ = 0;
};

// After the scheme: true, having consumed it, when a token68 credential ("abc==") follows.
bool SkipToken68Credential(Scanner& in) {
  size_t start = in.pos();
  in.SkipSpace();
  if (in.pos() > start && in.SkipToken68()) {
    in.SkipSpace();
    if (in.AtEnd() || in.Peek() == ',') return true;
  }
  in.Reset(start);
  return false;
}

// Parses the parameters after a scheme. Returns false on a syntax error; on success the
// scanner stands at the end or before the next challenge.
bool ParseParams(Scanner& in, AuthChallenge& challenge) {
  if (SkipToken68Credential(in)) return true;
  while (true) {
    size_t item_start = in.pos();
    in.SkipSpaceAndCommas();
    if (in.AtEnd()) return true;
    // "name BWS = BWS value" is a parameter; anything else starts the next challenge (or is
    // garbage, which the caller finds), so the comma before it separates challenges.
    std::string_view name = in.Token();
    in.SkipSpace();
    if (name.empty() || in.Peek() != '=') {
      in.Reset(item_start);
      return true;
    }
    in.Reset(in.pos() + 1);
    in.SkipSpace();
    std::optional<std::string> value = in.Value();
    if (!value) return false;
    challenge.params.emplace(Lower(name), std::move(*value));
    in.SkipSpace();
    if (!in.AtEnd() && in.Peek() != ',') return false;
  }
}

}  // namespace

std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view header_value) {
  std::vector<AuthChallenge> challenges;
  Scanner in(header_value);
  while (true) {
    in.SkipSpaceAndCommas();
    if (in.AtEnd()) break;
    std::string_view scheme = in.Token();
    if (scheme.empty()) break;
    // The scheme ends at whitespace, a comma or the end.
    if (!in.AtEnd() && in.Peek() != ' ' && in.Peek() != '\t' && in.Peek() != ',') break;
    AuthChallenge challenge;
    challenge.scheme = Lower(scheme);
    if (!ParseParams(in, challenge)) break;
    challenges.push_back(std::move(challenge));
  }
  return challenges;
}

}  // namespace ferry
