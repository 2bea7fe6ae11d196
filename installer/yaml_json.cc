// YAML -> JSON conversion over yaml-cpp's node tree; see yaml_json.h for the scalar rules.
#include "installer/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include "rewrite/yaml_stream.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 256;
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

bool AllOf(std::string_view s, std::string_view allowed) {
  return !s.empty() && s.find_first_not_of(allowed) == std::string_view::npos;
}

constexpr std::string_view kDigits = "0123456789";

// An integer in `digits` (base 8, 10 or 16), negated if asked; numbers beyond 64 bits become
// doubles, as in any JSON decoder.
json ParseInteger(std::string_view digits, int base, bool negative) {
  uint64_t magnitude = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude, base);
  if (error == std::errc() && end == digits.data() + digits.size()) {
    if (!negative) {
      if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        return static_cast<int64_t>(magnitude);
      return magnitude;
    }
    if (magnitude <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) + 1)
      return static_cast<int64_t>(0 - magnitude);
  }
  double value = 0;
  for (char c : digits) value = value * base + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  return negative ? -value : value;
}

std::optional<json> ResolveInteger(std::string_view s) {
  if (s.starts_with("0x") && AllOf(s.substr(2), "0123456789abcdefABCDEF"))
    return ParseInteger(s.substr(2), 16, false);
  if (s.starts_with("0o") && AllOf(s.substr(2), "01234567")) return ParseInteger(s.substr(2), 8, false);
  bool negative = s.starts_with('-');
  std::string_view digits = (negative || s.starts_with('+')) ? s.substr(1) : s;
  if (!AllOf(digits, kDigits)) return std::nullopt;
  return ParseInteger(digits, 10, negative);
}

// [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
bool IsCoreFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
  size_t whole = digits();
  size_t fraction = 0;
  if (i < s.size() && s[i] == '.') {
    i++;
    fraction = digits();
  }
  if (whole == 0 && fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

std::optional<json> ResolveFloat(std::string_view s) {
  std::string_view unsigned_part = (s.starts_with('-') || s.starts_with('+')) ? s.substr(1) : s;
  if (unsigned_part == ".inf" || unsigned_part == ".Inf" || unsigned_part == ".INF") {
    double inf = std::numeric_limits<double>::infinity();
    return s.starts_with('-') ? -inf : inf;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return std::numeric_limits<double>::quiet_NaN();
  if (!IsCoreFloat(s)) return std::nullopt;
  double value = 0;
  std::string_view parse = s.starts_with('+') ? s.substr(1) : s;
  auto [end, error] = std::from_chars(parse.data(), parse.data() + parse.size(), value);
  if (error == std::errc::result_out_of_range) return s.starts_with('-') ? -HUGE_VAL : HUGE_VAL;
  if (error != std::errc() || end != parse.data() + parse.size()) return std::nullopt;
  return value;
}

std::optional<json> ResolveBool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE") return true;
  if (s == "false" || s == "False" || s == "FALSE") return false;
  return std::nullopt;
}

bool IsNull(std::string_view s) { return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL"; }

// The core schema's resolution of an untagged plain scalar.
json ResolvePlain(const std::string& s) {
  if (IsNull(s)) return nullptr;
  if (auto b = ResolveBool(s)) return *b;
  if (auto i = ResolveInteger(s)) return *i;
  if (auto f = ResolveFloat(s)) return *f;
  return s;
}

class Converter {
 public:
  Converter(const std::string& file, int first_line, size_t max_nodes)
      : file_(file), first_line_(first_line), max_nodes_(max_nodes) {}

  Status Error(const YAML::Mark& mark, const std::string& message) const {
    return InvalidArgument(Where(mark) + ": " + message);
  }

  std::string Where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_ + ":" + std::to_string(first_line_);
    return file_ + ":" + std::to_string(first_line_ + mark.line) + ":" + std::to_string(mark.column + 1);
  }

  Result<json> Convert(const YAML::Node& node, int depth) {
    if (++nodes_ > max_nodes_) return Error(node.Mark(), "too many nodes (alias explosion?)");
    if (depth > kMaxDepth) return Error(node.Mark(), "nesting deeper than 256 levels");
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json(nullptr);
      case YAML::NodeType::Scalar:
        return Scalar(node);
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const YAML::Node& item : node) {
          Result<json> value = Convert(item, depth + 1);
          if (!value.ok()) return value.status();
          out.push_back(std::move(value).value());
        }
        return out;
      }
      case YAML::NodeType::Map:
        return Mapping(node, depth);
    }
    return Error(node.Mark(), "unknown YAML node type");
  }

 private:
  Result<json> Scalar(const YAML::Node& node) {
    const std::string& text = node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "?") return ResolvePlain(text);
    if (tag == "!" || !tag.starts_with(kTagPrefix)) return json(text);  // quoted, block, local tag
    std::string_view type = std::string_view(tag).substr(kTagPrefix.size());
    std::optional<json> value;
    if (type == "str" || type == "binary" || type == "timestamp")
      value = text;
    else if (type == "null" && IsNull(text))
      value = nullptr;
    else if (type == "bool")
      value = ResolveBool(text);
    else if (type == "int")
      value = ResolveInteger(text);
    else if (type == "float") {
      value = ResolveFloat(text);
      if (!value) {
        if (auto i = ResolveInteger(text)) value = i->get<double>();
      }
    } else
      value = text;
    if (!value) return Error(node.Mark(), "\"" + text + "\" is not a valid !!" + std::string(type));
    return *value;
  }

  Result<json> Mapping(const YAML::Node& node, int depth) {
    json out = json::object();
    std::vector<YAML::Node> merges;  // values of "<<" keys, applied after the explicit keys
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      if (!key.IsScalar()) {
        return Error(key.Mark(), key.IsNull() ? "mapping key is null"
                                              : "mapping key is not a scalar (JSON keys are strings)");
      }
      if (key.Tag() == "?" && key.Scalar() == "<<") {
        merges.push_back(entry.second);
        continue;
      }
      if (out.contains(key.Scalar()))
        return Error(key.Mark(), "duplicate mapping key \"" + key.Scalar() + "\"");
      Result<json> value = Convert(entry.second, depth + 1);
      if (!value.ok()) return value.status();
      out[key.Scalar()] = std::move(value).value();
    }
    for (const YAML::Node& merge : merges) {
      Result<json> value = Convert(merge, depth + 1);
      if (!value.ok()) return value.status();
      // "<<: *a" or "<<: [*a, *b]": earlier sources win, explicit keys win over all.
      json sources = value->is_array() ? std::move(value).value() : json::array({*value});
      for (const json& source : sources) {
        if (!source.is_object()) return Error(merge.Mark(), "merge key \"<<\" needs a mapping");
        for (const auto& [k, v] : source.items()) {
          if (!out.contains(k)) out[k] = v;
        }
      }
    }
    return out;
  }

  const std::string& file_;
  const int first_line_;
  const size_t max_nodes_;
  size_t nodes_ = 0;
};

}  // namespace

Result<JsonDocument> YamlDocumentToJson(std::string_view text, const std::string& file, int first_line,
                                        int index) {
  // Aliases may repeat a subtree; a real manifest never has many more nodes than bytes.
  Converter converter(file, first_line, 4 * text.size() + 1024);
  JsonDocument doc{.file = file, .line = first_line, .index = index};
  try {
    YAML::Node root = YAML::Load(std::string(text));
    if (!root.Mark().is_null() && !root.IsNull()) doc.line = first_line + root.Mark().line;
    Result<json> value = converter.Convert(root, 0);
    if (!value.ok()) return value.status();
    doc.value = std::move(value).value();
  } catch (const YAML::Exception& e) {
    return converter.Error(e.mark, "malformed YAML: " + e.msg);
  }
  return doc;
}

Result<std::vector<JsonDocument>> YamlStreamToJson(std::string_view text, const std::string& file) {
  std::vector<JsonDocument> docs;
  std::istringstream in{std::string(text)};
  Status status = ForEachDocument(in, [&](const YamlDocument& piece) -> Status {
    Result<JsonDocument> doc = YamlDocumentToJson(piece.text, file, piece.first_line, piece.index);
    if (!doc.ok()) return doc.status();
    docs.push_back(std::move(doc).value());
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return docs;
}

}  // namespace ferry::installer
