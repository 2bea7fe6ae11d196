// ReadLocalFile: the whole file, byte for byte, or a Status that says why without naming the path
// (callers put the place in front).
#include "common/local_file.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

namespace ferry {
namespace {

// A fresh directory under /tmp, removed with everything in it.
struct ScratchDir {
  ScratchDir() {
    char templ[] = "/tmp/ferry_common_test.XXXXXX";
    REQUIRE(mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST_CASE("ReadLocalFile returns every byte, past one read buffer and through NUL bytes") {
  ScratchDir dir;
  std::string content(20000, 'x');
  content[5] = '\0';
  content[19999] = '\n';
  std::ofstream(dir.path + "/f", std::ios::binary) << content;
  Result<std::string> read = ReadLocalFile(dir.path + "/f");
  REQUIRE(read.ok());
  CHECK(*read == content);
}

TEST_CASE("ReadLocalFile tells a missing file from one that cannot be read") {
  ScratchDir dir;
  Result<std::string> missing = ReadLocalFile(dir.path + "/absent");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == "No such file or directory");

  // A directory opens but does not read.
  Result<std::string> directory = ReadLocalFile(dir.path);
  REQUIRE_FALSE(directory.ok());
  CHECK(directory.status().code() == StatusCode::kIo);
  CHECK(directory.status().message() == "Is a directory");
}

}  // namespace
}  // namespace ferry
