#include "mirror/registry_sink.h"

#include "common/log.h"
#include "mirror/attachments.h"

namespace ferry {

RegistrySink::RegistrySink(RegistryPool& registries, BlobLocations* locations)
    : registries_(registries), locations_(locations) {}

std::string RegistrySink::Where(const std::string& repository) const {
  size_t slash = repository.find('/');
  if (slash == std::string::npos) return "registry " + repository;
  return "registry " + repository.substr(0, slash) + ", repository " + repository.substr(slash + 1);
}

Result<RegistryClient*> RegistrySink::Client(const std::string& repository, std::string* path) {
  return registries_.ForRepository(repository, true, path);
}

Result<bool> RegistrySink::HasBlob(const std::string& repository, const Descriptor& blob) {
  std::string path;
  Result<RegistryClient*> client = Client(repository, &path);
  if (!client.ok()) return client.status();
  return (*client)->HasBlob(path, blob.digest);
}

std::vector<std::string> RegistrySink::MountHints(const std::string& repository, const Descriptor& blob) {
  std::vector<std::string> hints;
  if (!locations_) return hints;
  std::string registry = RegistryOf(repository);
  for (const std::string& path : locations_->Find(registry, blob.digest)) hints.push_back(registry + "/" + path);
  return hints;
}

Result<bool> RegistrySink::MountBlob(const std::string& repository, const Descriptor& blob, const std::string& from) {
  if (RegistryOf(from) != RegistryOf(repository)) return false;  // mounts stay within a registry
  std::string path;
  Result<RegistryClient*> client = Client(repository, &path);
  if (!client.ok()) return client.status();
  std::string from_path = from.substr(from.find('/') + 1);
  Result<bool> mounted = (*client)->MountBlob(path, blob.digest, from_path);
  if (mounted.ok() && !*mounted)
    Log(LogLevel::kInfo, Where(repository) + " declined to mount " + blob.digest + " from " + from_path);
  return mounted;
}

Status RegistrySink::PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) {
  std::string path;
  Result<RegistryClient*> client = Client(repository, &path);
  if (!client.ok()) return client.status();
  return (*client)->PutBlob(path, blob, reader);
}

void RegistrySink::Placed(const std::string& repository, const Descriptor& blob) {
  if (locations_) locations_->Record(RegistryOf(repository), repository.substr(repository.find('/') + 1), blob.digest);
}

Result<std::optional<std::string>> RegistrySink::ManifestDigest(const std::string& repository,
                                                                const std::string& identifier) {
  std::string path;
  Result<RegistryClient*> client = Client(repository, &path);
  if (!client.ok()) return client.status();
  return (*client)->HeadManifest(path, identifier);
}

Status RegistrySink::PutManifest(const std::string& repository, const std::string& identifier,
                                 const Manifest& manifest) {
  std::string path;
  Result<RegistryClient*> client = Client(repository, &path);
  if (!client.ok()) return client.status();
  bool indexed = false;
  FERRY_RETURN_IF_ERROR((*client)->PutManifest(path, identifier, manifest, manifest.subject ? &indexed : nullptr));
  if (!manifest.subject || indexed) return Status::Ok();
  // No Referrers API here: keep the subject's fallback index (OCI 1.1 tag schema) up to date.
  std::lock_guard<std::mutex> lock(referrers_mutex_);
  std::string tag = ReferrersTag(manifest.subject->digest);
  Result<Manifest> existing = (*client)->GetManifest(path, tag);
  if (!existing.ok() && existing.status().code() != StatusCode::kNotFound) return existing.status();
  Result<std::optional<Manifest>> updated =
      AddReferrer(existing.ok() ? std::optional<Manifest>(*existing) : std::nullopt, manifest);
  if (!updated.ok()) return updated.status();
  if (!updated->has_value()) return Status::Ok();
  return (*client)->PutManifest(path, tag, **updated);
}

}  // namespace ferry
