// One value inside a kubeconfig file together with where it is, so that every complaint about it
// names the place: "kubeconfig /home/u/.kube/config, users[1].user.client-key-data (line 12)".
// Typed reads never throw and never quote the value (it may be a token or a key).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "common/status.h"

namespace ferry::installer {

class KubeconfigField {
 public:
  // The whole file: `root` is what yaml-cpp parsed from `file`.
  KubeconfigField(std::string file, YAML::Node root);

  const std::string& file() const { return file_; }
  const std::string& path() const { return path_; }  // "" for the root, else "users[1].user"
  const YAML::Node& node() const { return node_; }
  int line() const { return line_; }

  // False when the value is missing or YAML null ("token:" with nothing after it).
  bool present() const;

  // The member `key` of this mapping. A missing member, or any member of something that is not a
  // mapping (check with ExpectMap first), is a field that is not present, at this field's line.
  KubeconfigField Member(const std::string& key) const;

  // Absent is fine; anything else but a mapping is InvalidArgument.
  Status ExpectMap() const;

  // Typed reads: absent gives "", false or no items; another kind of value is InvalidArgument.
  Result<std::string> String() const;
  Result<bool> Bool() const;
  Result<std::vector<KubeconfigField>> Items() const;  // a sequence; items are "path[i]"

  // "kubeconfig FILE, PATH (line N)".
  std::string Where() const;

  // A Status with `code` and the message "Where(): problem".
  Status Error(const std::string& problem, StatusCode code = StatusCode::kInvalidArgument) const;

 private:
  KubeconfigField(std::string file, std::string path, YAML::Node node, int line)
      : file_(std::move(file)), path_(std::move(path)), node_(std::move(node)), line_(line) {}

  std::string file_;
  std::string path_;
  YAML::Node node_;
  int line_ = 0;  // 1-based; 0 when unknown
};

}  // namespace ferry::installer
