// Test-only: prints the Kubernetes objects of release files as one JSON array, read the way ferry
// reads them (installer/manifest_objects.h), so the Python tests can see container specs without a
// YAML parser of their own. Usage: release_objects FILE...
#include <cstdio>

#include "common/local_file.h"
#include "installer/manifest_objects.h"

int main(int argc, char** argv) {
  std::vector<ferry::installer::ManifestFile> files;
  for (int i = 1; i < argc; ++i) {
    ferry::Result<std::string> text = ferry::ReadLocalFile(argv[i]);
    if (!text.ok()) {
      std::fprintf(stderr, "%s: %s\n", argv[i], text.status().message().c_str());
      return 1;
    }
    files.push_back({argv[i], std::move(*text)});
  }
  ferry::Result<std::vector<ferry::installer::ManifestObject>> objects = ferry::installer::ObjectsOfFiles(files);
  if (!objects.ok()) {
    std::fprintf(stderr, "%s\n", objects.status().message().c_str());
    return 1;
  }
  nlohmann::json out = nlohmann::json::array();
  for (const auto& o : *objects) out.push_back(o.object);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
