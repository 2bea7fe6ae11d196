// The Kubernetes objects of a set of (rewritten) release files, in file order, each with where it
// came from and the key that identifies it in a cluster (group/kind/namespace/name).
#pragma once

#include <compare>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::installer {

// Identifies an object in a cluster. The API version is not part of it: the same object is served
// under every version of its group.
struct ObjectKey {
  std::string group;  // "" for the core group, "apps", "serving.knative.dev", ...
  std::string kind;
  std::string ns;  // "" for cluster-scoped objects (and for objects that name none)
  std::string name;

  auto operator<=>(const ObjectKey&) const = default;

  // "Kind namespace/name" or "Kind name": "Deployment knative-serving/webhook".
  std::string ToString() const;
  // "group/kind/namespace/name" ("" parts kept): unique, for inventories and maps.
  std::string Path() const;
};

// Field access that never throws and never inserts: a missing key, or a value that is not an
// object, gives null (FieldOf) or "" (StringField, also for a non-string value).
const nlohmann::json& FieldOf(const nlohmann::json& object, const char* key);
std::string StringField(const nlohmann::json& object, const char* key);
// metadata.resourceVersion, or "".
std::string ResourceVersion(const nlohmann::json& object);

// Deployments, StatefulSets, DaemonSets and Jobs: the objects that run pods.
bool IsWorkloadKey(const ObjectKey& key);

// "apps/v1" -> "apps", "v1" -> "".
std::string GroupOf(std::string_view api_version);

// The key of an object as written (namespace as given; nothing defaulted).
ObjectKey KeyOf(const nlohmann::json& object);

struct ManifestObject {
  nlohmann::json object;
  std::string file;  // the release file, as named by the caller; "(added by ferry)" for additions
  int line = 0;      // 1-based line where the object starts; 0 for objects ferry adds
  ObjectKey key;     // key.name is empty while the object has only metadata.generateName
  int wave = -1;     // index of its wave in an ApplyPlan (apply_plan.h); -1 before planning

  // "file:line" (or just "file" without a line) for messages.
  std::string Where() const;
};

struct ManifestFile {
  std::string name;  // for messages and ManifestObject::file
  std::string text;
};

// The objects of one YAML stream, in order. Empty documents are skipped; a `List` (kind List or
// any *List kind with `items`) contributes its items. Errors (InvalidArgument, "file:line: ...")
// for malformed YAML, a document that is not a mapping, or an object without apiVersion, kind,
// or metadata.name (metadata.generateName will do).
Result<std::vector<ManifestObject>> ObjectsOfFile(std::string_view text, const std::string& file);

// The objects of several files, in the order given.
Result<std::vector<ManifestObject>> ObjectsOfFiles(const std::vector<ManifestFile>& files);

}  // namespace ferry::installer
