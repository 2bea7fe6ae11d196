#include "mirror/blob_locations.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

using namespace ferry;

namespace {
std::string TempDir() {
  char name[] = "/tmp/ferry-locations-XXXXXX";
  return mkdtemp(name);
}
}  // namespace

TEST_CASE("blob locations are found most recent first, per registry") {
  BlobLocations locations;
  locations.Record("r1", "a", "sha256:1");
  locations.Record("r1", "b", "sha256:1");
  locations.Record("r2", "c", "sha256:1");
  CHECK(locations.Find("r1", "sha256:1") == std::vector<std::string>{"b", "a"});
  CHECK(locations.Find("r2", "sha256:1") == std::vector<std::string>{"c"});
  CHECK(locations.Find("r1", "sha256:2").empty());
}

TEST_CASE("saved locations merge with what another process saved meanwhile") {
  std::string dir = TempDir();
  std::string path = dir + "/sub/blob-locations.json";
  BlobLocations first(path), second(path);
  first.Record("r", "a", "sha256:1");
  second.Record("r", "b", "sha256:2");
  REQUIRE(first.Save().ok());
  REQUIRE(second.Save().ok());
  BlobLocations reread(path);
  CHECK(reread.Find("r", "sha256:1") == std::vector<std::string>{"a"});
  CHECK(reread.Find("r", "sha256:2") == std::vector<std::string>{"b"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a corrupt cache file is ignored, not fatal") {
  std::string dir = TempDir();
  std::string path = dir + "/blob-locations.json";
  std::ofstream(path) << "{not json";
  BlobLocations locations(path);
  CHECK(locations.Find("r", "sha256:1").empty());
  locations.Record("r", "a", "sha256:1");
  CHECK(locations.Save().ok());
  CHECK(BlobLocations(path).Find("r", "sha256:1") == std::vector<std::string>{"a"});
  std::filesystem::remove_all(dir);
}
