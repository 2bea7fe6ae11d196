// What `ferry install` applies, prepared from its flags: the profile's release files (from
// --manifests-dir, a --bundle, -f, or the download cache), rewritten in memory to the mirror
// (--lock or --to), parsed into objects, given the air-gap fixes, and planned into waves.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>
#include <vector>

#include "cli/manifest_flags.h"
#include "cli/registry_flags.h"
#include "installer/apply_plan.h"
#include "mirror/image_reference.h"
#include "cli/naming_flags.h"
#include "mirror/target_naming.h"
#include "mirror/registry_client.h"
#include "rewrite/release_profile.h"

namespace ferry::cli {

struct ReleaseFlags {
  ManifestFlags manifests;
  std::string bundle;
  std::string lock;
  NamingFlags naming;
  RegistryFlags registry_creds{.prefix = "registry"};  // the credential flags only
  std::string registry_ca, pull_secret_from, domain, ingress;
  bool registry_tls_verify = true, registry_plain_http = false, no_pull_secret = false;
};

void AddReleaseFlags(CLI::App* command, ReleaseFlags* flags);

struct PreparedRelease {
  std::optional<ReleaseProfile> profile;
  std::string name;     // the profile's name, or "custom" for -f files
  std::string version;  // from the objects' version labels ("1.23.0"), or "unknown"
  installer::ApplyPlan plan;
  std::vector<ImageReference> images;  // at the mirror; empty without --lock/--to
  std::string registry;                // the mirror's host[:port]; empty without --lock/--to
  std::string mirror_namespace;        // REGISTRY/NAMESPACE: --to, or the part every lock target shares
  RegistryFlags registry_flags;        // how to reach the mirror (--registry-*)
  RegistryOptions registry_options;
  std::string pull_secret;             // the image pull secret's docker config.json; empty: none
  std::vector<std::string> notes;      // what the air-gap fixes changed
};

// `need_mirror`: --lock or --to is required (every mode but --plan).
Result<PreparedRelease> PrepareRelease(const ReleaseFlags& flags, bool need_mirror);

}  // namespace ferry::cli
