// Locating a scalar's content bytes within its node's range; see scalar_span.h.
#include "rewrite/scalar_span.h"

#include <algorithm>

#include "rewrite/reference_text.h"

namespace ferry {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Skips blanks, comments and node properties ("&anchor", "!tag") that precede the content.
size_t SkipProperties(std::string_view doc, size_t pos, size_t limit) {
  while (pos < limit) {
    char c = doc[pos];
    if (IsBlank(c)) {
      ++pos;
    } else if (c == '#') {
      while (pos < limit && doc[pos] != '\n') ++pos;
    } else if (c == '&' || c == '!') {
      while (pos < limit && !IsBlank(doc[pos])) ++pos;
    } else {
      break;
    }
  }
  return pos;
}

// Position of the quote that closes a quoted scalar whose content starts at `pos`.
size_t ClosingQuote(std::string_view doc, size_t pos, size_t limit, char quote) {
  while (pos < limit) {
    char c = doc[pos];
    if (quote == '"' && c == '\\') {
      pos += 2;
    } else if (quote == '\'' && c == '\'' && pos + 1 < limit && doc[pos + 1] == '\'') {
      pos += 2;
    } else if (c == quote) {
      return pos;
    } else {
      ++pos;
    }
  }
  return limit;
}

}  // namespace

ScalarSpan FindScalarSpan(std::string_view doc, size_t begin, size_t end) {
  size_t limit = std::min(end, doc.size());
  size_t pos = SkipProperties(doc, std::min(begin, limit), limit);
  ScalarSpan span{pos, limit, 0};
  if (pos >= limit) return span;
  char c = doc[pos];
  if (c == '"' || c == '\'') {
    span.style = c;
    span.begin = pos + 1;
    span.end = ClosingQuote(doc, span.begin, limit, c);
  } else if (c == '|' || c == '>') {
    span.style = c;
    size_t newline = doc.find('\n', pos);
    span.begin = newline == std::string_view::npos ? limit : std::min(newline + 1, limit);
  }
  return span;
}

std::optional<size_t> FindWord(std::string_view doc, const ScalarSpan& span, size_t from,
                               std::string_view word) {
  if (word.empty()) return std::nullopt;
  size_t end = std::min(span.end, doc.size());
  size_t pos = std::max(from, span.begin);
  while (pos < end) {
    pos = doc.find(word, pos);
    if (pos == std::string_view::npos || pos + word.size() > end) return std::nullopt;
    bool left = pos == 0 || !IsReferenceChar(doc[pos - 1]);
    size_t after = pos + word.size();
    while (after < end && (doc[after] == '.' || doc[after] == ':')) ++after;
    bool right = after >= end || !IsReferenceChar(doc[after]);
    if (left && right) return pos;
    ++pos;
  }
  return std::nullopt;
}

}  // namespace ferry
