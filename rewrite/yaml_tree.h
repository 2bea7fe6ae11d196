// One YAML document as a small tree whose nodes know their exact bytes in the text, built from
// libyaml's event parser. It is what the image finder walks: yaml-cpp's YAML::Load builds a far
// heavier tree and gives each node only the position of its first token, while libyaml's events
// carry where each node starts and ends, its scalar style, and parse several times faster.
//
// What it keeps, and how it reads YAML the way yaml-cpp's YAML::Load did before:
//  - only the first document of the text (yaml_stream hands over one document at a time);
//  - a plain scalar without a tag that is empty, "~", "null", "Null" or "NULL" is a null node;
//  - an alias is not a node of its own: its place in a collection points at the anchored node,
//    so a walk visits that node again (and an anchor used inside its own node makes a cycle,
//    which a walk must bound);
//  - nothing else is resolved: tags are ignored, "<<" merge keys are ordinary keys, and duplicate
//    keys are left to the caller.
// Thread-compatible: separate trees may be built and read on separate threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

struct YamlNode {
  enum class Type : uint8_t { kNull, kScalar, kSequence, kMapping };
  Type type = Type::kNull;
  char style = 0;  // of a scalar: '"', '\'', '|', '>', or 0 for plain
  // Byte offsets in the text given to Parse (a leading byte order mark counts): `begin` is the
  // node's first byte, its first property ("&anchor", "!tag") if it has any; `end` is one past
  // its last byte: after a quoted scalar's closing quote, after a plain scalar's last character,
  // after a block scalar's last line break (before any less indented comment that follows).
  size_t begin = 0, end = 0;
  // A scalar's value is values_[first, first + count); a collection's children are
  // edges_[first, first + count) (a mapping's as key, value, key, value, ...).
  uint32_t first = 0, count = 0;
};

class YamlTree {
 public:
  // Parses the first document of `text`. `where` names a byte offset of `text` for messages
  // ("file:line:column"). Errors: InvalidArgument "WHERE: malformed YAML: REASON", with libyaml's
  // reason and what it was parsing (or an alias whose anchor is not defined before it).
  static Result<YamlTree> Parse(std::string_view text,
                                const std::function<std::string(size_t offset)>& where);

  // The document's root; nullptr when the document holds no node (empty, comments only).
  const YamlNode* Root() const { return nodes_.empty() ? nullptr : &nodes_[0]; }

  // REQUIRES: node.type == kScalar. The view lives as long as the tree.
  std::string_view Value(const YamlNode& node) const {
    return std::string_view(values_).substr(node.first, node.count);
  }

  // REQUIRES: node is a sequence or a mapping.
  std::span<const uint32_t> Children(const YamlNode& node) const {
    return std::span<const uint32_t>(edges_).subspan(node.first, node.count);
  }

  const YamlNode& Node(uint32_t id) const { return nodes_[id]; }

 private:
  friend class YamlTreeBuilder;

  std::vector<YamlNode> nodes_;  // nodes_[0] is the root
  std::vector<uint32_t> edges_;
  std::string values_;           // every scalar's value, one after another
};

}  // namespace ferry
