// Air-gap edits on the release objects; see airgap_fixes.h.
#include "installer/airgap_fixes.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <optional>
#include <set>
#include <sstream>

#include "common/base64.h"
#include "common/strings.h"
#include "mirror/image_reference.h"

namespace ferry::installer {
namespace {

using nlohmann::json;

constexpr char kAddedBy[] = "(added by ferry)";
constexpr char kExampleKey[] = "_example";

// "https://host:5000/path/" -> "host:5000/path": how the mirror prefix is compared.
std::string MirrorPrefix(std::string_view registry) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (registry.starts_with(scheme)) registry.remove_prefix(scheme.size());
  }
  while (registry.ends_with('/')) registry.remove_suffix(1);
  return std::string(registry);
}

// The registry host[:port] alone: Knative matches registries, not repositories.
std::string RegistryHost(std::string_view registry) {
  std::string prefix = MirrorPrefix(registry);
  return prefix.substr(0, prefix.find('/'));
}

ManifestObject* FindObject(std::vector<ManifestObject>& objects, const std::string& group,
                           const std::string& kind, const std::string& name) {
  // knative-serving first: other components may ship a ConfigMap of the same name.
  ManifestObject* found = nullptr;
  for (ManifestObject& o : objects) {
    if (o.key.group != group || o.key.kind != kind || o.key.name != name) continue;
    if (o.key.ns == "knative-serving") return &o;
    if (found == nullptr) found = &o;
  }
  return found;
}

Result<ManifestObject*> FindConfigMap(std::vector<ManifestObject>& objects, const std::string& name) {
  ManifestObject* cm = FindObject(objects, "", "ConfigMap", name);
  if (cm == nullptr) return NotFound("the release files have no ConfigMap " + name);
  if (!cm->object["data"].is_object()) cm->object["data"] = json::object();
  return cm;
}

// The lines of a ConfigMap's `_example` text that set `key` ("  key: value"), as "value".
std::optional<std::string> ExampleValue(const json& data, const std::string& key) {
  std::istringstream lines(StringField(data, kExampleKey));
  std::string line;
  while (std::getline(lines, line)) {
    std::string trimmed = Trim(line);
    if (!trimmed.starts_with(key + ":")) continue;
    std::string value = Trim(std::string_view(trimmed).substr(key.size() + 1));
    size_t comment = value.find(" #");
    if (comment != std::string::npos) value = Trim(value.substr(0, comment));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    return value;
  }
  return std::nullopt;
}

// The release's major version from its labels (1.x: app.kubernetes.io/version "1.23.0";
// 0.x: serving.knative.dev/release "v0.6.0"), or -1.
int MajorVersion(const json& object) {
  const json& labels = FieldOf(FieldOf(object, "metadata"), "labels");
  std::string version = StringField(labels, "app.kubernetes.io/version");
  if (version.empty()) version = StringField(labels, "serving.knative.dev/release");
  if (version.starts_with('v')) version.erase(0, 1);
  if (version.empty() || !std::isdigit(static_cast<unsigned char>(version[0]))) return -1;
  return std::stoi(version);
}

// Which of `spellings` the ConfigMap uses: one set in data, else one in `_example`, else the
// newest spelling for 1.x and the oldest before (spellings go newest first).
std::string KeySpelling(const ManifestObject& cm, const std::vector<std::string>& spellings) {
  const json& data = FieldOf(cm.object, "data");
  for (const std::string& key : spellings) {
    if (data.contains(key)) return key;
  }
  for (const std::string& key : spellings) {
    if (ExampleValue(data, key)) return key;
  }
  return MajorVersion(cm.object) >= 1 ? spellings.front() : spellings.back();
}

std::string Describe(const ManifestObject& o) { return o.Where() + " " + o.key.ToString(); }

bool IsDnsName(const std::string& name) {
  if (name.empty() || name.size() > 253) return false;
  std::istringstream labels(name);
  std::string label;
  size_t count = 0, length = 0;
  while (std::getline(labels, label, '.')) {
    ++count;
    length += label.size() + 1;
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) ||
            c == '-'))
        return false;
    }
  }
  return count > 0 && length == name.size() + 1;  // no trailing '.'
}

json MetadataFor(const std::string& name, const std::string& ns) {
  return {{"name", name}, {"namespace", ns}, {"labels", {{"app.kubernetes.io/managed-by", "ferry"}}}};
}

ManifestObject Added(json object) {
  ManifestObject o{.object = std::move(object), .file = kAddedBy, .line = 0};
  o.key = KeyOf(o.object);
  return o;
}

// Adds {"name": name} to the list at `pull_secrets` unless it is there.
void AddPullSecretName(json& pull_secrets, const std::string& name) {
  if (!pull_secrets.is_array()) pull_secrets = json::array();
  for (const json& entry : pull_secrets) {
    if (StringField(entry, "name") == name) return;
  }
  pull_secrets.push_back({{"name", name}});
}

// Follows `path` through nested mappings without creating anything; null when a step is missing.
json* Find(json& object, std::initializer_list<const char*> path) {
  json* at = &object;
  for (const char* step : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(step);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at->is_object() ? at : nullptr;
}

// The pod spec of a workload (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job, CronJob).
json* PodSpecOf(ManifestObject& o) {
  static const std::set<std::string> kWorkloads = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet",
                                                   "Job"};
  if (o.key.kind == "CronJob") return Find(o.object, {"spec", "jobTemplate", "spec", "template", "spec"});
  if (!kWorkloads.contains(o.key.kind)) return nullptr;
  return Find(o.object, {"spec", "template", "spec"});
}

}  // namespace

std::string DockerConfigJsonFor(const std::string& registry, const std::string& username,
                                const std::string& password) {
  json entry = {
      {"username", username}, {"password", password}, {"auth", Base64Encode(username + ":" + password)}};
  return json{{"auths", {{RegistryHost(registry), entry}}}}.dump();
}

Result<std::vector<ManifestObject>> AddPullSecret(std::vector<ManifestObject>& objects,
                                                  const std::string& registry,
                                                  const std::string& dockerconfigjson) {
  std::string host = RegistryHost(registry);
  if (host.empty()) return InvalidArgument("pull secret: the mirror registry is empty");
  json config = json::parse(dockerconfigjson, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !FieldOf(config, "auths").is_object())
    return InvalidArgument("pull secret: the docker config is not JSON with an \"auths\" object");
  bool has_entry = false;
  for (const auto& [key, value] : config["auths"].items()) {
    if (RegistryHost(key) == host) has_entry = true;
  }
  if (!has_entry)
    return InvalidArgument("pull secret: the docker config has no \"auths\" entry for registry " + host);

  std::vector<std::string> namespaces;  // in order of first use
  auto use = [&](const std::string& ns) {
    if (!ns.empty() && std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end())
      namespaces.push_back(ns);
  };
  std::set<std::pair<std::string, std::string>> service_accounts;
  for (const ManifestObject& o : objects) {
    if (o.key.group.empty() && o.key.kind == "Namespace") use(o.key.name);
    use(o.key.ns);
    if (o.key.group.empty() && o.key.kind == "ServiceAccount")
      service_accounts.insert({o.key.ns, o.key.name});
  }
  std::set<std::string> in_set(namespaces.begin(), namespaces.end());
  for (ManifestObject& o : objects) {
    if (o.key.group.empty() && o.key.kind == "ServiceAccount" && in_set.contains(o.key.ns)) {
      AddPullSecretName(o.object["imagePullSecrets"], kPullSecretName);
      continue;
    }
    // A pod running as a ServiceAccount ferry does not apply (`default`, most often) gets the
    // secret in its own spec, since that account's list is not ours to edit.
    json* pod_spec = PodSpecOf(o);
    if (pod_spec == nullptr || !in_set.contains(o.key.ns)) continue;
    std::string account = StringField(*pod_spec, "serviceAccountName");
    if (account.empty()) account = StringField(*pod_spec, "serviceAccount");
    if (account.empty()) account = "default";
    if (!service_accounts.contains({o.key.ns, account}))
      AddPullSecretName((*pod_spec)["imagePullSecrets"], kPullSecretName);
  }

  std::vector<ManifestObject> secrets;
  for (const std::string& ns : namespaces) {
    secrets.push_back(Added({{"apiVersion", "v1"},
                             {"kind", "Secret"},
                             {"metadata", MetadataFor(kPullSecretName, ns)},
                             {"type", "kubernetes.io/dockerconfigjson"},
                             {"data", {{".dockerconfigjson", Base64Encode(dockerconfigjson)}}}}));
  }
  return secrets;
}

Status SkipTagResolution(std::vector<ManifestObject>& objects, const std::string& registry) {
  std::string host = RegistryHost(registry);
  if (host.empty()) return InvalidArgument("skip tag resolution: the mirror registry is empty");
  Result<ManifestObject*> found = FindConfigMap(objects, "config-deployment");
  if (!found.ok()) return found.status().WithContext("cannot list the mirror as skipping tag resolution");
  ManifestObject& cm = **found;
  json& data = cm.object["data"];
  std::string key = KeySpelling(cm, {"registries-skipping-tag-resolving", "registriesSkippingTagResolving"});
  std::string current;
  if (data.contains(key))
    current = StringField(data, key.c_str());
  else
    current = ExampleValue(data, key).value_or(
        key.find('-') != std::string::npos ? "kind.local,ko.local,dev.local" : "ko.local,dev.local");
  std::vector<std::string> registries;
  std::istringstream items(current);
  std::string item;
  while (std::getline(items, item, ',')) {
    if (!Trim(item).empty()) registries.push_back(Trim(item));
  }
  if (std::find(registries.begin(), registries.end(), host) == registries.end()) registries.push_back(host);
  std::string joined;
  for (const std::string& r : registries) joined += (joined.empty() ? "" : ",") + r;
  data[key] = joined;
  return Status::Ok();
}

Result<ManifestObject> TrustRegistryCa(std::vector<ManifestObject>& objects, const std::string& ca_pem,
                                       const std::string& source) {
  if (ca_pem.find("-----BEGIN CERTIFICATE-----") == std::string::npos)
    return InvalidArgument("registry CA " + source +
                           " holds no PEM certificate (-----BEGIN CERTIFICATE-----)");
  ManifestObject* controller = FindObject(objects, "apps", "Deployment", "controller");
  if (controller == nullptr)
    return NotFound("registry CA " + source +
                    ": the release files have no Deployment controller to give it to");
  json* pod_spec = PodSpecOf(*controller);
  if (pod_spec == nullptr || !FieldOf(*pod_spec, "containers").is_array() ||
      (*pod_spec)["containers"].empty())
    return InvalidArgument(Describe(*controller) + " has no containers");

  json& volumes = (*pod_spec)["volumes"];
  if (!volumes.is_array()) volumes = json::array();
  bool has_volume = std::any_of(volumes.begin(), volumes.end(),
                                [](const json& v) { return StringField(v, "name") == kRegistryCaName; });
  if (!has_volume) volumes.push_back({{"name", kRegistryCaName}, {"configMap", {{"name", kRegistryCaName}}}});

  json& containers = (*pod_spec)["containers"];
  json* container = &containers[0];
  for (json& c : containers) {
    if (StringField(c, "name") == "controller") container = &c;
  }
  json& mounts = (*container)["volumeMounts"];
  if (!mounts.is_array()) mounts = json::array();
  bool has_mount = std::any_of(mounts.begin(), mounts.end(),
                               [](const json& m) { return StringField(m, "name") == kRegistryCaName; });
  if (!has_mount)
    mounts.push_back({{"name", kRegistryCaName}, {"mountPath", kRegistryCaDir}, {"readOnly", true}});
  json& env = (*container)["env"];
  if (!env.is_array()) env = json::array();
  auto cert_dir = std::find_if(env.begin(), env.end(),
                               [](const json& e) { return StringField(e, "name") == "SSL_CERT_DIR"; });
  if (cert_dir == env.end())
    env.push_back({{"name", "SSL_CERT_DIR"}, {"value", kRegistryCaDir}});
  else
    *cert_dir = {{"name", "SSL_CERT_DIR"}, {"value", kRegistryCaDir}};

  return Added({{"apiVersion", "v1"},
                {"kind", "ConfigMap"},
                {"metadata", MetadataFor(kRegistryCaName, controller->key.ns)},
                {"data", {{"ca.crt", ca_pem}}}});
}

Status SetDomain(std::vector<ManifestObject>& objects, const std::string& domain) {
  if (!IsDnsName(domain))
    return InvalidArgument("domain \"" + domain +
                           "\" is not a DNS name (lowercase letters, digits, '-' and '.')");
  Result<ManifestObject*> found = FindConfigMap(objects, "config-domain");
  if (!found.ok()) return found.status().WithContext("cannot set the domain");
  json& data = (*found)->object["data"];
  std::vector<std::string> defaults;
  for (const auto& [key, value] : data.items()) {
    if (key != kExampleKey && value.is_string() && Trim(value.get<std::string>()).empty())
      defaults.push_back(key);
  }
  for (const std::string& key : defaults) data.erase(key);
  data[domain] = "";
  return Status::Ok();
}

Status SelectIngress(std::vector<ManifestObject>& objects, const std::string& ingress) {
  if (ingress != "kourier" && ingress != "istio")
    return InvalidArgument("ingress \"" + ingress + "\" is not one of kourier, istio");
  Result<ManifestObject*> found = FindConfigMap(objects, "config-network");
  if (!found.ok()) return found.status().WithContext("cannot select the ingress");
  ManifestObject& cm = **found;
  std::string key = KeySpelling(cm, {"ingress-class", "ingress.class", "clusteringress.class"});
  if (key == "clusteringress.class" && ingress == "kourier") {
    return Unsupported(Describe(cm) +
                       " only knows clusteringress.class: this Knative release predates "
                       "Kourier; use --ingress istio");
  }
  cm.object["data"][key] = ingress + ".ingress.networking.knative.dev";
  return Status::Ok();
}

Result<std::vector<QueueProxyImageSite>> QueueProxyImage(const std::vector<ManifestObject>& objects,
                                                         const std::string& registry) {
  std::string prefix = MirrorPrefix(registry) + "/";
  auto site = [&](const ManifestObject& o, const std::string& field, const std::string& image) {
    Result<ImageReference> ref = ImageReference::Parse(image);
    bool at_mirror = ref.ok() && (ref->Name() + "/").starts_with(prefix);
    return QueueProxyImageSite{Describe(o) + " " + field, image, at_mirror};
  };
  // config-deployment first: it is what Knative injects; the Image only pre-pulls it.
  std::vector<QueueProxyImageSite> sites;
  for (const ManifestObject& o : objects) {
    if (!o.key.group.empty() || o.key.kind != "ConfigMap" || o.key.name != "config-deployment") continue;
    const json& data = FieldOf(o.object, "data");
    for (const char* key : {"queue-sidecar-image", "queueSidecarImage"}) {
      if (!StringField(data, key).empty())
        sites.push_back(site(o, std::string("data.") + key, StringField(data, key)));
    }
  }
  if (sites.empty()) {
    return NotFound(
        "the release files have no config-deployment ConfigMap naming the queue-proxy image "
        "(data.queue-sidecar-image or data.queueSidecarImage)");
  }
  for (const ManifestObject& o : objects) {
    if (o.key.group == "caching.internal.knative.dev" && o.key.kind == "Image" && o.key.name == "queue-proxy")
      sites.push_back(site(o, "spec.image", StringField(FieldOf(o.object, "spec"), "image")));
  }
  return sites;
}

Status CheckQueueProxyImage(const std::vector<ManifestObject>& objects, const std::string& registry) {
  Result<std::vector<QueueProxyImageSite>> sites = QueueProxyImage(objects, registry);
  if (!sites.ok()) return sites.status();
  for (const QueueProxyImageSite& s : *sites) {
    if (s.at_mirror) continue;
    return InvalidArgument(s.where + ": the queue-proxy image " + s.image + " is not in the mirror " +
                           MirrorPrefix(registry) +
                           "; Knative adds it to every app pod, which could not pull it. "
                           "Rewrite the release files for the mirror first (ferry rewrite)");
  }
  return Status::Ok();
}

}  // namespace ferry::installer
