// Typed, non-throwing reads of kubeconfig values; see kubeconfig_field.h.
#include "installer/kubeconfig_field.h"

#include <utility>

namespace ferry::installer {
namespace {

// 1-based line of `node`, or `fallback` for nodes that have no mark (missing ones).
int LineOf(const YAML::Node& node, int fallback) {
  if (!node.IsDefined()) return fallback;
  YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

const char* KindName(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return "a single value";
    default: return "empty";
  }
}

}  // namespace

KubeconfigField::KubeconfigField(std::string file, YAML::Node root)
    : file_(std::move(file)), node_(std::move(root)), line_(LineOf(node_, 1)) {}

bool KubeconfigField::present() const { return node_.IsDefined() && !node_.IsNull(); }

KubeconfigField KubeconfigField::Member(const std::string& key) const {
  std::string path = path_.empty() ? key : path_ + "." + key;
  // present() first: asking a missing (zombie) node for its type throws.
  if (!present() || !node_.IsMap()) {
    return KubeconfigField(file_, path, YAML::Node(YAML::NodeType::Undefined), line_);
  }
  const YAML::Node& self = node_;  // const lookup: never inserts the key
  YAML::Node member = self[key];
  return KubeconfigField(file_, path, member, LineOf(member, line_));
}

Status KubeconfigField::ExpectMap() const {
  if (!present() || node_.IsMap()) return Status::Ok();
  return Error(std::string("expected a mapping, found ") + KindName(node_));
}

Result<std::string> KubeconfigField::String() const {
  if (!present()) return std::string();
  if (!node_.IsScalar()) return Error(std::string("expected a string, found ") + KindName(node_));
  return node_.Scalar();
}

Result<bool> KubeconfigField::Bool() const {
  if (!present()) return false;
  bool value = false;
  if (!node_.IsScalar() || !YAML::convert<bool>::decode(node_, value)) {
    return Error("expected true or false");
  }
  return value;
}

Result<std::vector<KubeconfigField>> KubeconfigField::Items() const {
  std::vector<KubeconfigField> items;
  if (!present()) return items;
  if (!node_.IsSequence()) return Error(std::string("expected a list, found ") + KindName(node_));
  for (size_t i = 0; i < node_.size(); ++i) {
    YAML::Node item = node_[i];
    items.push_back(
        KubeconfigField(file_, path_ + "[" + std::to_string(i) + "]", item, LineOf(item, line_)));
  }
  return items;
}

std::string KubeconfigField::Where() const {
  std::string where = "kubeconfig " + file_;
  if (!path_.empty()) where += ", " + path_;
  if (line_ > 0) where += " (line " + std::to_string(line_) + ")";
  return where;
}

Status KubeconfigField::Error(const std::string& problem, StatusCode code) const {
  return Status(code, Where() + ": " + problem);
}

}  // namespace ferry::installer
