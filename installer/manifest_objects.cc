// Reading release files into objects: YAML -> JSON per document, Lists expanded, shape checked.
#include "installer/manifest_objects.h"

#include "installer/yaml_json.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

bool IsList(const json& object) {
  std::string kind = StringField(object, "kind");
  return kind.ends_with("List") && object.contains("items") && object["items"].is_array();
}

// What a Kubernetes object needs before ferry can place and apply it; `what` says which document
// ("document 3", "document 3, item 2") when something is missing.
Status CheckObject(const json& object, const std::string& where, const std::string& what) {
  if (!object.is_object())
    return InvalidArgument(where + ": " + what + " is not a mapping (a Kubernetes object)");
  if (StringField(object, "apiVersion").empty())
    return InvalidArgument(where + ": " + what + " has no apiVersion");
  if (StringField(object, "kind").empty()) return InvalidArgument(where + ": " + what + " has no kind");
  auto metadata = object.find("metadata");
  if (metadata == object.end() || !metadata->is_object())
    return InvalidArgument(where + ": " + what + " (" + StringField(object, "kind") + ") has no metadata");
  if (StringField(*metadata, "name").empty() && StringField(*metadata, "generateName").empty()) {
    return InvalidArgument(where + ": " + what + " (" + StringField(object, "kind") +
                           ") has neither metadata.name nor metadata.generateName");
  }
  if (metadata->contains("namespace") && !(*metadata)["namespace"].is_string())
    return InvalidArgument(where + ": " + what + ": metadata.namespace is not a string");
  return Status::Ok();
}

}  // namespace

const json& FieldOf(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string StringField(const json& object, const char* key) {
  const json& value = FieldOf(object, key);
  return value.is_string() ? value.get<std::string>() : std::string();
}

std::string ResourceVersion(const json& object) {
  return StringField(FieldOf(object, "metadata"), "resourceVersion");
}

std::string ObjectKey::ToString() const {
  std::string out = kind + " ";
  if (!ns.empty()) out += ns + "/";
  return out + name;
}

std::string ObjectKey::Path() const { return group + "/" + kind + "/" + ns + "/" + name; }

bool IsWorkloadKey(const ObjectKey& key) {
  return ((key.group == "apps" || key.group == "extensions") &&
          (key.kind == "Deployment" || key.kind == "StatefulSet" || key.kind == "DaemonSet")) ||
         (key.group == "batch" && key.kind == "Job");
}

std::string GroupOf(std::string_view api_version) {
  size_t slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string() : std::string(api_version.substr(0, slash));
}

ObjectKey KeyOf(const json& object) {
  ObjectKey key;
  if (!object.is_object()) return key;
  key.group = GroupOf(StringField(object, "apiVersion"));
  key.kind = StringField(object, "kind");
  auto metadata = object.find("metadata");
  if (metadata != object.end() && metadata->is_object()) {
    key.ns = StringField(*metadata, "namespace");
    key.name = StringField(*metadata, "name");
  }
  return key;
}

std::string ManifestObject::Where() const { return line > 0 ? file + ":" + std::to_string(line) : file; }

Result<std::vector<ManifestObject>> ObjectsOfFile(std::string_view text, const std::string& file) {
  Result<std::vector<JsonDocument>> docs = YamlStreamToJson(text, file);
  if (!docs.ok()) return docs.status();
  std::vector<ManifestObject> objects;
  for (JsonDocument& doc : *docs) {
    if (doc.value.is_null()) continue;
    std::string where = file + ":" + std::to_string(doc.line);
    std::string what = "document " + std::to_string(doc.index + 1);
    if (doc.value.is_object() && IsList(doc.value)) {
      int item_number = 0;
      for (json& item : doc.value["items"]) {
        ++item_number;
        FERRY_RETURN_IF_ERROR(CheckObject(item, where, what + ", item " + std::to_string(item_number)));
        ObjectKey key = KeyOf(item);
        objects.push_back({.object = std::move(item), .file = file, .line = doc.line, .key = key});
      }
      continue;
    }
    FERRY_RETURN_IF_ERROR(CheckObject(doc.value, where, what));
    ObjectKey key = KeyOf(doc.value);
    objects.push_back({.object = std::move(doc.value), .file = file, .line = doc.line, .key = key});
  }
  return objects;
}

Result<std::vector<ManifestObject>> ObjectsOfFiles(const std::vector<ManifestFile>& files) {
  std::vector<ManifestObject> all;
  for (const ManifestFile& file : files) {
    Result<std::vector<ManifestObject>> objects = ObjectsOfFile(file.text, file.name);
    if (!objects.ok()) return objects.status();
    for (ManifestObject& object : *objects) all.push_back(std::move(object));
  }
  return all;
}

}  // namespace ferry::installer
