// Image finder: walks the parsed document once to record every node's position and every scalar
// value with its path, then, knowing where each node ends, examines the values against the raw
// bytes. See image_finder.h for the rules.
#include "rewrite/image_finder.h"

#include <yaml-cpp/yaml.h>

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

namespace ferry {
namespace {

constexpr int kMaxDepth = 256;
constexpr std::string_view kBom = "\xEF\xBB\xBF";

struct ObjectInfo {
  std::string kind, ns, name;
  size_t depth = 0;  // path length at the object's root
};

// A scalar value, recorded during the walk and examined once all node positions are known.
struct Site {
  std::string value;
  YAML::Mark mark;
  std::string path;
  ImagePlace place = ImagePlace::kOther;
  size_t object = 0;
  bool after_flag = false;  // the previous args item was a "--flag" without "="
};

bool IsMapping(const YAML::Node& node) { return node && node.IsMap(); }

// What ScalarOr(node, "apiVersion"), ScalarOr(node, "kind") and node["metadata"] give, in one
// pass over the keys: each lookup through operator[] scans the keys and copies every one of them
// into a string, and the walk asks this of every mapping. Like operator[], the first key with the
// name counts (a scalar key spelled exactly so).
struct ObjectKeys {
  std::string api_version, kind;
  std::optional<YAML::Node> metadata;  // nullopt when absent (operator[] gives an undefined node)
};

ObjectKeys FindObjectKeys(const YAML::Node& map) {
  ObjectKeys keys;
  bool api_version = false, kind = false, metadata = false;
  for (const auto& entry : map) {
    const YAML::Node& key = entry.first;
    if (!key.IsScalar()) continue;
    const std::string& name = key.Scalar();
    if (!api_version && name == "apiVersion") {
      api_version = true;
      if (entry.second.IsScalar()) keys.api_version = entry.second.Scalar();
    } else if (!kind && name == "kind") {
      kind = true;
      if (entry.second.IsScalar()) keys.kind = entry.second.Scalar();
    } else if (!metadata && name == "metadata") {
      metadata = true;
      keys.metadata.emplace(entry.second);
    }
    if (api_version && kind && metadata) break;
  }
  return keys;
}

std::string ScalarOr(const YAML::Node& node, const char* key) {
  YAML::Node child = node[key];
  return child && child.IsScalar() ? child.Scalar() : std::string();
}

// The places whose values are references whatever they look like (ReferenceContext::kImageField).
bool IsImageField(ImagePlace place) {
  return place == ImagePlace::kContainerImage || place == ImagePlace::kCachedImage ||
         place == ImagePlace::kQueueImage;
}

bool IsFlag(const YAML::Node& node) {
  if (!node.IsScalar()) return false;
  const std::string& s = node.Scalar();
  return s.size() > 1 && s[0] == '-' && s.find_first_of("= \t") == std::string::npos;
}

class Finder {
 public:
  Finder(const YamlDocument& doc, const std::string& file)
      : doc_(doc),
        file_(file),
        bom_(doc.text.starts_with(kBom) ? kBom.size() : 0),
        max_nodes_(1000000 + 10 * doc.text.size()) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < doc.text.size(); ++i) {
      if (doc.text[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  Status Walk(const YAML::Node& node, bool after_flag) {
    if (++nodes_ > max_nodes_) return Error(node.Mark(), "too many nodes (alias explosion?)");
    if (path_.size() > kMaxDepth) return Error(node.Mark(), "nesting deeper than 256 levels");
    if (!node.Mark().is_null()) marks_.push_back(Offset(node.Mark()));
    if (node.IsMap()) return WalkMap(node);
    if (node.IsSequence()) return WalkSequence(node);
    if (node.IsScalar()) AddSite(node, after_flag);
    return Status::Ok();
  }

  Status Examine() {
    std::sort(marks_.begin(), marks_.end());
    for (const Site& site : sites_) FERRY_RETURN_IF_ERROR(ExamineSite(site));
    return Status::Ok();
  }

  std::vector<ImageOccurrence> Take() {
    std::vector<ImageOccurrence> out;
    for (auto& [offset, occurrence] : found_) out.push_back(std::move(occurrence));
    return out;
  }

  // "file:line:column: message", with the mark's position in the file.
  Status Error(const YAML::Mark& mark, const std::string& message) const {
    return InvalidArgument(Where(mark) + ": " + message);
  }

  std::string Where(const YAML::Mark& mark) const {
    if (mark.is_null()) return file_ + ":" + std::to_string(doc_.first_line);
    return file_ + ":" + std::to_string(doc_.first_line + mark.line) + ":" +
           std::to_string(mark.column + 1 + (mark.line == 0 ? bom_ : 0));
  }

  // The parser reads past a byte order mark without counting it.
  const std::string& ParserInput() {
    if (bom_ != 0 && without_bom_.empty()) without_bom_ = doc_.text.substr(bom_);
    return bom_ != 0 ? without_bom_ : doc_.text;
  }

 private:
  size_t Offset(const YAML::Mark& mark) const { return static_cast<size_t>(mark.pos) + bom_; }

  Status WalkMap(const YAML::Node& node) {
    // A mapping with apiVersion, kind and metadata is an object of its own (a List's items).
    ObjectKeys keys_of_object = FindObjectKeys(node);
    bool has_metadata = keys_of_object.metadata && IsMapping(*keys_of_object.metadata);
    bool is_object = path_.empty() || (!keys_of_object.api_version.empty() &&
                                       !keys_of_object.kind.empty() && has_metadata);
    if (is_object) {
      ObjectInfo info{keys_of_object.kind, "", "", path_.size()};
      if (has_metadata) {
        const YAML::Node& metadata = *keys_of_object.metadata;
        info.ns = ScalarOr(metadata, "namespace");
        info.name = ScalarOr(metadata, "name");
        if (info.name.empty()) info.name = ScalarOr(metadata, "generateName");
      }
      objects_.push_back(std::move(info));
      object_stack_.push_back(objects_.size() - 1);
    }
    std::unordered_map<std::string, YAML::Mark> keys;
    for (const auto& entry : node) {
      const YAML::Node& key = entry.first;
      std::string name = key.IsScalar() ? key.Scalar() : "?";
      if (key.IsScalar()) {
        auto [it, inserted] = keys.emplace(name, key.Mark());
        if (!inserted) {
          return Error(key.Mark(), "duplicate mapping key \"" + name + "\" (first at line " +
                                       std::to_string(doc_.first_line + it->second.line) + ")");
        }
      }
      FERRY_RETURN_IF_ERROR(CollectMarks(key));
      path_.push_back({name, -1});
      Status status = Walk(entry.second, false);
      path_.pop_back();
      FERRY_RETURN_IF_ERROR(status);
    }
    if (is_object) object_stack_.pop_back();
    return Status::Ok();
  }

  Status WalkSequence(const YAML::Node& node) {
    bool is_args = !path_.empty() && path_.back().index < 0 &&
                   (path_.back().key == "args" || path_.back().key == "command");
    bool after_flag = false;
    int index = 0;
    for (const auto& item : node) {
      path_.push_back({"", index++});
      Status status = Walk(item, after_flag);
      path_.pop_back();
      FERRY_RETURN_IF_ERROR(status);
      after_flag = is_args && IsFlag(item);
    }
    return Status::Ok();
  }

  // Keys are never images, but their positions bound the values before them.
  Status CollectMarks(const YAML::Node& node) {
    if (++nodes_ > max_nodes_) return Error(node.Mark(), "too many nodes (alias explosion?)");
    if (!node.Mark().is_null()) marks_.push_back(Offset(node.Mark()));
    if (node.IsMap()) {
      for (const auto& entry : node) {
        FERRY_RETURN_IF_ERROR(CollectMarks(entry.first));
        FERRY_RETURN_IF_ERROR(CollectMarks(entry.second));
      }
    } else if (node.IsSequence()) {
      for (const auto& item : node) FERRY_RETURN_IF_ERROR(CollectMarks(item));
    }
    return Status::Ok();
  }

  void AddSite(const YAML::Node& node, bool after_flag) {
    if (node.Mark().is_null() || node.Scalar().empty()) return;
    size_t object = object_stack_.back();
    std::span<const PathStep> relative(path_.begin() + objects_[object].depth, path_.end());
    ImagePlace place = PlaceOf(relative, objects_[object].kind);
    // Outside image fields a reference has '/', '@' or ':' (see ReferenceIn); a value with none
    // of them cannot hold one, so it is not kept (nor its path built).
    if (!IsImageField(place) && node.Scalar().find_first_of("/@:") == std::string::npos) return;
    sites_.push_back({node.Scalar(), node.Mark(), PathString(path_), place, object, after_flag});
  }

  Status ExamineSite(const Site& site) {
    size_t pos = Offset(site.mark);
    auto next = std::upper_bound(marks_.begin(), marks_.end(), pos);
    ScalarSpan span =
        FindScalarSpan(doc_.text, pos, next == marks_.end() ? doc_.text.size() : *next);
    size_t cursor = span.begin;
    const std::string& value = site.value;

    PlaceRule rule = RuleFor(site.place, site.after_flag);
    Confidence confidence = rule.confidence;
    const char* why = rule.why;

    if (value.find_first_of(" \t\r\n") != std::string::npos) {
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
        value.find('=') != std::string::npos) {
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
      return Unsupported(Where(site.mark) + ": image reference \"" + std::string(word) +
                         "\" is written with escapes or a line break inside a quoted string, so "
                         "its bytes cannot be replaced in place; write it as plain text");
    }
    cursor = *at + word.size();
    size_t line =
        std::upper_bound(line_starts_.begin(), line_starts_.end(), *at) - line_starts_.begin() - 1;
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
  const size_t bom_;  // bytes of a UTF-8 byte order mark at the start, else 0
  std::string without_bom_;
  const size_t max_nodes_;
  size_t nodes_ = 0;
  std::vector<size_t> line_starts_;
  std::vector<PathStep> path_;
  std::vector<ObjectInfo> objects_;
  std::vector<size_t> object_stack_;
  std::vector<size_t> marks_;
  std::vector<Site> sites_;
  std::map<size_t, ImageOccurrence> found_;
};

const char* KindOfNode(const YAML::Node& node) {
  if (node.IsSequence()) return "a sequence";
  if (node.IsScalar()) return "a scalar";
  return "not a mapping";
}

}  // namespace

Result<std::vector<ImageOccurrence>> FindImages(const YamlDocument& doc, const std::string& file) {
  Finder finder(doc, file);
  FERRY_RETURN_IF_ERROR(CheckUtf8(doc.text, file, doc.first_line));
  YAML::Node root;
  try {
    root = YAML::Load(finder.ParserInput());
  } catch (const YAML::Exception& e) {
    return finder.Error(e.mark, "malformed YAML: " + e.msg);
  }
  if (root.IsNull()) return std::vector<ImageOccurrence>{};
  if (!root.IsMap()) {
    return finder.Error(root.Mark(), std::string("document ") + std::to_string(doc.index + 1) +
                                         " is " + KindOfNode(root) +
                                         ", not a mapping (a Kubernetes object)");
  }
  try {
    FERRY_RETURN_IF_ERROR(finder.Walk(root, false));
  } catch (const YAML::Exception& e) {
    return finder.Error(e.mark, "unexpected YAML structure: " + e.msg);
  }
  FERRY_RETURN_IF_ERROR(finder.Examine());
  return finder.Take();
}

}  // namespace ferry
