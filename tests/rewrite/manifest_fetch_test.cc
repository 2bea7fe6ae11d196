// VerifyManifestsDir (what --manifests-dir checks) and the local side of FetchManifests. Downloads
// from a real HTTP server are covered by tests/integration/test_manifests_fetch.py.
#include <catch2/catch.hpp>

#include "tests/corpus.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/sha256.h"
#include "rewrite/manifest_fetch.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    static int n = 0;
    path = fs::temp_directory_path() / ("ferry-manifest-fetch-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

ReleaseProfile Builtin(const std::string& name) {
  Result<ReleaseProfile> p = BuiltinReleaseProfile(name);
  REQUIRE(p.ok());
  return *p;
}

// Copies the profile's files from the corpus into `dir` (writable copies).
void CopyFromCorpus(const ReleaseProfile& p, const fs::path& dir) {
  for (const ProfileFile& f : p.files) {
    fs::copy_file(CorpusDir() / f.name, dir / f.name, fs::copy_options::overwrite_existing);
    fs::permissions(dir / f.name, fs::perms::owner_write, fs::perm_options::add);
  }
}

void Write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary | std::ios::trunc) << text; }

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("the corpus holds every built-in profile's files", "[manifest_fetch][corpus]") {
  for (const std::string& name : BuiltinProfileNames()) {
    INFO(name);
    ReleaseProfile p = Builtin(name);
    ManifestsReport r = VerifyManifestsDir(p, CorpusDir().string());
    INFO(r.status.ToString());
    REQUIRE(r.ok());
    REQUIRE(r.files.size() == p.files.size());
    for (size_t i = 0; i < p.files.size(); ++i) {
      const ManifestFile& f = r.files[i];
      CHECK(f.origin == (p.files[i].sha256_known() ? Sha256Origin::kProfile : Sha256Origin::kRecorded));
      CHECK(r.locked.files[i].sha256 == f.sha256);  // every sum is known now
      CHECK(f.size == fs::file_size(CorpusDir() / f.name));
      CHECK_FALSE(f.downloaded);
    }
  }
}

TEST_CASE("verify names the missing files together and each differing file", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-1.23-kourier");
  CopyFromCorpus(p, dir.path);
  fs::remove(dir.path / "net-kourier-v1.23.yaml");
  fs::remove(dir.path / "knative-serving-v1.23.0-serving-hpa.yaml");
  Write(dir.path / "knative-serving-v1.23.0-serving-core.yaml", "kind: Nothing\n");
  std::string bad = Sha256Digest("kind: Nothing\n").substr(7);

  ManifestsReport r = VerifyManifestsDir(p, dir.path.string());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.code() == StatusCode::kDataLoss);
  const std::string& m = r.status.message();
  INFO(m);
  CHECK(m.find("3 of 5 files missing or not matching") != std::string::npos);
  CHECK(m.find("\n  missing: 2 files (net-kourier-v1.23.yaml, knative-serving-v1.23.0-serving-hpa.yaml)") !=
        std::string::npos);
  CHECK(m.find("knative-serving-v1.23.0-serving-core.yaml: sha256 mismatch: expected "
               "be3f16c9c0ac9276cc173ef04871aaeac78537f9edb116310caa02f016e9cbc2 (from the profile), got " + bad) !=
        std::string::npos);
  CHECK(r.files[0].status.ok());
  CHECK_FALSE(r.files[1].status.ok());
}

TEST_CASE("verify of a directory that does not exist says so", "[manifest_fetch]") {
  ManifestsReport r = VerifyManifestsDir(Builtin("knative-1.23-kourier"), "/nonexistent/ferry-manifests");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.message() == "manifests directory /nonexistent/ferry-manifests does not exist");
}

TEST_CASE("sums recorded in profile.lock.json are checked from then on", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-0.6-full");
  CopyFromCorpus(p, dir.path);
  ManifestsReport first = VerifyManifestsDir(p, dir.path.string());
  REQUIRE(first.ok());
  Write(dir.path / kManifestLockName, first.locked.ToJson());

  ManifestsReport again = VerifyManifestsDir(p, dir.path.string());
  REQUIRE(again.ok());
  for (size_t i = 0; i < p.files.size(); ++i)
    CHECK(again.files[i].origin == (p.files[i].sha256_known() ? Sha256Origin::kProfile : Sha256Origin::kLock));

  // A recorded file that changes afterwards no longer matches.
  Write(dir.path / "knative-eventing-v0.6.0-release.yaml", "changed\n");
  ManifestsReport changed = VerifyManifestsDir(p, dir.path.string());
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.status.message().find("knative-eventing-v0.6.0-release.yaml: sha256 mismatch: expected "
                                      "207c009daa094bc5b63f7142b6a4298c58a285ebbb0d6a0cfd537d1556749d4d (recorded at "
                                      "first download), got ") != std::string::npos);

  // The lock of another profile, or of another URL, records nothing for this one.
  ReleaseProfile other = p;
  other.name = "someone-else";
  Write(dir.path / kManifestLockName, other.ToJson());
  ManifestsReport ignored = VerifyManifestsDir(p, dir.path.string());
  REQUIRE(ignored.ok());
  CHECK(ignored.files[4].origin == Sha256Origin::kRecorded);
}

TEST_CASE("an unreadable lock is an error that says what to do", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-0.6-full");
  Write(dir.path / kManifestLockName, "{not json");
  ManifestsReport r = VerifyManifestsDir(p, dir.path.string());
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.message().find("remove " + (dir.path / kManifestLockName).string()) != std::string::npos);
}

TEST_CASE("files already in place with the right sum are kept, not downloaded", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-1.23-kourier");
  CopyFromCorpus(p, dir.path);
  // The base URL points nowhere: any download attempt would fail.
  ManifestFetchOptions options{.base_url = "http://127.0.0.1:1/"};
  options.retry.max_attempts = 1;
  ManifestsReport r = FetchManifests(p, dir.path.string(), options);
  INFO(r.status.ToString());
  REQUIRE(r.ok());
  for (const ManifestFile& f : r.files) CHECK_FALSE(f.downloaded);
  CHECK(r.lock_path == (dir.path / kManifestLockName).string());
  Result<ReleaseProfile> lock = ReadReleaseProfile(r.lock_path);
  REQUIRE(lock.ok());
  CHECK(lock->name == p.name);
}

TEST_CASE("a failed download leaves nothing behind and names the file and the server", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-1.23-kourier");
  ManifestFetchOptions options{.base_url = "http://127.0.0.1:1"};
  options.retry.max_attempts = 1;
  ManifestsReport r = FetchManifests(p, dir.path.string(), options);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.code() == StatusCode::kUnavailable);
  // One line for the host, not one per file: what failed, how many files, the first few named.
  INFO(r.status.message());
  CHECK(r.status.message().find("5 of 5 files of profile knative-1.23-kourier failed:\n  127.0.0.1:1: connection to "
                                "127.0.0.1:1 failed") == 0);
  CHECK(r.status.message().find(": 5 files (knative-serving-v1.23.0-serving-crds.yaml, "
                                "knative-serving-v1.23.0-serving-core.yaml and 3 more)") != std::string::npos);
  CHECK(std::count(r.status.message().begin(), r.status.message().end(), '\n') == 1);
  // Each file keeps its own error: the first says what failed, the others that they were not tried.
  CHECK(r.files[0].status.message().find("knative-serving-v1.23.0-serving-crds.yaml from "
                                         "http://127.0.0.1:1/knative-serving-v1.23.0-serving-crds.yaml: connection to "
                                         "127.0.0.1:1 failed") == 0);
  CHECK(r.files[1].status.message().find("not tried: 127.0.0.1:1 could not be reached") != std::string::npos);
  for (const ManifestFile& f : r.files) CHECK(f.reason == r.files[0].reason);
  CHECK(r.lock_path.empty());
  CHECK(Entries(dir.path).empty());
}

TEST_CASE("a host that cannot be resolved is named once, without repeating itself", "[manifest_fetch]") {
  TempDir dir;
  ManifestFetchOptions options{.base_url = "http://ferry-test.invalid"};  // .invalid never resolves
  options.retry.max_attempts = 1;
  ManifestsReport r = FetchManifests(Builtin("knative-1.23-kourier"), dir.path.string(), options);
  REQUIRE_FALSE(r.ok());
  INFO(r.status.message());
  CHECK(r.status.message().find("\n  ferry-test.invalid: cannot resolve host ferry-test.invalid: 5 files (") !=
        std::string::npos);
  CHECK(r.files[0].status.message().find("(") != std::string::npos);  // the file's own error keeps the detail
}

TEST_CASE("a directory missing several files says so in one line", "[manifest_fetch]") {
  TempDir dir;
  ReleaseProfile p = Builtin("knative-1.23-kourier");
  ManifestsReport r = VerifyManifestsDir(p, dir.path.string());
  REQUIRE_FALSE(r.ok());
  INFO(r.status.message());
  CHECK(r.status.message() == dir.path.string() + " does not hold profile knative-1.23-kourier (5 of 5 files missing "
                              "or not matching):\n  missing: 5 files (knative-serving-v1.23.0-serving-crds.yaml, "
                              "knative-serving-v1.23.0-serving-core.yaml and 3 more)");
  // -v names every file.
  SetLogLevel(LogLevel::kInfo);
  std::string all = VerifyManifestsDir(p, dir.path.string()).status.message();
  SetLogLevel(LogLevel::kWarning);
  CHECK(all.find(" more") == std::string::npos);
  for (const ProfileFile& f : p.files) CHECK(all.find(f.name) != std::string::npos);
}

TEST_CASE("a base URL that is not http is refused", "[manifest_fetch]") {
  TempDir dir;
  ManifestsReport r = FetchManifests(Builtin("knative-1.23-kourier"), dir.path.string(), {.base_url = "ftp://x/"});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status.message() == "base URL ftp://x/ is not an http or https URL");
}

TEST_CASE("Sha256OfFile streams a file's sum", "[manifest_fetch]") {
  TempDir dir;
  Write(dir.path / "x", "hello\n");
  uint64_t size = 0;
  Result<std::string> sum = Sha256OfFile((dir.path / "x").string(), &size);
  REQUIRE(sum.ok());
  CHECK(*sum == "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  CHECK(size == 6);
  CHECK(Sha256OfFile((dir.path / "y").string()).status().code() == StatusCode::kNotFound);
}

}  // namespace ferry
