// Test data: the real release files, from $FERRY_CORPUS (ctest sets it) or, when run by hand from
// the project directory, ../shared/corpus/manifests. A missing corpus fails the test: it must never
// pass by finding nothing.
#pragma once

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace ferry {

inline std::filesystem::path CorpusDir() {
  const char* env = std::getenv("FERRY_CORPUS");
  std::filesystem::path dir = env != nullptr ? env : "../shared/corpus/manifests";
  if (!std::filesystem::is_directory(dir))
    FAIL("corpus directory " << dir << " does not exist (absolute: " << std::filesystem::absolute(dir)
                             << "); set FERRY_CORPUS to the directory of release manifests");
  return dir;
}

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace ferry
