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
  size_t object = 0;
  bool after_flag = false;  // the previous args item was a "--flag" without "="
};

// The places whose values are references whatever they look like (ReferenceContext::kImageField).
bool IsImageField(ImagePlace place) {
  return place == ImagePlace::kContainerImage || place == ImagePlace::kCachedImage ||
         place == ImagePlace::kQueueImage;
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
    FERRY_RETURN_IF_ERROR(Walk(0, false));
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

  Status Walk(uint32_t id, bool after_flag) {
    const YamlNode& node = Node(id);
    if (++nodes_ > max_nodes_) return Error(node.begin, "too many nodes (alias explosion?)");
    if (path_.size() > kMaxDepth) return Error(node.begin, "nesting deeper than 256 levels");
    if (node.type == Type::kMapping) return WalkMap(node);
    if (node.type == Type::kSequence) return WalkSequence(node);
    if (node.type == Type::kScalar) AddSite(id, after_flag);
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
    for (size_t i = 0; i + 1 < children.size(); i += 2) {
      const YamlNode& key = Node(children[i]);
      std::string_view name = key.type == Type::kScalar ? Value(key) : "?";
      if (key.type == Type::kScalar) FERRY_RETURN_IF_ERROR(CheckDuplicate(children, i, keys));
      path_.push_back({name, -1});
      Status status = Walk(children[i + 1], false);
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
    bool after_flag = false;
    int index = 0;
    for (uint32_t item : tree_->Children(node)) {
      path_.push_back({"", index++});
      Status status = Walk(item, after_flag);
      path_.pop_back();
      FERRY_RETURN_IF_ERROR(status);
      after_flag = is_args && IsFlag(Node(item));
    }
    return Status::Ok();
  }

  bool IsFlag(const YamlNode& node) const {
    if (node.type != Type::kScalar) return false;
    std::string_view s = Value(node);
    return s.size() > 1 && s[0] == '-' && s.find_first_of("= \t") == std::string_view::npos;
  }

  void AddSite(uint32_t id, bool after_flag) {
    std::string_view value = Value(Node(id));
    if (value.empty()) return;
    size_t object = object_stack_.back();
    std::span<const PathStep> relative(path_.begin() + objects_[object].depth, path_.end());
    ImagePlace place = PlaceOf(relative, objects_[object].kind);
    // Outside image fields a reference has '/', '@' or ':' (see ReferenceIn); a value with none
    // of them cannot hold one, so it is not kept (nor its path built).
    if (!IsImageField(place) && value.find_first_of("/@:") == std::string_view::npos) return;
    sites_.push_back({id, PathString(path_), place, object, after_flag});
  }

  Status ExamineSite(const Site& site) {
    const YamlNode& node = Node(site.node);
    ScalarSpan span = FindScalarSpan(doc_.text, node.begin, node.end);
    size_t cursor = span.begin;
    std::string_view value = Value(node);

    PlaceRule rule = RuleFor(site.place, site.after_flag);
    Confidence confidence = rule.confidence;
    const char* why = rule.why;

    if (value.find_first_of(" \t\r\n") != std::string_view::npos) {
      // Free text: every word that is unmistakably a reference.
      if (site.place != ImagePlace::kExample) {
        confidence = Confidence::kLikely;
        why = "in text";
      }
      for (const TextToken& token : ReferenceTokens(value)) {
        std::optional<ImageReference> ref = ReferenceIn(token.text, ReferenceContext::kText);
        if (ref) {
          FERRY_RETURN_IF_ERROR(Report(site, span, cursor, token.text, *ref, confidence, why));
        }
      }
      return Status::Ok();
    }
    std::string_view word = value;
    if (site.place == ImagePlace::kArgument && value[0] == '-' &&
        value.find('=') != std::string_view::npos) {
      word = word.substr(word.find('=') + 1);  // "-flag=REF"
      why = "flag argument";
    }
    std::optional<ImageReference> ref = ReferenceIn(word, rule.context);
    if (ref) FERRY_RETURN_IF_ERROR(Report(site, span, cursor, word, *ref, confidence, why));
    return Status::Ok();
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
    size_t line = LineOf(*at);
    const ObjectInfo& object = objects_[site.object];
    ImageOccurrence occurrence{.text = std::string(word),
                               .ref = ref,
                               .file = file_,
                               .offset = doc_.offset + *at,
                               .line = doc_.first_line + static_cast<int>(line),
                               .column = static_cast<int>(*at - line_starts_[line]) + 1,
                               .kind = object.kind,
                               .ns = object.ns,
                               .name = object.name,
                               .yaml_path = site.path,
                               .confidence = confidence,
                               .why = why};
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
