// A registry as an image source: repositories are named "host/path" (ImageReference::Name()), and
// every registry is reached through one RegistryPool, so tokens and connections are shared by the
// whole run. With `connections_per_registry` > 0, at most that many blob reads run at once per
// registry (the sink side is not gated: a transfer never waits for a second gate while it holds one).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "common/task_pool.h"
#include "mirror/image_source.h"
#include "mirror/registry_pool.h"

namespace ferry {

class RegistrySource : public ImageSource {
 public:
  RegistrySource(RegistryPool& registries, int connections_per_registry);

  std::string Where(const std::string& repository) const override;
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository) override;
  Result<std::optional<std::vector<Descriptor>>> Referrers(const std::string& repository,
                                                           const std::string& digest) override;
  std::string MountableRepository(const std::string& repository) const override { return repository; }
  Status ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                  const BodyWriter& writer) override;

 private:
  Gate& GateFor(const std::string& registry);

  RegistryPool& registries_;
  int per_registry_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<Gate>> gates_;
  std::set<std::string> without_referrers_api_;  // registries that answered 404 once
};

}  // namespace ferry
