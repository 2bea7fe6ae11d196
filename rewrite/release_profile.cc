#include "rewrite/release_profile.h"

#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "manifests/builtin_profiles.h"

namespace ferry {
namespace {

bool IsNameChar(char c, bool allow_upper) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         (allow_upper && ((c >= 'A' && c <= 'Z') || c == '_'));
}

// [a-z0-9][a-z0-9.-]*
bool IsIdentifier(std::string_view s) {
  if (s.empty() || s.front() == '.' || s.front() == '-') return false;
  for (char c : s)
    if (!IsNameChar(c, false)) return false;
  return true;
}

// A plain file name: letters, digits, '.', '-', '_'; no '/', not hidden.
bool IsPlainFileName(std::string_view s) {
  if (s.empty() || s.front() == '.') return false;
  for (char c : s)
    if (!IsNameChar(c, true)) return false;
  return true;
}

bool IsHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.starts_with("https://"))
    rest = url.substr(8);
  else if (url.starts_with("http://"))
    rest = url.substr(7);
  else
    return false;
  if (rest.empty() || rest.front() == '/') return false;
  for (char c : url)
    if (std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) return false;
  return true;
}

// Reads one profile document, collecting the first error with its place.
class ProfileParser {
 public:
  explicit ProfileParser(const std::string& origin) : origin_(origin) {}

  Result<ReleaseProfile> Parse(std::string_view text) {
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      std::string where = origin_;
      if (!e.mark.is_null()) where += ":" + std::to_string(e.mark.line + 1);
      return InvalidArgument(where + ": not valid YAML: " + e.msg);
    }
    try {
      return ParseRoot(root);
    } catch (const YAML::Exception& e) {  // a conversion we did not foresee; still name the place
      return InvalidArgument(origin_ + ": " + e.what());
    }
  }

 private:
  Status Error(const YAML::Node& node, const std::string& field, const std::string& message) const {
    std::string where = origin_;
    if (node.IsDefined() && !node.Mark().is_null()) where += ":" + std::to_string(node.Mark().line + 1);
    return InvalidArgument(where + ": " + (field.empty() ? "" : field + ": ") + message);
  }

  // Every key of `map` must be one of `allowed`, once.
  Status CheckKeys(const YAML::Node& map, const std::string& field, const std::set<std::string>& allowed) const {
    std::set<std::string> seen;
    for (const auto& entry : map) {
      const YAML::Node& key = entry.first;
      std::string name = key.IsScalar() ? key.Scalar() : "";
      std::string path = field.empty() ? name : field + "." + name;
      if (!key.IsScalar() || allowed.count(name) == 0) {
        std::string known;
        for (const std::string& a : allowed) known += (known.empty() ? "" : ", ") + a;
        return Error(key, path, "unknown key (known: " + known + ")");
      }
      if (!seen.insert(name).second) return Error(key, path, "given twice");
    }
    return Status::Ok();
  }

  // A scalar string field; `required` fields must be present and non-empty.
  Status String(const YAML::Node& map, const char* key, const std::string& field, bool required, std::string* out) const {
    YAML::Node node = map[key];
    if (!node.IsDefined() || node.IsNull()) {
      if (required) return Error(map, field, "missing");
      out->clear();
      return Status::Ok();
    }
    if (!node.IsScalar()) return Error(node, field, "expected a string");
    *out = node.Scalar();
    if (required && out->empty()) return Error(node, field, "must not be empty");
    return Status::Ok();
  }

  Result<ReleaseProfile> ParseRoot(const YAML::Node& root) {
    if (!root.IsMap()) return Error(root, "", "expected a mapping with name, networking, serviceApiVersion and files");
    FERRY_RETURN_IF_ERROR(
        CheckKeys(root, "", {"name", "description", "networking", "serviceApiVersion", "samples", "files"}));
    ReleaseProfile p;
    p.origin = origin_;

    FERRY_RETURN_IF_ERROR(String(root, "name", "name", true, &p.name));
    if (!IsIdentifier(p.name))
      return Error(root["name"], "name", "'" + p.name + "' must be lowercase letters, digits, '.' and '-'");
    FERRY_RETURN_IF_ERROR(String(root, "description", "description", false, &p.description));

    YAML::Node networking = root["networking"];
    if (!networking.IsDefined() || networking.IsNull()) return Error(root, "networking", "missing (layer: istio, kourier, ...)");
    if (!networking.IsMap()) return Error(networking, "networking", "expected a mapping with layer and preinstalled");
    FERRY_RETURN_IF_ERROR(CheckKeys(networking, "networking", {"layer", "preinstalled"}));
    FERRY_RETURN_IF_ERROR(String(networking, "layer", "networking.layer", true, &p.networking_layer));
    if (!IsIdentifier(p.networking_layer))
      return Error(networking["layer"], "networking.layer", "'" + p.networking_layer + "' is not a layer name (istio, kourier, ...)");
    if (YAML::Node pre = networking["preinstalled"]; pre.IsDefined() && !pre.IsNull()) {
      if (!pre.IsScalar() || !YAML::convert<bool>::decode(pre, p.networking_preinstalled))
        return Error(pre, "networking.preinstalled", "expected true or false");
    }

    FERRY_RETURN_IF_ERROR(String(root, "serviceApiVersion", "serviceApiVersion", true, &p.service_api_version));
    static const std::set<std::string> kServiceApis = {"serving.knative.dev/v1alpha1", "serving.knative.dev/v1beta1",
                                                       "serving.knative.dev/v1"};
    if (kServiceApis.count(p.service_api_version) == 0)
      return Error(root["serviceApiVersion"], "serviceApiVersion",
                   "'" + p.service_api_version +
                       "' is not a Knative Service apiVersion (serving.knative.dev/v1alpha1, v1beta1 or v1)");

    if (YAML::Node samples = root["samples"]; samples.IsDefined() && !samples.IsNull()) {
      if (!samples.IsSequence()) return Error(samples, "samples", "expected a list of sample names");
      for (size_t i = 0; i < samples.size(); ++i) {
        std::string field = "samples[" + std::to_string(i) + "]";
        if (!samples[i].IsScalar() || !IsIdentifier(samples[i].Scalar()))
          return Error(samples[i], field, "expected a sample name (helloworld, autoscale, ...)");
        p.samples.push_back(samples[i].Scalar());
      }
    }

    YAML::Node files = root["files"];
    if (!files.IsDefined() || files.IsNull()) return Error(root, "files", "missing (the release files, in install order)");
    if (!files.IsSequence() || files.size() == 0)
      return Error(files, "files", "expected a non-empty list of {name, url, sha256}");
    std::set<std::string> names, urls;
    for (size_t i = 0; i < files.size(); ++i) {
      const YAML::Node& item = files[i];
      std::string field = "files[" + std::to_string(i) + "]";
      if (!item.IsMap()) return Error(item, field, "expected a mapping with name, url and sha256");
      FERRY_RETURN_IF_ERROR(CheckKeys(item, field, {"name", "url", "sha256"}));
      ProfileFile f;
      FERRY_RETURN_IF_ERROR(String(item, "name", field + ".name", true, &f.name));
      if (!IsPlainFileName(f.name) || f.name == "profile.lock.json")
        return Error(item["name"], field + ".name",
                     "'" + f.name + "' must be a plain file name (letters, digits, '.', '-', '_'; no '/'; not hidden)");
      if (!names.insert(f.name).second) return Error(item["name"], field + ".name", "'" + f.name + "' is named twice");
      FERRY_RETURN_IF_ERROR(String(item, "url", field + ".url", true, &f.url));
      if (!IsHttpUrl(f.url)) return Error(item["url"], field + ".url", "'" + f.url + "' is not an http or https URL");
      if (!urls.insert(f.url).second) return Error(item["url"], field + ".url", "'" + f.url + "' is named twice");
      FERRY_RETURN_IF_ERROR(String(item, "sha256", field + ".sha256", false, &f.sha256));
      std::string sum = f.sha256.starts_with("sha256:") ? f.sha256.substr(7) : f.sha256;
      for (char& c : sum) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!sum.empty() && !IsSha256Hex(sum))
        return Error(item["sha256"], field + ".sha256",
                     "expected 64 hex digits, or \"\" when not known in advance; got '" + f.sha256 + "'");
      f.sha256 = sum;
      p.files.push_back(std::move(f));
    }
    return p;
  }

  std::string origin_;
};

std::string KnownProfiles() {
  std::string known;
  for (const std::string& n : BuiltinProfileNames()) known += (known.empty() ? "" : ", ") + n;
  return known;
}

}  // namespace

const ProfileFile* ReleaseProfile::File(std::string_view file_name) const {
  for (const ProfileFile& f : files)
    if (f.name == file_name) return &f;
  return nullptr;
}

std::string ReleaseProfile::ToJson() const {
  nlohmann::ordered_json doc;
  doc["name"] = name;
  if (!description.empty()) doc["description"] = description;
  doc["networking"] = {{"layer", networking_layer}, {"preinstalled", networking_preinstalled}};
  doc["serviceApiVersion"] = service_api_version;
  doc["samples"] = samples;
  doc["files"] = nlohmann::ordered_json::array();
  for (const ProfileFile& f : files) doc["files"].push_back({{"name", f.name}, {"url", f.url}, {"sha256", f.sha256}});
  return doc.dump(2) + "\n";
}

bool IsSha256Hex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<ReleaseProfile> ParseReleaseProfile(std::string_view text, const std::string& origin) {
  return ProfileParser(origin).Parse(text);
}

Result<ReleaseProfile> ReadReleaseProfile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read profile " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) return IoError("cannot read profile " + path + ": " + std::strerror(errno));
  return ParseReleaseProfile(text.str(), path);
}

std::vector<std::string> BuiltinProfileNames() {
  std::vector<std::string> names;
  for (const EmbeddedProfile& p : EmbeddedProfiles()) names.emplace_back(p.name);
  return names;
}

Result<ReleaseProfile> BuiltinReleaseProfile(std::string_view name) {
  for (const EmbeddedProfile& embedded : EmbeddedProfiles()) {
    if (embedded.name != name) continue;
    std::string origin = "built-in profile " + std::string(name);
    Result<ReleaseProfile> profile = ParseReleaseProfile(embedded.text, origin);
    if (profile.ok() && profile->name != name)
      return Internal(origin + ": says name: " + profile->name + "; a built-in profile's name is its file name");
    return profile;
  }
  return NotFound("unknown profile '" + std::string(name) + "'; known: " + KnownProfiles() +
                  " (or give the path of a profile file)");
}

Result<ReleaseProfile> LoadReleaseProfile(const std::string& name_or_path) {
  std::string_view arg = name_or_path;
  bool is_path = arg.find('/') != std::string_view::npos || arg.ends_with(".yaml") || arg.ends_with(".yml") ||
                 arg.ends_with(".json");
  if (is_path) return ReadReleaseProfile(name_or_path);
  if (arg.empty()) return InvalidArgument("no profile given; known: " + KnownProfiles());
  return BuiltinReleaseProfile(arg);
}

}  // namespace ferry
