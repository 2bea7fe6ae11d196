#include "rewrite/manifest_set.h"

#include <algorithm>
#include <filesystem>
#include <unistd.h>

namespace ferry {
namespace fs = std::filesystem;

namespace {
bool IsManifestName(const fs::path& p) {
  std::string ext = p.extension().string();
  return ext == ".yaml" || ext == ".yml" || ext == ".json";
}
}  // namespace

Result<ManifestSet> CollectManifests(const std::vector<std::string>& arguments) {
  ManifestSet set;
  for (const std::string& arg : arguments) {
    if (arg == "-") {
      set.files.push_back({"-", "standard input", "stdin.yaml"});
      continue;
    }
    std::error_code ec;
    fs::file_status st = fs::status(arg, ec);
    if (ec || !fs::exists(st)) return NotFound(arg + ": no such file or directory");
    if (fs::is_directory(st)) {
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(arg, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        if (it->is_symlink() && !fs::exists(it->path()))
          return IoError(it->path().string() + ": broken symbolic link (in " + arg + ")");
        if (!it->is_regular_file()) continue;
        if (IsManifestName(it->path())) found.push_back(it->path());
        else set.skipped.push_back(it->path().string());
      }
      if (ec) return IoError(arg + ": cannot list the directory: " + ec.message());
      std::sort(found.begin(), found.end());
      for (const fs::path& p : found)
        set.files.push_back({p.string(), p.string(), fs::relative(p, arg).string()});
      continue;
    }
    if (access(arg.c_str(), R_OK) != 0) return IoError(arg + ": cannot read the file");
    set.files.push_back({arg, arg, fs::path(arg).filename().string()});
  }
  return set;
}

}  // namespace ferry
