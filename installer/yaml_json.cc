// YAML -> JSON conversion over yaml-cpp's node tree; see yaml_json.h for the scalar rules.
#include "installer/yaml_json.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <vector>

#include "common/base64.h"
#include "rewrite/yaml_stream.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

constexpr int kMaxDepth = 256;
constexpr std::string_view kTagPrefix = "tag:yaml.org,2002:";

// kubectl reads YAML with sigs.k8s.io/yaml: go-yaml v2 resolves each plain scalar (YAML 1.1 with
// go-yaml's own rules), the result is marshalled to JSON by Go and decoded again into unstructured
// objects, where a number without a fraction or exponent that fits int64 becomes an integer and
// every other number a float64. The functions below reproduce that chain (go-yaml v2 resolve.go,
// Go's strconv and encoding/json) so that ferry sends the API server what kubectl sends.

// Go's strconv.ParseInt/ParseUint with base 0: optional sign (ParseInt only), then 0x, 0o, 0b or a
// leading 0 (octal) or decimal digits. nullopt on a syntax error or overflow.
std::optional<int64_t> GoParseInt(std::string_view s);
std::optional<uint64_t> GoParseUint(std::string_view s, bool allow_sign = false, bool* negative = nullptr) {
  bool neg = false;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  int base = 10;
  if (s.size() >= 2 && s[0] == '0') {
    char p = static_cast<char>(s[1] | 0x20);
    if (p == 'x' || p == 'o' || p == 'b') {
      base = p == 'x' ? 16 : p == 'o' ? 8 : 2;
      s.remove_prefix(2);
    } else {
      base = 8;
      s.remove_prefix(1);
    }
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [end, error] = std::from_chars(s.data(), s.data() + s.size(), value, base);
  if (error != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (negative) *negative = neg;
  return value;
}

std::optional<int64_t> GoParseInt(std::string_view s) {
  bool negative = false;
  std::optional<uint64_t> magnitude = GoParseUint(s, /*allow_sign=*/true, &negative);
  if (!magnitude) return std::nullopt;
  constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (!negative) {
    if (*magnitude > kMax) return std::nullopt;
    return static_cast<int64_t>(*magnitude);
  }
  if (*magnitude > kMax + 1) return std::nullopt;
  return static_cast<int64_t>(0 - *magnitude);
}

// go-yaml's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$
bool IsYamlStyleFloat(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') i++;
    return i - start;
  };
  if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
  if (i < s.size() && s[i] == '.') {
    i++;
    if (digits() == 0) return false;
  } else {
    if (digits() == 0) return false;
    if (i < s.size() && s[i] == '.') {
      i++;
      digits();
    }
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    i++;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) i++;
    if (digits() == 0) return false;
  }
  return i == s.size();
}

// Go's strconv.ParseFloat for the decimal forms go-yaml hands it, underscores allowed between
// digits; nullopt on a syntax error or overflow (underflow gives 0, as in Go).
std::optional<double> GoParseFloat(std::string_view s) {
  std::string clean;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '_') {
      clean += s[i];
      continue;
    }
    bool between_digits = i > 0 && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i - 1])) &&
                          std::isdigit(static_cast<unsigned char>(s[i + 1]));
    if (!between_digits) return std::nullopt;
  }
  if (!IsYamlStyleFloat(clean)) return std::nullopt;
  // strtod tells overflow (HUGE_VAL: Go's ErrRange) from underflow (a tiny value or 0, as in Go).
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  if (errno == ERANGE && std::isinf(value)) return std::nullopt;
  return value;
}

// A resolved plain scalar, before it becomes JSON.
struct Resolved {
  enum Kind { kNull, kBool, kInt, kUint, kFloat, kString, kTimestamp } kind = kString;
  bool boolean = false;
  int64_t integer = 0;
  uint64_t unsigned_integer = 0;
  double floating = 0;
};

// The table go-yaml v2 looks plain scalars up in.
std::optional<Resolved> ResolveFromMap(std::string_view s) {
  static const std::map<std::string_view, Resolved> kMap = [] {
    std::map<std::string_view, Resolved> m;
    for (std::string_view t : {"y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"})
      m[t] = {.kind = Resolved::kBool, .boolean = true};
    for (std::string_view f : {"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"})
      m[f] = {.kind = Resolved::kBool, .boolean = false};
    for (std::string_view n : {"", "~", "null", "Null", "NULL"}) m[n] = {.kind = Resolved::kNull};
    for (std::string_view n : {".nan", ".NaN", ".NAN"})
      m[n] = {.kind = Resolved::kFloat, .floating = std::numeric_limits<double>::quiet_NaN()};
    for (std::string_view i : {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"})
      m[i] = {.kind = Resolved::kFloat, .floating = std::numeric_limits<double>::infinity()};
    for (std::string_view i : {"-.inf", "-.Inf", "-.INF"})
      m[i] = {.kind = Resolved::kFloat, .floating = -std::numeric_limits<double>::infinity()};
    return m;
  }();
  auto it = kMap.find(s);
  if (it == kMap.end()) return std::nullopt;
  return it->second;
}

int DigitsAt(std::string_view s, size_t& i, size_t min, size_t max) {
  size_t start = i;
  int value = 0;
  while (i < s.size() && i - start < max && std::isdigit(static_cast<unsigned char>(s[i]))) value = value * 10 + (s[i++] - '0');
  return i - start >= min ? value : -1;
}

// go-yaml v2's timestamps: Go's time.Parse with "2006-1-2", "2006-1-2 15:4:5.999999999" and
// "2006-1-2T15:4:5.999999999Z07:00" (also with a lowercase t).
bool IsTimestamp(std::string_view s) {
  size_t i = 0;
  int year = DigitsAt(s, i, 4, 4);
  if (year < 0 || i >= s.size() || s[i++] != '-') return false;
  int month = DigitsAt(s, i, 1, 2);
  if (month < 1 || month > 12 || i >= s.size() || s[i++] != '-') return false;
  int day = DigitsAt(s, i, 1, 2);
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day < 1 || day > kDays[month - 1] || (month == 2 && day == 29 && !leap)) return false;
  if (i == s.size()) return true;
  char separator = s[i++];
  if (separator != ' ' && separator != 'T' && separator != 't') return false;
  int hour = DigitsAt(s, i, 1, 2);
  if (hour < 0 || hour > 23 || i >= s.size() || s[i++] != ':') return false;
  int minute = DigitsAt(s, i, 1, 2);
  if (minute < 0 || minute > 59 || i >= s.size() || s[i++] != ':') return false;
  int second = DigitsAt(s, i, 1, 2);
  if (second < 0 || second > 59) return false;
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (DigitsAt(s, i, 1, 9) < 0) return false;
  }
  if (separator == ' ') return i == s.size();
  if (i < s.size() && s[i] == 'Z') return i + 1 == s.size();
  if (i >= s.size() || (s[i] != '+' && s[i] != '-')) return false;
  ++i;
  int zone_hours = DigitsAt(s, i, 2, 2);
  if (zone_hours < 0 || zone_hours > 23 || i >= s.size() || s[i++] != ':') return false;
  int zone_minutes = DigitsAt(s, i, 2, 2);
  return zone_minutes >= 0 && zone_minutes <= 59 && i == s.size();
}

// go-yaml v2's resolve() for an untagged plain scalar (or one tagged !!timestamp when `timestamp`).
Resolved ResolvePlain(std::string_view s) {
  char first = s.empty() ? 'N' : s[0];
  bool sign = first == '+' || first == '-', digit = first >= '0' && first <= '9';
  bool in_map = std::string_view("yYnNtTfFoO~N").find(first) != std::string_view::npos;
  if (!sign && !digit && !in_map && first != '.') return {};  // a string, whatever follows
  if (auto known = ResolveFromMap(s)) return *known;
  if (first == '.') {
    if (auto f = GoParseFloat(s)) return {.kind = Resolved::kFloat, .floating = *f};
    return {};
  }
  if (!sign && !digit) return {};
  if (IsTimestamp(s)) return {.kind = Resolved::kTimestamp};
  std::string plain;
  for (char c : s)
    if (c != '_') plain += c;
  if (auto i = GoParseInt(plain)) return {.kind = Resolved::kInt, .integer = *i};
  if (auto u = GoParseUint(plain)) return {.kind = Resolved::kUint, .unsigned_integer = *u};
  if (IsYamlStyleFloat(plain))
    if (auto f = GoParseFloat(plain)) return {.kind = Resolved::kFloat, .floating = *f};
  return {};
}

// The shortest digits that give `value` back, and the power of ten of the first: 1500 -> "15", 3.
std::pair<std::string, int> ShortestDigits(double value) {
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(value), std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(end - buffer));  // "1.5e+03"
  size_t e = text.find('e');
  std::string digits(text.substr(0, e));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  return {digits, std::stoi(std::string(text.substr(e + 1)))};
}

// A float64 after Go's json.Marshal and the unstructured decoder kubectl sends through: below
// 1e21 Go writes the shortest digits without an exponent ("1e3" -> 1000, 2^63 -> 9223372036854776000),
// and text without a fraction that fits int64 is read back as an integer.
json FloatAsKubectlSends(double value) {
  if (value != std::trunc(value) || !(std::fabs(value) < 1e21)) return value;
  auto [digits, exponent] = ShortestDigits(value);
  if (exponent + 1 < static_cast<int>(digits.size())) return value;
  std::string text = (std::signbit(value) ? "-" : "") + digits +
                     std::string(static_cast<size_t>(exponent + 1) - digits.size(), '0');
  int64_t integer = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), integer);
  if (error != std::errc() || end != text.data() + text.size()) return value;
  return integer;
}

// strconv.FormatFloat(value, 'g', -1, 32), the text sigs.k8s.io/yaml gives a float mapping key.
std::string GoFloat32Key(double value) {
  if (std::isnan(value)) return ".nan";
  float f = static_cast<float>(value);
  if (std::isinf(f)) return f > 0 ? ".inf" : "-.inf";
  char buffer[64];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, std::fabs(f), std::chars_format::scientific);
  std::string_view text(buffer, static_cast<size_t>(end - buffer));  // "1.2345e+06", float's shortest
  size_t e = text.find('e');
  std::string digits(text.substr(0, e));
  digits.erase(std::remove(digits.begin(), digits.end(), '.'), digits.end());
  int exponent = std::stoi(std::string(text.substr(e + 1)));
  std::string out = std::signbit(f) ? "-" : "";
  if (exponent < -4 || exponent >= 6) {  // %e, with at least two exponent digits
    out += digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    std::string exp = std::to_string(std::abs(exponent));
    return out + "e" + (exponent < 0 ? "-" : "+") + (exp.size() < 2 ? "0" : "") + exp;
  }
  if (exponent < 0) return out + "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
  size_t point = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= point) return out + digits + std::string(point - digits.size(), '0');
  return out + digits.substr(0, point) + "." + digits.substr(point);
}

// The length of the valid UTF-8 sequence at bytes[i], or 0 when the byte there does not start one.
size_t Utf8SequenceAt(std::string_view bytes, size_t i) {
  unsigned char c = static_cast<unsigned char>(bytes[i]);
  size_t length = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (length <= 1 || i + length > bytes.size()) return i + length <= bytes.size() ? length : 0;
  uint32_t code = length == 2 ? c & 0x1F : length == 3 ? c & 0x0F : c & 0x07;
  for (size_t k = 1; k < length; ++k) {
    unsigned char next = static_cast<unsigned char>(bytes[i + k]);
    if ((next >> 6) != 2) return 0;
    code = (code << 6) | (next & 0x3F);
  }
  static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  bool valid = code >= kMin[length] && code <= 0x10FFFF && (code < 0xD800 || code > 0xDFFF);
  return valid ? length : 0;
}

// Replaces each byte that is not part of valid UTF-8 with U+FFFD, as Go's JSON encoder does.
std::string ValidUtf8(std::string_view bytes) {
  std::string out;
  for (size_t i = 0; i < bytes.size();) {
    size_t length = Utf8SequenceAt(bytes, i);
    if (length == 0) {
      out += "\xEF\xBF\xBD";
      i += 1;
    } else {
      out.append(bytes.substr(i, length));
      i += length;
    }
  }
  return out;
}

// The offset of the first byte go-yaml would refuse: not UTF-8, or a control character other than
// tab, line feed and carriage return (a NUL would also make yaml-cpp guess UTF-16 or UTF-32).
size_t FirstUnreadableByte(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F) return i;
    size_t length = Utf8SequenceAt(bytes, i);
    if (length == 0) return i;
    i += length;
  }
  return std::string_view::npos;
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
        return json(nullptr);
      case YAML::NodeType::Null:  // "a:", "a: ~", but also "a: !!str" (an empty string)
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
  // The Go value go-yaml v2 decodes a scalar to: quoted and block scalars and local tags are
  // strings, plain ones are resolved, the standard tags (!!int, !!bool...) must fit.
  Result<Resolved> ResolveScalar(const YAML::Node& node, std::string& text) {
    text = node.IsNull() ? "" : node.Scalar();
    const std::string& tag = node.Tag();
    if (tag == "?" || tag.empty()) return ResolvePlain(text);
    if (tag == "!" || !tag.starts_with(kTagPrefix)) return Resolved{};
    std::string_view type = std::string_view(tag).substr(kTagPrefix.size());
    if (type == "binary") {
      std::string encoded;
      for (char c : text)
        if (c != '\n' && c != '\r') encoded += c;  // Go's base64 skips line breaks, nothing else
      Result<std::string> decoded = Base64Decode(encoded);
      if (!decoded.ok()) return Error(node.Mark(), "!!binary value is not valid base64");
      text = ValidUtf8(*decoded);
      return Resolved{};
    }
    if (type == "str" || (type != "bool" && type != "int" && type != "float" && type != "null" && type != "timestamp"))
      return Resolved{};
    Resolved r = ResolvePlain(text);
    bool fits = (type == "bool" && r.kind == Resolved::kBool) ||
                (type == "int" && (r.kind == Resolved::kInt || r.kind == Resolved::kUint)) ||
                (type == "float" && (r.kind == Resolved::kFloat || r.kind == Resolved::kInt)) ||
                (type == "null" && r.kind == Resolved::kNull) || (type == "timestamp" && r.kind == Resolved::kTimestamp);
    if (!fits) return Error(node.Mark(), "\"" + text + "\" is not a valid !!" + std::string(type));
    if (type == "float" && r.kind == Resolved::kInt) r = {.kind = Resolved::kFloat, .floating = double(r.integer)};
    return r;
  }

  Result<json> Scalar(const YAML::Node& node) {
    std::string text;
    Result<Resolved> r = ResolveScalar(node, text);
    if (!r.ok()) return r.status();
    switch (r->kind) {
      case Resolved::kNull: return json(nullptr);
      case Resolved::kBool: return json(r->boolean);
      case Resolved::kInt: return json(r->integer);
      case Resolved::kUint: return FloatAsKubectlSends(static_cast<double>(r->unsigned_integer));
      case Resolved::kFloat:
        if (!std::isfinite(r->floating))
          return Error(node.Mark(), "\"" + text + "\" is not a number JSON can hold (kubectl refuses it too); quote it "
                                    "to make it a string");
        return FloatAsKubectlSends(r->floating);
      case Resolved::kString:
      case Resolved::kTimestamp: break;
    }
    return json(ValidUtf8(text));  // whatever the parser made of its input, JSON can carry it
  }

  // A mapping key as sigs.k8s.io/yaml writes it into JSON.
  Result<std::string> Key(const YAML::Node& key) {
    if (!key.IsScalar() && !key.IsNull()) return Error(key.Mark(), "mapping key is not a scalar (JSON keys are strings)");
    std::string text;
    Result<Resolved> r = ResolveScalar(key, text);
    if (!r.ok()) return r.status();
    switch (r->kind) {
      case Resolved::kNull: return Error(key.Mark(), "mapping key is null");
      case Resolved::kBool: return std::string(r->boolean ? "true" : "false");
      case Resolved::kInt: return std::to_string(r->integer);
      case Resolved::kUint: return Error(key.Mark(), "mapping key " + text + " is an integer beyond int64 (kubectl refuses it)");
      case Resolved::kFloat: return GoFloat32Key(r->floating);
      case Resolved::kString:
      case Resolved::kTimestamp: break;
    }
    return ValidUtf8(text);
  }

  static bool IsMerge(const YAML::Node& key) {
    return key.IsScalar() && key.Scalar() == "<<" &&
           (key.Tag() == "?" || key.Tag() == std::string(kTagPrefix) + "merge");
  }

  // go-yaml v2 fills a mapping in order: a later key, explicit or merged (`<<: *a`, or
  // `<<: [*a, *b]` applied last to first), replaces an earlier one.
  Result<json> Mapping(const YAML::Node& node, int depth) {
    json out = json::object();
    for (const auto& entry : node) {
      if (IsMerge(entry.first)) {
        FERRY_RETURN_IF_ERROR(Merge(entry.second, depth, out));
        continue;
      }
      Result<std::string> key = Key(entry.first);
      if (!key.ok()) return key.status();
      Result<json> value = Convert(entry.second, depth + 1);
      if (!value.ok()) return value.status();
      out[*key] = std::move(value).value();
    }
    return out;
  }

  Status Merge(const YAML::Node& source, int depth, json& out) {
    std::vector<YAML::Node> sources;
    if (source.IsMap()) {
      sources.push_back(source);
    } else if (source.IsSequence()) {
      for (const YAML::Node& item : source) sources.insert(sources.begin(), item);  // earlier ones win
    }
    if (sources.empty() && !(source.IsSequence() && source.size() == 0))
      return Error(source.Mark(), "merge key \"<<\" needs a mapping or a list of mappings");
    for (const YAML::Node& item : sources) {
      if (!item.IsMap()) return Error(item.Mark(), "merge key \"<<\" needs a mapping or a list of mappings");
      Result<json> value = Convert(item, depth + 1);
      if (!value.ok()) return value.status();
      for (auto& [k, v] : value->items()) out[k] = std::move(v);
    }
    return Status::Ok();
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
  // go-yaml (kubectl) refuses what is not UTF-8 or holds control characters, and JSON could not
  // carry the first.
  if (size_t bad = FirstUnreadableByte(text); bad != std::string_view::npos) {
    int line = first_line + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(bad), '\n'));
    return InvalidArgument(file + ":" + std::to_string(line) + ": not valid UTF-8, or a control character (byte " +
                           std::to_string(bad) + " of the document)");
  }
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
