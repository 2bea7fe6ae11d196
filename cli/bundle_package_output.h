// How `bundle save`, `load` and `inspect` tell the user about ferry's own package in a bundle
// (bundle.json's ferryPackage, mirror/bundle_package.h): one line in text, one object in JSON.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "mirror/bundle_format.h"

namespace ferry::cli {

// The command that gets the package out of the bundle the user named (an archive, NAME.000 of
// split parts, or a layout directory) and installs it.
std::string InstallCommandFor(const BundlePackage& package, const std::string& bundle);

// "ferry 0.1.0 (Debian package, amd64, 5.1 MB) is in the bundle as ferry/ferry_0.1.0_amd64.deb;
// where no ferry runs yet: tar --zstd -xf B ferry/ferry_0.1.0_amd64.deb && apt install ./ferry/..."
std::string PackageLine(const BundlePackage& package, const std::string& install);

nlohmann::json PackageJson(const BundlePackage& package, const std::string& install);

}  // namespace ferry::cli
