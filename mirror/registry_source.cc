#include "mirror/registry_source.h"

namespace ferry {

RegistrySource::RegistrySource(RegistryPool& registries, int connections_per_registry)
    : registries_(registries), per_registry_(connections_per_registry) {}

std::string RegistrySource::Where(const std::string& repository) const {
  size_t slash = repository.find('/');
  if (slash == std::string::npos) return "registry " + repository;
  return "registry " + repository.substr(0, slash) + ", repository " + repository.substr(slash + 1);
}

Result<Manifest> RegistrySource::GetManifest(const std::string& repository, const std::string& identifier) {
  std::string path;
  Result<RegistryClient*> client = registries_.ForRepository(repository, false, &path);
  if (!client.ok()) return client.status();
  return (*client)->GetManifest(path, identifier);
}

Result<std::vector<std::string>> RegistrySource::ListTags(const std::string& repository) {
  std::string path;
  Result<RegistryClient*> client = registries_.ForRepository(repository, false, &path);
  if (!client.ok()) return client.status();
  return (*client)->ListTags(path);
}

Result<std::optional<std::vector<Descriptor>>> RegistrySource::Referrers(const std::string& repository,
                                                                         const std::string& digest) {
  using Found = std::optional<std::vector<Descriptor>>;
  std::string registry = RegistryOf(repository);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (without_referrers_api_.count(registry)) return Found();
  }
  std::string path;
  Result<RegistryClient*> client = registries_.ForRepository(repository, false, &path);
  if (!client.ok()) return client.status();
  Result<std::optional<Manifest>> index = (*client)->GetReferrers(path, digest);
  if (!index.ok()) return index.status();
  if (!index->has_value()) {
    std::lock_guard<std::mutex> lock(mutex_);
    without_referrers_api_.insert(registry);
    return Found();
  }
  return Found((*index)->children);
}

Gate& RegistrySource::GateFor(const std::string& registry) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto& gate = gates_[registry];
  if (!gate) gate = std::make_unique<Gate>(per_registry_);
  return *gate;
}

Status RegistrySource::ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                                const BodyWriter& writer) {
  std::string path;
  Result<RegistryClient*> client = registries_.ForRepository(repository, false, &path);
  if (!client.ok()) return client.status();
  if (per_registry_ <= 0) return (*client)->ReadBlob(path, blob, writer, offset);
  Gate& gate = GateFor(RegistryOf(repository));
  gate.Enter();
  Status s = (*client)->ReadBlob(path, blob, writer, offset);
  gate.Leave();
  return s;
}

}  // namespace ferry
