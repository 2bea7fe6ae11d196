#include "cli/bundle_package_output.h"

#include <filesystem>

#include "cli/mirror_progress.h"
#include "mirror/bundle_package.h"
#include "mirror/bundle_reader.h"

namespace ferry::cli {

std::string InstallCommandFor(const BundlePackage& package, const std::string& bundle) {
  std::error_code ec;
  if (std::filesystem::is_directory(bundle, ec)) return PackageInstallCommand(package, bundle, {}, true);
  std::string where = bundle;
  Result<std::vector<std::string>> parts = FindBundleParts(bundle, &where);
  return PackageInstallCommand(package, where, parts.ok() ? *parts : std::vector<std::string>{bundle}, false);
}

std::string PackageLine(const BundlePackage& p, const std::string& install) {
  std::string kind = p.kind == bundle::kPackageDeb      ? "Debian package"
                     : p.kind == bundle::kPackageBinary ? "bare binary"
                                                        : p.kind;
  std::string needs;
  for (const std::string& l : p.libraries) needs += (needs.empty() ? "; needs " : ", ") + l;
  return "ferry " + p.version + " (" + kind + ", " + p.arch + ", " + HumanBytes(p.size) + needs +
         ") is in the bundle as " + p.path + "; where no ferry runs yet: " + install;
}

nlohmann::json PackageJson(const BundlePackage& p, const std::string& install) {
  return {{"kind", p.kind},     {"path", p.path}, {"version", p.version},     {"arch", p.arch},
          {"sha256", p.sha256}, {"size", p.size}, {"libraries", p.libraries}, {"install", install}};
}

}  // namespace ferry::cli
