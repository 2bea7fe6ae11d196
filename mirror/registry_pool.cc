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

}  // namespace ferry
