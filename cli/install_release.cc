// Preparing the release an install applies from its flags; see install_release.h.
#include "cli/install_release.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/registry_flags.h"
#include "common/atomic_file.h"
#include "installer/airgap_fixes.h"
#include "installer/airgap_setup.h"
#include "installer/release_rewrite.h"
#include "mirror/bundle_format.h"
#include "mirror/bundle_reader.h"
#include "mirror/image_lock.h"
#include "rewrite/reference_map.h"

namespace ferry::cli {
namespace {

namespace fs = std::filesystem;
using installer::ManifestObject;

// A directory removed when the preparation ends (the files are read into memory by then).
struct ScratchDir {
  std::string path;
  ~ScratchDir() {
    std::error_code ignored;
    if (!path.empty()) fs::remove_all(path, ignored);
  }
};

// Writes the bundle's ferry/manifests/* into `dir`; they come before the blobs, so this stops early.
Status ExtractBundleManifests(const std::string& bundle, const std::string& dir) {
  Result<std::unique_ptr<BundleReader>> reader = BundleReader::Open(bundle);
  if (!reader.ok()) return reader.status();
  BundleEntry entry;
  int found = 0;
  while (true) {
    Result<bool> more = (*reader)->Next(&entry);
    if (!more.ok()) return more.status();
    if (!*more || entry.path.starts_with("blobs/")) break;
    if (!entry.path.starts_with(bundle::kManifestsDir)) continue;
    std::string name = entry.path.substr(std::string(bundle::kManifestsDir).size());
    if (name.empty() || name.find('/') != std::string::npos) continue;
    Result<std::string> text = (*reader)->ReadAll(64 << 20);
    if (!text.ok()) return text.status();
    Status written = WriteFileAtomically(dir + "/" + name, *text);
    if (!written.ok()) return written.WithContext("the release file " + name + " from the bundle");
    ++found;
  }
  if (found == 0) return NotFound(bundle + ": the bundle holds no release files (ferry/manifests/)");
  return Status::Ok();
}

// The distinct in-use references of the files that are not already under `prefix`: exactly
// what `ferry mirror` plans from the same files, so --to names agree.
Result<ReferenceMap> MapFromNaming(const ReleaseFlags& flags, const ManifestSet& set) {
  Result<TargetNaming> target = ParseNamingFlags(flags.naming);
  if (!target.ok()) return target.status();
  const std::string prefix = target->to.String() + "/";
  Result<std::vector<ImageReference>> sources = DistinctImages(
      set, flags.manifests.include_optional, [&](const ImageOccurrence& o) { return !o.ref.Name().starts_with(prefix); });
  if (!sources.ok()) return sources.status();
  return ReferenceMap::FromNaming(*sources, target->to, target->options);
}

// The longest run of leading path segments every target of the lock shares: "reg/ns" for
// reg/ns/serving-queue and reg/ns/istio-proxyv2. At least the registry.
std::string SharedNamespace(const ImageLock& lock) {
  std::vector<std::string> shared;
  bool first = true;
  for (const LockEntry& entry : lock.images) {
    std::vector<std::string> parts;
    std::string dirs = entry.target.registry + "/" + entry.target.repository;
    dirs = dirs.substr(0, dirs.rfind('/'));  // the repository's own name is not a namespace
    for (size_t start = 0, slash; start <= dirs.size(); start = slash + 1) {
      slash = dirs.find('/', start);
      if (slash == std::string::npos) slash = dirs.size();
      parts.push_back(dirs.substr(start, slash - start));
    }
    if (first) {
      shared = parts;
      first = false;
    }
    size_t same = 0;
    while (same < shared.size() && same < parts.size() && shared[same] == parts[same]) ++same;
    shared.resize(same);
  }
  std::string out;
  for (const std::string& part : shared) out += (out.empty() ? "" : "/") + part;
  return out;
}

std::string Label(const nlohmann::json& object, const char* key) {
  const nlohmann::json& labels = object.value("metadata", nlohmann::json::object()).value("labels", nlohmann::json::object());
  return labels.contains(key) && labels[key].is_string() ? labels[key].get<std::string>() : "";
}

std::string ReleaseVersion(const std::vector<ManifestObject>& objects) {
  for (const char* key : {"app.kubernetes.io/version", "serving.knative.dev/release"})
    for (const ManifestObject& o : objects) {
      std::string v = Label(o.object, key);
      if (!v.empty()) return v.starts_with("v") ? v.substr(1) : v;
    }
  return "unknown";
}

Result<std::string> ReadFile(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(std::string(flag) + " " + path + ": cannot read the file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The pull secret's content: --pull-secret-from, else the credentials ferry reaches the mirror with.
Result<std::string> PullSecretConfig(const ReleaseFlags& flags, const PreparedRelease& release) {
  if (flags.no_pull_secret) return std::string();
  if (!flags.pull_secret_from.empty()) return ReadFile(flags.pull_secret_from, "--pull-secret-from");
  const std::optional<Credential>& c = release.registry_options.credential;
  if (!c || c->username.empty()) return std::string();
  return installer::DockerConfigJsonFor(release.registry, c->username, c->password);
}

}  // namespace

void AddReleaseFlags(CLI::App* app, ReleaseFlags* flags) {
  AddManifestFlags(app, &flags->manifests);
  app->add_option("--bundle", flags->bundle, "Take the profile's release files from this bundle (ferry bundle save)");
  app->add_option("--lock", flags->lock, "Lock file from ferry mirror: where each image is at the mirror");
  AddNamingFlags(app, &flags->naming, /*to_required=*/false);
  AddRegistryCredentialFlags(app, &flags->registry_creds, "mirror (also the image pull secret's)");
  // --registry-ca-cert too: the name the other commands and the registry client's TLS hint use.
  app->add_option("--registry-ca,--registry-ca-cert", flags->registry_ca,
                  "PEM CA of the mirror: used to check images, and given to Knative's controller");
  app->add_flag("--registry-tls-verify{true}", flags->registry_tls_verify, "Verify the mirror's certificate (default true)");
  app->add_flag("--registry-plain-http", flags->registry_plain_http, "Talk plain HTTP to the mirror");
  app->add_option("--pull-secret-from", flags->pull_secret_from, "docker config.json to use as the image pull secret");
  app->add_flag("--no-pull-secret", flags->no_pull_secret, "Create no image pull secret (the mirror allows anonymous pulls)");
  app->add_option("--domain", flags->domain, "Default domain of Knative Services (config-domain)");
  app->add_option("--ingress", flags->ingress, "kourier or istio (default: the profile's networking layer)");
}

Result<PreparedRelease> PrepareRelease(const ReleaseFlags& flags, bool need_mirror) {
  PreparedRelease release;
  bool has_mirror = !flags.lock.empty() || !flags.naming.to.empty();
  if (!flags.lock.empty() && !flags.naming.to.empty()) return InvalidArgument("give one of --lock FILE or --to REGISTRY/NAMESPACE, not both");
  if (need_mirror && !has_mirror)
    return InvalidArgument("say where the images are: --lock images.lock (from ferry mirror) or --to REGISTRY/NAMESPACE");
  ManifestFlags manifests = flags.manifests;
  ScratchDir scratch;
  if (!flags.bundle.empty()) {
    if (manifests.profile.empty()) return InvalidArgument("--bundle needs --profile NAME: which release files of the bundle to install");
    if (!manifests.manifests_dir.empty()) return InvalidArgument("--bundle and --manifests-dir exclude each other");
    char dir[] = "/tmp/ferry-install-XXXXXX";
    if (!mkdtemp(dir)) return IoError("cannot create a temporary directory for the bundle's release files");
    scratch.path = manifests.manifests_dir = dir;
    FERRY_RETURN_IF_ERROR(ExtractBundleManifests(flags.bundle, dir));
  }
  if (!manifests.profile.empty()) {
    Result<ReleaseProfile> profile = LoadReleaseProfile(manifests.profile);
    if (!profile.ok()) return profile.status();
    release.profile = *profile;
  }
  release.name = release.profile ? release.profile->name : "custom";
  Result<ManifestSet> set = ResolveManifests(manifests, ", --bundle FILE (from ferry bundle save)");
  if (!set.ok()) return set.status();

  std::vector<installer::ManifestFile> files;
  if (has_mirror) {
    Result<ReferenceMap> map = Status();
    if (!flags.lock.empty()) {
      Result<ImageLock> lock = ImageLock::Read(flags.lock);
      if (!lock.ok()) return lock.status();
      if (lock->images.empty()) return InvalidArgument("--lock " + flags.lock + ": the lock lists no images");
      release.registry = lock->images.front().target.registry;
      release.mirror_namespace = SharedNamespace(*lock);
      map = ReferenceMap::FromLock(*lock, false);
    } else {
      map = MapFromNaming(flags, *set);
      if (map.ok()) release.registry = TargetPrefix::Parse(flags.naming.to)->registry;
      release.mirror_namespace = flags.naming.to;
    }
    if (!map.ok()) return map.status();
    Result<installer::RewrittenRelease> rewritten = installer::RewriteRelease(*set, *map, flags.manifests.include_optional);
    if (!rewritten.ok()) return rewritten.status();
    files = std::move(rewritten->files);
    release.images = std::move(rewritten->images);
    release.registry_flags = flags.registry_creds;
    release.registry_flags.ca_cert = flags.registry_ca;
    release.registry_flags.tls_verify = flags.registry_tls_verify;
    release.registry_flags.plain_http = flags.registry_plain_http;
    Result<RegistryOptions> options =
        MakeRegistryOptions(release.registry_flags, ImageReference{.registry = release.registry}, false);
    if (!options.ok()) return options.status();
    release.registry_options = *options;
  } else {
    for (const ManifestInput& file : set->files) {
      Result<std::string> text = ReadFile(file.path, "-f");
      if (!text.ok()) return text.status();
      files.push_back({file.display, std::move(*text)});
    }
  }

  Result<std::vector<ManifestObject>> objects = installer::ObjectsOfFiles(files);
  if (!objects.ok()) return objects.status();
  release.version = ReleaseVersion(*objects);
  if (has_mirror) {
    installer::AirgapSettings settings{.registry = release.registry, .domain = flags.domain};
    Result<std::string> pull = PullSecretConfig(flags, release);
    if (!pull.ok()) return pull.status();
    settings.dockerconfigjson = release.pull_secret = *pull;
    if (pull->empty() && !flags.no_pull_secret)
      release.notes.push_back("no credentials for " + release.registry + ": no pull secret (the mirror must allow anonymous pulls)");
    if (!flags.registry_ca.empty()) {
      Result<std::string> ca = ReadFile(flags.registry_ca, "--registry-ca");
      if (!ca.ok()) return ca.status();
      settings.ca_pem = *ca;
      settings.ca_source = flags.registry_ca;
    }
    settings.ingress = !flags.ingress.empty() ? flags.ingress : release.profile ? release.profile->networking_layer : "";
    Result<std::vector<std::string>> notes = installer::ApplyAirgapSettings(*objects, settings);
    if (!notes.ok()) return notes.status();
    release.notes.insert(release.notes.end(), notes->begin(), notes->end());
  }
  installer::PlanOptions plan_options{.component = "serving", .version = release.version == "unknown" ? "" : release.version};
  Result<installer::ApplyPlan> plan = installer::PlanApply(std::move(*objects), plan_options);
  if (!plan.ok()) return plan.status();
  release.plan = std::move(*plan);
  return release;
}

}  // namespace ferry::cli
