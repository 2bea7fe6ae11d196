// One RegistryClient per registry and role (source or destination), made on first use, so tokens
// and connections are shared by every transfer of a run. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "mirror/image_reference.h"
#include "mirror/registry_client.h"

namespace ferry {

class RegistryPool {
 public:
  // Supplies the options (credentials, TLS) for a registry; `push` marks a destination.
  using OptionsFor = std::function<Result<RegistryOptions>(const ImageReference& ref, bool push)>;

  explicit RegistryPool(OptionsFor options_for) : options_for_(std::move(options_for)) {}

  Result<RegistryClient*> For(const ImageReference& ref, bool push);
  // The client for a repository named "host/path" (ImageReference::Name()), and the path in `path`.
  Result<RegistryClient*> ForRepository(const std::string& repository, bool push, std::string* path);

 private:
  OptionsFor options_for_;
  std::mutex mutex_;
  std::map<std::string, std::unique_ptr<RegistryClient>> clients_;
};

// The registry ("host") of a repository named "host/path", as registry sources and sinks name
// them (see mirror/image_source.h).
std::string RegistryOf(const std::string& repository);

}  // namespace ferry
