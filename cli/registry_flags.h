// The flags that say how to reach a source or destination registry (--src-* / --dest-*), and
// turning them into RegistryOptions with credentials from the flags, the environment or the docker
// configuration.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "mirror/image_reference.h"
#include "mirror/registry_client.h"
#include "mirror/registry_pool.h"

namespace ferry::cli {

struct RegistryFlags {
  std::string prefix;      // "src", "dest" or "registry"
  std::string creds;       // USER:PASS, or USER with --PREFIX-password-stdin
  std::string creds_file;  // a file holding USER:PASS
  bool password_stdin = false;
  std::string ca_cert;
  bool tls_verify = true;
  bool plain_http = false;
};

void AddRegistryFlags(CLI::App* command, RegistryFlags* flags, const std::string& role);

// Only --PREFIX-creds, --PREFIX-creds-file and --PREFIX-password-stdin, for commands that spell
// the TLS flags their own way (install).
void AddRegistryCredentialFlags(CLI::App* command, RegistryFlags* flags, const std::string& role);

// Credentials come from the first of:
//  1. --PREFIX-creds USER:PASS (with a warning on stderr: other local users can read a command
//     line), --PREFIX-creds-file FILE (USER:PASS on its first line), or --PREFIX-password-stdin
//     (the password on standard input; the user from --PREFIX-creds USER or FERRY_PREFIX_USERNAME);
//  2. FERRY_PREFIX_USERNAME and FERRY_PREFIX_PASSWORD (PREFIX in capitals: FERRY_DEST_PASSWORD);
//  3. the docker configuration (config.json auths, credential helpers) for the image's registry.
// Standard input is read once, however many registries ask. Messages never contain a password.
Result<RegistryOptions> MakeRegistryOptions(const RegistryFlags& flags, const ImageReference& ref, bool push);

// The registry options of a copy run (mirror, copy, bundle save and load, samples push): `src` for
// the registries read, `dest` for those written (either may be null when the run has none). Their
// clients never retry on their own: the copy engine retries whole steps, one policy at one level.
RegistryPool::OptionsFor CopyRegistryOptions(const RegistryFlags* src, const RegistryFlags* dest);

}  // namespace ferry::cli
