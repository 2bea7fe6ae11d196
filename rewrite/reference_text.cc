// The rules of reference_text.h.
#include "rewrite/reference_text.h"

#include <algorithm>
#include <string>

namespace ferry {
namespace {

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The registry as written ("gcr.io", "localhost:5000"), or empty when the text leaves it implicit.
// Same rule as the reference grammar: a first component is a host if it has '.' or ':' or is
// "localhost".
std::string_view ExplicitRegistry(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return {};
  std::string_view first = text.substr(0, slash);
  if (first.find_first_of(".:") == std::string_view::npos && first != "localhost") return {};
  return first;
}

}  // namespace

bool IsReferenceChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '/' || c == ':' || c == '@' || c == '-';
}

std::optional<ImageReference> ReferenceIn(std::string_view text, ReferenceContext context) {
  if (text.empty() || text.find("://") != std::string_view::npos) return std::nullopt;
  // Outside image fields every accepted reference has a digest ('@'), a path ('/') or a tag
  // (':'); with strong evidence only, a digest or a path. Most words of free text and most
  // values have none of them: decide those without parsing (the parser's error messages are not
  // cheap to build).
  if (context == ReferenceContext::kValue && text.find_first_of("/@") == std::string_view::npos) {
    return std::nullopt;
  }
  if (context == ReferenceContext::kNamedImage &&
      text.find_first_of("/@:") == std::string_view::npos) {
    return std::nullopt;
  }
  Result<ImageReference> parsed = ImageReference::Parse(text);
  if (!parsed.ok()) return std::nullopt;
  const ImageReference& ref = *parsed;
  if (context == ReferenceContext::kImageField) return ref;
  if (!ref.digest.empty()) return ref;

  bool has_path = text.find('/') != std::string_view::npos;
  if (context == ReferenceContext::kNamedImage) {
    if (has_path) return ref;
    std::string_view word = text.substr(0, text.find(':'));
    bool digest_like = word == "sha256" || word == "sha384" || word == "sha512";
    if (!ref.tag.empty() && word.find('.') == std::string_view::npos && !AllDigits(ref.tag) &&
        !digest_like) {
      return ref;
    }
    return std::nullopt;
  }
  std::string_view registry = ExplicitRegistry(text);
  // A tag too: "docker.io/istio" (Istio's hub) and "gcr.io/knative-releases" are prefixes, not
  // images.
  if (!registry.empty() && !ref.tag.empty()) return ref;
  return std::nullopt;
}

std::vector<TextToken> ReferenceTokens(std::string_view text) {
  std::vector<TextToken> tokens;
  size_t i = 0;
  while (i < text.size()) {
    if (!IsReferenceChar(text[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < text.size() && IsReferenceChar(text[i])) ++i;
    size_t end = i;
    while (end > start && (text[end - 1] == '.' || text[end - 1] == ':')) --end;
    if (end > start) tokens.push_back({start, text.substr(start, end - start)});
  }
  return tokens;
}

}  // namespace ferry
