// Remembers which repositories of a registry hold a blob, so a later copy to another repository of
// the same registry can mount it instead of uploading it again (like containers/image's
// blob-info cache). Only a hint: a stale entry costs one declined mount. Thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry {

class BlobLocations {
 public:
  // An empty cache that is never saved.
  BlobLocations() = default;
  // Loads `path` if it exists; an unreadable or malformed file starts empty (it is only a cache).
  explicit BlobLocations(std::string path);
  // $XDG_CACHE_HOME/ferry/blob-locations.json, else ~/.cache/ferry/blob-locations.json.
  static std::string DefaultPath();

  // Repositories of `registry` known to hold `digest`, most recent first.
  std::vector<std::string> Find(const std::string& registry, const std::string& digest) const;
  void Record(const std::string& registry, const std::string& repository, const std::string& digest);
  // Merges with what is on disk now and replaces the file atomically. No-op without a path.
  Status Save() const;

  using Table = std::map<std::string, std::map<std::string, std::vector<std::string>>>;

 private:
  static void Merge(Table& into, const Table& from);

  std::string path_;
  mutable std::mutex mutex_;
  Table table_;  // registry -> digest -> repositories
};

}  // namespace ferry
