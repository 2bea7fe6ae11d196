// Image finder: walks the document's tree (rewrite/yaml_tree.h, built from libyaml's events) once
// to record every scalar value that may hold a reference with its path, then examines those values
// against the raw bytes, knowing where each scalar starts and ends. The rules: image_finder.h.
#include "rewrite/image_finder.h"

#include <algorithm>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <unordered_map>

#include "rewrite/image_places.h"
#include "rewrite/reference_text.h"
#include "rewrite/scalar_span.h"
#include "rewrite/utf8.h"
#include "rewrite/yaml_tree.h"

namespace ferry {
namespace {

constexpr int kMaxDepth = 256;
// Up to this many keys a mapping's duplicates are found by comparing with the keys before; a
// hash map pays off only for larger mappings.
constexpr uint32_t kLinearKeys = 16;

using Type = YamlNode::Type;

struct ObjectInfo {
  std::string kind, ns, name;
  size_t depth = 0;  // path length at the object's root
};

// A scalar value that may hold a reference, recorded during the walk and examined after it.
struct Site {
  uint32_t node;
  std::string path;
  ImagePlace place = ImagePlace::kOther;
  PlaceRule rule;
  size_t object = 0;
  size_t skip = 0;  // bytes of the value before the candidate: the "-flag=" of "-flag=REF"
};

// What the walk knows about a scalar besides its path.
struct WalkContext {
  std::string_view flag;       // args / command: the "--flag" item before this one ("" if none)
  std::string_view item_name;  // the `name` of the mapping holding the value (an env variable's)
};

bool HasTemplateMarker(std::string_view s) {
  return s.find("{{") != std::string_view::npos || s.find("}}") != std::string_view::npos ||
         s.find("${") != std::string_view::npos;
}

bool IsRunByte(char c) {
  return c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '"' && c != '\'' && c != '`';
}

// The run of non-blank, unquoted bytes of `text` around [begin, end).
std::string_view RunAround(std::string_view text, size_t begin, size_t end) {
  while (begin > 0 && IsRunByte(text[begin - 1])) --begin;
  while (end < text.size() && IsRunByte(text[end])) ++end;
  return text.substr(begin, end - begin);
}

// What a templated reference starting at `begin` spells: up to the first blank or quote outside
// "{{ }}" / "${ }", and never past the line's end ("gcr.io/x/controller:{{ .Values.tag }}").
std::string_view TemplatedText(std::string_view text, size_t begin) {
  std::string closers;
  size_t i = begin;
  while (i < text.size() && text[i] != '\n' && text[i] != '\r') {
    if (text.compare(i, 2, "{{") == 0) {
      closers += 'D';
      i += 2;
    } else if (text.compare(i, 2, "${") == 0) {
      closers += 'S';
      i += 2;
    } else if (!closers.empty() && closers.back() == 'D' && text.compare(i, 2, "}}") == 0) {
      closers.pop_back();
      i += 2;
    } else if (!closers.empty() && closers.back() == 'S' && text[i] == '}') {
      closers.pop_back();
      ++i;
    } else if (closers.empty() && !IsRunByte(text[i])) {
      break;
    } else {
      ++i;
    }
  }
  return text.substr(begin, i - begin);
}

const char* KindOfNode(const YamlNode& node) {
  if (node.type == Type::kSequence) return "a sequence";
  if (node.type == Type::kScalar) return "a scalar";
  return "not a mapping";
}

class Finder {
 public:
  Finder(const YamlDocument& doc, const std::string& file)
      : doc_(doc), file_(file), max_nodes_(1000000 + 10 * doc.text.size()) {
    line_starts_.push_back(0);
    for (size_t i = doc.text.find('\n'); i != std::string::npos; i = doc.text.find('\n', i + 1)) {
      line_starts_.push_back(i + 1);
    }
  }

  // "file:line:column" of a byte offset in the document; the column counts bytes.
  std::string Where(size_t offset) const {
    size_t line = LineOf(offset);
    return file_ + ":" + std::to_string(doc_.first_line + static_cast<int>(line)) + ":" +
           std::to_string(offset - line_starts_[line] + 1);
  }

  Status Error(size_t offset, const std::string& message) const {
    return InvalidArgument(Where(offset) + ": " + message);
  }

  Status Run(const YamlTree& tree) {
    tree_ = &tree;
    FERRY_RETURN_IF_ERROR(Walk(0, {}));
    for (const Site& site : sites_) FERRY_RETURN_IF_ERROR(ExamineSite(site));
    return Status::Ok();
  }

  std::vector<ImageOccurrence> Take() {
    std::vector<ImageOccurrence> out;
    out.reserve(found_.size());
    for (auto& [offset, occurrence] : found_) out.push_back(std::move(occurrence));
    return out;
  }

 private:
  size_t LineOf(size_t offset) const {
    return std::upper_bound(line_starts_.begin(), line_starts_.end(), offset) -
           line_starts_.begin() - 1;
  }

  const YamlNode& Node(uint32_t id) const { return tree_->Node(id); }
  std::string_view Value(const YamlNode& node) const { return tree_->Value(node); }

  // The value of the first scalar key named `key`, if it is a scalar, else "" (nullptr when
  // there is no such key).
  const YamlNode* Lookup(const YamlNode& map, std::string_view key) const {
    std::span<const uint32_t> children = tree_->Children(map);
    for (size_t i = 0; i + 1 < children.size(); i += 2) {
      const YamlNode& k = Node(children[i]);
      if (k.type == Type::kScalar && Value(k) == key) return &Node(children[i + 1]);
    }
    return nullptr;
  }

  std::string ScalarOr(const YamlNode* node) const {
    return node && node->type == Type::kScalar ? std::string(Value(*node)) : std::string();
  }

  Status Walk(uint32_t id, const WalkContext& context) {
    const YamlNode& node = Node(id);
    if (++nodes_ > max_nodes_) return Error(node.begin, "too many nodes (alias explosion?)");
    if (path_.size() > kMaxDepth) return Error(node.begin, "nesting deeper than 256 levels");
    if (node.type == Type::kMapping) return WalkMap(node);
    if (node.type == Type::kSequence) return WalkSequence(node);
    if (node.type == Type::kScalar) AddSite(id, context);
    return Status::Ok();
  }

  Status WalkMap(const YamlNode& node) {
    // A mapping with apiVersion, kind and metadata is an object of its own (a List's items).
    const YamlNode* metadata = Lookup(node, "metadata");
    bool has_metadata = metadata && metadata->type == Type::kMapping;
    std::string kind = ScalarOr(Lookup(node, "kind"));
    bool is_object = path_.empty() || (has_metadata && !kind.empty() &&
                                       !ScalarOr(Lookup(node, "apiVersion")).empty());
    if (is_object) {
      ObjectInfo info{std::move(kind), "", "", path_.size()};
      if (has_metadata) {
        info.ns = ScalarOr(Lookup(*metadata, "namespace"));
        info.name = ScalarOr(Lookup(*metadata, "name"));
        if (info.name.empty()) info.name = ScalarOr(Lookup(*metadata, "generateName"));
      }
      objects_.push_back(std::move(info));
      object_stack_.push_back(objects_.size() - 1);
    }
    std::span<const uint32_t> children = tree_->Children(node);
    std::unordered_map<std::string_view, size_t> keys;  // for large mappings only
    const YamlNode* name = Lookup(node, "name");
    WalkContext context{"", name && name->type == Type::kScalar ? Value(*name) : ""};
    for (size_t i = 0; i + 1 < children.size(); i += 2) {
      const YamlNode& key = Node(children[i]);
      std::string_view name = key.type == Type::kScalar ? Value(key) : "?";
      if (key.type == Type::kScalar) FERRY_RETURN_IF_ERROR(CheckDuplicate(children, i, keys));
      path_.push_back({name, -1});
      Status status = Walk(children[i + 1], context);
      path_.pop_back();
      FERRY_RETURN_IF_ERROR(status);
    }
    if (is_object) object_stack_.pop_back();
    return Status::Ok();
  }

  // The scalar key at children[i] must not equal a scalar key before it.
  Status CheckDuplicate(std::span<const uint32_t> children, size_t i,
                        std::unordered_map<std::string_view, size_t>& keys) const {
    const YamlNode& key = Node(children[i]);
    std::string_view name = Value(key);
    std::optional<size_t> first;
    if (children.size() / 2 <= kLinearKeys) {
      for (size_t j = 0; j < i && !first; j += 2) {
        const YamlNode& other = Node(children[j]);
        if (other.type == Type::kScalar && Value(other) == name) first = other.begin;
      }
    } else {
      auto [it, inserted] = keys.emplace(name, key.begin);
      if (!inserted) first = it->second;
    }
    if (!first) return Status::Ok();
    return Error(key.begin, "duplicate mapping key \"" + std::string(name) + "\" (first at line " +
                                std::to_string(doc_.first_line + static_cast<int>(LineOf(*first))) +
                                ")");
  }

  Status WalkSequence(const YamlNode& node) {
    bool is_args = !path_.empty() && path_.back().index < 0 &&
                   (path_.back().key == "args" || path_.back().key == "command");
    WalkContext context;
    int index = 0;
    for (uint32_t item : tree_->Children(node)) {
      path_.push_back({"", index++});
      Status status = Walk(item, context);
      path_.pop_back();
      FERRY_RETURN_IF_ERROR(status);
      context.flag = is_args && IsFlag(Node(item)) ? Value(Node(item)) : "";
    }
    return Status::Ok();
  }

  bool IsFlag(const YamlNode& node) const {
    if (node.type != Type::kScalar) return false;
    std::string_view s = Value(node);
    return s.size() > 1 && s[0] == '-' && s.find_first_of("= \t") == std::string_view::npos;
  }

  void AddSite(uint32_t id, const WalkContext& context) {
    std::string_view value = Value(Node(id));
    if (value.empty()) return;
    size_t object = object_stack_.back();
    std::span<const PathStep> relative(path_.begin() + objects_[object].depth, path_.end());
    ImagePlace place = PlaceOf(relative, objects_[object].kind);
    // The name that says what the value is (image_places.h).
    std::string_view key = path_.back().index < 0 ? path_.back().key : "";
    size_t skip = 0;
    if (place == ImagePlace::kEnvValue) key = context.item_name;
    if (place == ImagePlace::kArgument) {
      key = context.flag;
      if (value[0] == '-' && value.find('=') != std::string_view::npos) {  // "-flag=REF"
        skip = value.find('=') + 1;
        key = value.substr(0, skip - 1);
      }
    }
    PlaceRule rule = RuleFor(place, key, !context.flag.empty() || skip > 0);
    if (rule.never) return;
    // Outside image fields and named places a reference has '/' or '@' (see ReferenceIn); a value
    // with neither cannot hold one, so it is not kept (nor its path built).
    if (rule.context == ReferenceContext::kValue &&
        value.find_first_of("/@") == std::string_view::npos) {
      return;
    }
    sites_.push_back({id, PathString(path_), place, rule, object, skip});
  }

  Status ExamineSite(const Site& site) {
    const YamlNode& node = Node(site.node);
    ScalarSpan span = FindScalarSpan(doc_.text, node.begin, node.end);
    size_t cursor = span.begin;
    std::string_view value = Value(node);
    const PlaceRule& rule = site.rule;
    std::string_view word = value.substr(site.skip);
    bool text = word.find_first_of(" \t\r\n") != std::string_view::npos;

    // A templated image field or named value ("controller:{{ .Values.tag }}", "${IMAGE}"): the
    // whole value, on one line, is what it names.
    if (rule.context != ReferenceContext::kValue && HasTemplateMarker(word) &&
        word.find_first_of("\r\n") == std::string_view::npos) {
      std::optional<size_t> at = FindWord(doc_.text, span, cursor, word);
      AddTemplated(site, span, at.value_or(span.begin), word, rule.confidence, rule.why);
      return Status::Ok();
    }
    if (!text && !HasTemplateMarker(word)) {
      std::optional<ImageReference> ref = ReferenceIn(word, rule.context);
      if (ref) FERRY_RETURN_IF_ERROR(Report(site, span, cursor, word, *ref, rule.confidence, rule.why));
      return Status::Ok();
    }
    // Free text, or a value with template markers: every word that is unmistakably a reference;
    // one joined to a template marker is reported as templated, never to be rewritten.
    Confidence confidence = rule.confidence;
    const char* why = rule.why;
    if (text && site.place != ImagePlace::kExample) {
      confidence = Confidence::kLikely;
      why = "in text";
    }
    for (const TextToken& token : ReferenceTokens(word)) {
      std::optional<ImageReference> ref = ReferenceIn(token.text, ReferenceContext::kValue);
      size_t end = token.offset + token.text.size();
      if (HasTemplateMarker(RunAround(word, token.offset, end))) {
        // "gcr.io/x/controller:{{ .Values.tag }}": judged as if the templated tag were there.
        bool tag_templated = end < word.size() && word[end] == ':';
        if (!ref && !(tag_templated &&
                      ReferenceIn(std::string(token.text) + ":tag", ReferenceContext::kValue))) {
          continue;
        }
        std::optional<size_t> at = FindWord(doc_.text, span, cursor, token.text);
        if (at) cursor = *at + token.text.size();
        AddTemplated(site, span, at.value_or(span.begin), TemplatedText(word, token.offset),
                     confidence, why);
        continue;
      }
      if (!ref) continue;
      FERRY_RETURN_IF_ERROR(Report(site, span, cursor, token.text, *ref, confidence, why));
    }
    return Status::Ok();
  }

  ImageOccurrence Occurrence(const Site& site, size_t at, std::string_view text,
                             Confidence confidence, const char* why) const {
    size_t line = LineOf(at);
    const ObjectInfo& object = objects_[site.object];
    return ImageOccurrence{.text = std::string(text),
                           .ref = {},
                           .file = file_,
                           .offset = doc_.offset + at,
                           .line = doc_.first_line + static_cast<int>(line),
                           .column = static_cast<int>(at - line_starts_[line]) + 1,
                           .kind = object.kind,
                           .ns = object.ns,
                           .name = object.name,
                           .yaml_path = site.path,
                           .confidence = confidence,
                           .why = why};
  }

  // A templated reference is reported where it starts, never rewritten, with the text the
  // document holds there: where the parsed `text` is not spelled so (a line break folded into a
  // blank, escapes), what the document writes from `at` on within the scalar.
  void AddTemplated(const Site& site, const ScalarSpan& span, size_t at, std::string_view text,
                    Confidence confidence, const char* why) {
    if (at > doc_.text.size() || doc_.text.compare(at, text.size(), text) != 0) {
      std::string_view scalar(doc_.text.data(), std::min(span.end, doc_.text.size()));
      text = TemplatedText(scalar, std::min(at, scalar.size()));
    }
    if (text.empty()) return;
    ImageOccurrence occurrence = Occurrence(site, at, text, confidence, why);
    occurrence.templated = true;
    found_.emplace(at, std::move(occurrence));
  }

  Status Report(const Site& site, const ScalarSpan& span, size_t& cursor, std::string_view word,
                const ImageReference& ref, Confidence confidence, const char* why) {
    std::optional<size_t> at = FindWord(doc_.text, span, cursor, word);
    if (!at) {
      return Unsupported(Where(Node(site.node).begin) + ": image reference \"" + std::string(word) +
                         "\" is written with escapes or a line break inside a quoted string, so "
                         "its bytes cannot be replaced in place; write it as plain text");
    }
    cursor = *at + word.size();
    ImageOccurrence occurrence = Occurrence(site, *at, word, confidence, why);
    occurrence.ref = ref;
    // An alias revisits its anchor's bytes: keep one occurrence, with the strongest use.
    auto [it, inserted] = found_.emplace(*at, occurrence);
    if (!inserted && confidence < it->second.confidence) it->second = std::move(occurrence);
    return Status::Ok();
  }

  const YamlDocument& doc_;
  const std::string& file_;
  const size_t max_nodes_;
  const YamlTree* tree_ = nullptr;
  size_t nodes_ = 0;
  std::vector<size_t> line_starts_;
  std::vector<PathStep> path_;
  std::vector<ObjectInfo> objects_;
  std::vector<size_t> object_stack_;
  std::vector<Site> sites_;
  std::map<size_t, ImageOccurrence> found_;
};

}  // namespace

Result<std::vector<ImageOccurrence>> FindImages(const YamlDocument& doc, const std::string& file) {
  FERRY_RETURN_IF_ERROR(CheckUtf8(doc.text, file, doc.first_line));
  Finder finder(doc, file);
  Result<YamlTree> tree =
      YamlTree::Parse(doc.text, [&](size_t offset) { return finder.Where(offset); });
  if (!tree.ok()) return tree.status();
  const YamlNode* root = tree->Root();
  if (!root || root->type == Type::kNull) return std::vector<ImageOccurrence>{};
  if (root->type != Type::kMapping) {
    return finder.Error(root->begin, "document " + std::to_string(doc.index + 1) + " is " +
                                         KindOfNode(*root) +
                                         ", not a mapping (a Kubernetes object)");
  }
  FERRY_RETURN_IF_ERROR(finder.Run(*tree));
  return finder.Take();
}

}  // namespace ferry
