// ferry itself in a bundle (`bundle save --include-ferry`), for a site where no ferry runs yet: which
// file to carry (the Debian package `make deb` built, else the running binary), what it is, and the
// plain `tar` line that gets it out on the far side. Format: BundlePackage in mirror/bundle_format.h.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/bundle_format.h"

namespace ferry {

inline constexpr char kFerryBinaryEntry[] = "ferry/ferry";

struct DebControl {
  std::string package, version, architecture;
};

// Package, Version and Architecture of a Debian package (an ar archive: debian-binary,
// control.tar.{gz,xz,zst,}, data.tar...). Errors name the file and what it is not.
Result<DebControl> ReadDebControl(const std::string& path);

// The shared libraries an ELF program names (its DT_NEEDED sonames), in its order.
Result<std::vector<std::string>> NeededLibraries(const std::string& path);

// The Debian architecture this ferry was built for: amd64, arm64, ...
std::string DebianArchitecture();

// "ferry_0.1.0_amd64.deb": what `make deb` (CPack, DEB-DEFAULT) names the package.
std::string FerryDebName(const std::string& version, const std::string& arch);

struct FerryPackageChoice {
  std::string file;            // on disk
  BundlePackage record;        // all but sha256 and size (ArchiveSink reads the file for those)
  std::vector<std::string> notes;  // for the user: why the bare binary, what it needs; a stale .deb
};

// `file` empty: ferry_VERSION_ARCH.deb beside `self` (the running binary) or one directory up
// (`make deb` writes build/ferry_*.deb, the binary is build/cli/ferry), else `self` itself, with a
// note naming the shared libraries it needs on the other side. `file` given: it must be a Debian
// package named ferry whose upstream version is `version` (any architecture); else an error.
Result<FerryPackageChoice> ChooseFerryPackage(const std::string& file, const std::string& self,
                                              const std::string& version);

// The shell line that gets `package` out of a bundle and installs it, for a bundle read from
// `parts` (one file, or split parts of `where`) or, when `directory`, an OCI layout directory:
//   tar --zstd -xf knative.tar.zst ferry/ferry_0.1.0_amd64.deb && apt install ./ferry/ferry_0.1.0_amd64.deb
//   cat knative.tar.zst.[0-9][0-9][0-9] | tar --zstd -xf - ferry/ferry && install -m 0755 ferry/ferry /usr/local/bin/ferry
std::string PackageInstallCommand(const BundlePackage& package, const std::string& where,
                                  const std::vector<std::string>& parts, bool directory);

}  // namespace ferry
