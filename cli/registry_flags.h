// The flags that say how to reach a source or destination registry (--src-* / --dest-*), and
// turning them into RegistryOptions with credentials from the flag or the docker configuration.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "mirror/image_reference.h"
#include "mirror/registry_client.h"

namespace ferry::cli {

struct RegistryFlags {
  std::string prefix;  // "src" or "dest"
  std::string creds;   // user:pass
  std::string ca_cert;
  bool tls_verify = true;
  bool plain_http = false;
};

void AddRegistryFlags(CLI::App* command, RegistryFlags* flags, const std::string& role);

Result<RegistryOptions> MakeRegistryOptions(const RegistryFlags& flags, const ImageReference& ref, bool push);

}  // namespace ferry::cli
