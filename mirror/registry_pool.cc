#include "mirror/registry_pool.h"

namespace ferry {

Result<RegistryClient*> RegistryPool::For(const ImageReference& ref, bool push) {
  std::string key = ref.registry + (push ? " push" : " pull");
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second.get();
  Result<RegistryOptions> options = options_for_(ref, push);
  if (!options.ok()) return options.status();
  auto client = std::make_unique<RegistryClient>(ref.registry, ref.ApiHost(), *options);
  RegistryClient* raw = client.get();
  clients_.emplace(key, std::move(client));
  return raw;
}

Result<RegistryClient*> RegistryPool::ForRepository(const std::string& repository, bool push, std::string* path) {
  size_t slash = repository.find('/');
  if (slash == std::string::npos) return Internal("\"" + repository + "\" does not name a registry repository");
  *path = repository.substr(slash + 1);
  ImageReference ref;
  ref.registry = repository.substr(0, slash);
  ref.repository = *path;
  return For(ref, push);
}

std::string RegistryOf(const std::string& repository) { return repository.substr(0, repository.find('/')); }

}  // namespace ferry
