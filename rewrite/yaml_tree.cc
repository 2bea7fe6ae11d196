// Building a YamlTree from libyaml's events; see yaml_tree.h.
#include "rewrite/yaml_tree.h"

#include <yaml.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unordered_map>

namespace ferry {
namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";

bool IsAscii(std::string_view text) {
  unsigned char any = 0;
  for (char c : text) any |= static_cast<unsigned char>(c);
  return any < 0x80;
}

// libyaml counts positions in characters; the finder needs bytes. Marks arrive nearly in order,
// so a cursor walked forward (or back) from the last answer costs little in all.
// REQUIRES: `text` is valid UTF-8.
class ByteOffsets {
 public:
  explicit ByteOffsets(std::string_view text) : text_(text), ascii_(IsAscii(text)) {}

  size_t Of(size_t characters) {
    if (ascii_) return std::min(characters, text_.size());
    while (characters_ < characters && bytes_ < text_.size()) {
      auto lead = static_cast<unsigned char>(text_[bytes_]);
      bytes_ += lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
      ++characters_;
    }
    while (characters_ > characters && bytes_ > 0) {
      do --bytes_;
      while (bytes_ > 0 && (static_cast<unsigned char>(text_[bytes_]) & 0xC0) == 0x80);
      --characters_;
    }
    return std::min(bytes_, text_.size());
  }

 private:
  std::string_view text_;
  bool ascii_;
  size_t characters_ = 0, bytes_ = 0;
};

struct ParserDeleter {
  void operator()(yaml_parser_t* parser) const {
    yaml_parser_delete(parser);
    delete parser;
  }
};

struct EventDeleter {
  void operator()(yaml_event_t* event) const { yaml_event_delete(event); }
};

bool IsNullValue(std::string_view value) {
  return value.empty() || value == "~" || value == "null" || value == "Null" || value == "NULL";
}

char StyleOf(yaml_scalar_style_t style) {
  switch (style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE: return '\'';
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE: return '"';
    case YAML_LITERAL_SCALAR_STYLE: return '|';
    case YAML_FOLDED_SCALAR_STYLE: return '>';
    default: return 0;
  }
}

}  // namespace

class YamlTreeBuilder {
 public:
  YamlTreeBuilder(std::string_view text, const std::function<std::string(size_t)>& where)
      : bom_(text.starts_with(kBom) ? kBom.size() : 0),
        text_(text.substr(bom_)),
        where_(where),
        offsets_(text_) {}

  Result<YamlTree> Build() {
    std::unique_ptr<yaml_parser_t, ParserDeleter> parser(new yaml_parser_t);
    if (!yaml_parser_initialize(parser.get())) {
      return InvalidArgument(where_(0) + ": out of memory");
    }
    // The parser reads past a byte order mark without counting it: give it the text after one.
    yaml_parser_set_input_string(parser.get(), reinterpret_cast<const unsigned char*>(text_.data()),
                                 text_.size());
    yaml_parser_set_encoding(parser.get(), YAML_UTF8_ENCODING);
    for (;;) {
      yaml_event_t event;
      if (!yaml_parser_parse(parser.get(), &event)) return ParserError(*parser);
      std::unique_ptr<yaml_event_t, EventDeleter> owner(&event);
      // The first document is the whole answer, as with YAML::Load.
      if (event.type == YAML_DOCUMENT_END_EVENT || event.type == YAML_STREAM_END_EVENT) break;
      FERRY_RETURN_IF_ERROR(Add(event));
    }
    return std::move(tree_);
  }

 private:
  struct Open {
    uint32_t node;
    size_t pending;  // where its children start in pending_
  };

  size_t Offset(const yaml_mark_t& mark) { return offsets_.Of(mark.index) + bom_; }

  Status Add(const yaml_event_t& event) {
    switch (event.type) {
      case YAML_SCALAR_EVENT: {
        const auto& scalar = event.data.scalar;
        std::string_view value(reinterpret_cast<const char*>(scalar.value), scalar.length);
        YamlNode node{.type = YamlNode::Type::kScalar,
                      .style = StyleOf(scalar.style),
                      .begin = Offset(event.start_mark),
                      .end = Offset(event.end_mark)};
        if (scalar.plain_implicit && IsNullValue(value)) {
          node.type = YamlNode::Type::kNull;
        } else {
          node.first = static_cast<uint32_t>(tree_.values_.size());
          node.count = static_cast<uint32_t>(value.size());
          tree_.values_.append(value);
        }
        AddNode(node, scalar.anchor);
        return Status::Ok();
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT: {
        bool mapping = event.type == YAML_MAPPING_START_EVENT;
        YamlNode node{.type = mapping ? YamlNode::Type::kMapping : YamlNode::Type::kSequence,
                      .begin = Offset(event.start_mark)};
        uint32_t id = AddNode(node, mapping ? event.data.mapping_start.anchor
                                            : event.data.sequence_start.anchor);
        open_.push_back({id, pending_.size()});
        return Status::Ok();
      }
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT: {
        Open open = open_.back();
        open_.pop_back();
        YamlNode& node = tree_.nodes_[open.node];
        node.end = Offset(event.end_mark);
        node.first = static_cast<uint32_t>(tree_.edges_.size());
        node.count = static_cast<uint32_t>(pending_.size() - open.pending);
        tree_.edges_.insert(tree_.edges_.end(), pending_.begin() + open.pending, pending_.end());
        pending_.resize(open.pending);
        return Status::Ok();
      }
      case YAML_ALIAS_EVENT: {
        std::string name(reinterpret_cast<const char*>(event.data.alias.anchor));
        auto it = anchors_.find(name);
        if (it == anchors_.end()) {
          return InvalidArgument(where_(Offset(event.start_mark)) + ": malformed YAML: alias *" +
                                 name + " names no anchor defined before it");
        }
        pending_.push_back(it->second);
        return Status::Ok();
      }
      default:
        return Status::Ok();  // stream and document start
    }
  }

  // Adds `node`, as a child of the innermost open collection, and records its anchor.
  uint32_t AddNode(const YamlNode& node, const yaml_char_t* anchor) {
    auto id = static_cast<uint32_t>(tree_.nodes_.size());
    tree_.nodes_.push_back(node);
    if (!open_.empty()) pending_.push_back(id);
    // A later anchor of the same name hides the earlier one, as the YAML spec says.
    if (anchor) anchors_[reinterpret_cast<const char*>(anchor)] = id;
    return id;
  }

  Status ParserError(const yaml_parser_t& parser) {
    if (parser.error == YAML_MEMORY_ERROR) return InvalidArgument(where_(0) + ": out of memory");
    std::string problem = parser.problem ? parser.problem : "unknown error";
    if (parser.error == YAML_READER_ERROR) {
      // Reader errors count raw bytes, and name the offending value.
      size_t at = std::min(parser.problem_offset, text_.size()) + bom_;
      char value[16];
      std::snprintf(value, sizeof value, " (0x%02X)", parser.problem_value);
      return InvalidArgument(where_(at) + ": malformed YAML: " + problem +
                             (parser.problem_value >= 0 ? value : ""));
    }
    size_t at = Offset(parser.problem_mark);
    std::string reason = problem;
    if (at - bom_ < text_.size() && text_[at - bom_] == '\t') {
      reason += " (a tab: YAML indents with spaces)";
    }
    if (parser.context) {
      reason += std::string(", ") + parser.context;
      size_t context_at = Offset(parser.context_mark);
      if (context_at != at) reason += " that starts at " + where_(context_at);
    }
    return InvalidArgument(where_(at) + ": malformed YAML: " + reason);
  }

  const size_t bom_;  // bytes of a UTF-8 byte order mark at the start, else 0
  const std::string_view text_;  // after the byte order mark
  const std::function<std::string(size_t)>& where_;
  ByteOffsets offsets_;
  YamlTree tree_;
  std::vector<Open> open_;
  std::vector<uint32_t> pending_;  // children of the open collections, innermost last
  std::unordered_map<std::string, uint32_t> anchors_;
};

Result<YamlTree> YamlTree::Parse(std::string_view text,
                                 const std::function<std::string(size_t offset)>& where) {
  return YamlTreeBuilder(text, where).Build();
}

}  // namespace ferry
