// Test data: the real release files, looked up as tests/lib/ferrytest/util.py looks them up:
// $FERRY_CORPUS (a directory you name; missing is an error), else ../shared/corpus/manifests beside
// the checkout, else the copy tests/fetch_corpus.py made with `ferry manifests fetch`
// ($FERRY_CORPUS_FETCHED, complete once its SHA256SUMS exists). With none of them the test is
// skipped: one line says why and how to provide the files, and the process exits with
// kSkipExitCode, which ctest reports as skipped (SKIP_RETURN_CODE). It never passes by finding nothing.
#pragma once

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace ferry {

inline constexpr int kSkipExitCode = 77;

inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

inline std::filesystem::path CorpusDir() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("FERRY_CORPUS"); env != nullptr && *env != '\0') {
    if (!fs::is_directory(env)) FAIL("FERRY_CORPUS=" << env << " is not a directory");
    return env;
  }
#ifdef FERRY_SOURCE_DIR
  fs::path shared = fs::path(FERRY_SOURCE_DIR).parent_path() / "shared/corpus/manifests";
#else
  fs::path shared = "../shared/corpus/manifests";  // run by hand from the project directory
#endif
  if (fs::is_directory(shared)) return shared;
  const char* fetched = std::getenv("FERRY_CORPUS_FETCHED");
  if (fetched != nullptr && fs::is_regular_file(fs::path(fetched) / "SHA256SUMS")) return fetched;

  std::string failure = fetched != nullptr ? ReadFile(fs::path(fetched) / "UNAVAILABLE") : "";
  while (!failure.empty() && (failure.back() == '\n' || failure.back() == ' ')) failure.pop_back();
  std::string why = failure.empty() ? "none here, and none fetched" : "none here, and fetching failed: " + failure;
  std::printf(
      "skipped: needs Knative's release files (%s); set FERRY_CORPUS=DIR, put them in "
      "../shared/corpus/manifests, or run `make test` where GitHub can be reached (it fetches them once)\n",
      why.c_str());
  std::fflush(stdout);
  std::exit(kSkipExitCode);
}

}  // namespace ferry
