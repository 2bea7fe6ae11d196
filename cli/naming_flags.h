// The flags that say where images land under a target (--to, --naming, --template,
// --max-name-length), shared by the commands that push to a registry (`mirror`, `bundle load`)
// or name images there (`rewrite`, `install`),
// and turning them into a TargetPrefix and NamingOptions.
#pragma once

#include <CLI/CLI.hpp>

#include <cstddef>
#include <string>

#include "mirror/target_naming.h"

namespace ferry::cli {

struct NamingFlags {
  std::string to, naming = "preserve", pattern;
  std::size_t max_name_length = kDefaultMaxFlatLength;
};

// Registers the flags; --to is required unless another flag can say where images are (--lock).
void AddNamingFlags(CLI::App* command, NamingFlags* flags, bool to_required = true);

struct TargetNaming {
  TargetPrefix to;
  NamingOptions options;
};

// Errors name the flag at fault.
Result<TargetNaming> ParseNamingFlags(const NamingFlags& flags);

}  // namespace ferry::cli
