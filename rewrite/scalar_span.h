// Where a scalar's characters sit in the raw text of its document. The parser gives each node the
// byte range it spans (rewrite/yaml_tree.h), which starts at its properties ("&anchor", "!tag")
// and includes quotes or a block header; the image finder needs the content's exact bytes, to
// point at what a rewrite will replace.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace ferry {

struct ScalarSpan {
  // First byte of the content: after "&anchor"/"!tag" properties, after an opening quote, after a
  // block scalar's header line ("|-", ">").
  size_t begin = 0;
  // One past the last byte the content may occupy: the closing quote of a quoted scalar; for
  // plain and block scalars the node's end.
  size_t end = 0;
  char style = 0;  // '"', '\'', '|', '>', or 0 for plain
};

// `begin` and `end` are the node's byte range in `doc` (YamlNode::begin, YamlNode::end).
ScalarSpan FindScalarSpan(std::string_view doc, size_t begin, size_t end);

// The first position at or after `from` inside the span where `word` stands as a whole word: not
// preceded by a reference byte, and followed by none except sentence punctuation ('.' or ':'
// then a non-reference byte). nullopt when the raw bytes do not spell it, e.g. because a
// double-quoted scalar writes part of it with escapes.
std::optional<size_t> FindWord(std::string_view doc, const ScalarSpan& span, size_t from,
                               std::string_view word);

}  // namespace ferry
