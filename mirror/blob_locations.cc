#include "mirror/blob_locations.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/atomic_file.h"

namespace ferry {
namespace {

constexpr size_t kReposPerBlob = 8;

BlobLocations::Table* ReadTable(const std::string& path, BlobLocations::Table* table) {
  std::ifstream in(path);
  if (!in) return table;
  auto doc = nlohmann::json::parse(in, nullptr, false);
  if (!doc.is_object()) return table;
  for (auto& [registry, digests] : doc.items()) {
    if (!digests.is_object()) continue;
    for (auto& [digest, repos] : digests.items()) {
      if (!repos.is_array()) continue;
      for (auto& repo : repos)
        if (repo.is_string()) (*table)[registry][digest].push_back(repo.get<std::string>());
    }
  }
  return table;
}

void AddFront(std::vector<std::string>& repos, const std::string& repository) {
  repos.erase(std::remove(repos.begin(), repos.end(), repository), repos.end());
  repos.insert(repos.begin(), repository);
  if (repos.size() > kReposPerBlob) repos.resize(kReposPerBlob);
}

}  // namespace

BlobLocations::BlobLocations(std::string path) : path_(std::move(path)) { ReadTable(path_, &table_); }

std::string BlobLocations::DefaultPath() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    return std::string(xdg) + "/ferry/blob-locations.json";
  if (const char* home = std::getenv("HOME"); home && *home)
    return std::string(home) + "/.cache/ferry/blob-locations.json";
  return "";
}

std::vector<std::string> BlobLocations::Find(const std::string& registry, const std::string& digest) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto r = table_.find(registry);
  if (r == table_.end()) return {};
  auto d = r->second.find(digest);
  return d == r->second.end() ? std::vector<std::string>{} : d->second;
}

void BlobLocations::Record(const std::string& registry, const std::string& repository, const std::string& digest) {
  std::lock_guard<std::mutex> lock(mutex_);
  AddFront(table_[registry][digest], repository);
}

void BlobLocations::Merge(Table& into, const Table& from) {
  for (const auto& [registry, digests] : from)
    for (const auto& [digest, repos] : digests)
      for (auto it = repos.rbegin(); it != repos.rend(); ++it) AddFront(into[registry][digest], *it);
}

Status BlobLocations::Save() const {
  if (path_.empty()) return Status::Ok();
  Table merged;
  ReadTable(path_, &merged);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    Merge(merged, table_);
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path_).parent_path(), ec);
  Status s = WriteFileAtomically(path_, nlohmann::json(merged).dump());
  if (!s.ok()) return IoError("cannot save the blob location cache: " + s.message());
  return Status::Ok();
}

}  // namespace ferry
