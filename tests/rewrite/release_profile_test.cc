// Release profiles: the built-in ones load and name the corpus files with their real sums; broken
// profiles are refused with the file, the line and the field.
#include <catch2/catch.hpp>

#include "tests/corpus.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "rewrite/release_profile.h"

namespace ferry {
namespace {

// SHA256SUMS: "<hex>  <name>" per line.
std::map<std::string, std::string> CorpusSums() {
  std::ifstream in(CorpusDir() / "SHA256SUMS");
  REQUIRE(in.good());
  std::map<std::string, std::string> sums;
  std::string sum, name;
  while (in >> sum >> name) sums[name] = sum;
  REQUIRE_FALSE(sums.empty());
  return sums;
}

const char* kMinimal = R"(name: mine
networking:
  layer: kourier
serviceApiVersion: serving.knative.dev/v1
files:
  - name: a.yaml
    url: https://example.com/a.yaml
    sha256: 914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c
)";

// The error for `text` (which must not parse).
std::string ErrorOf(const std::string& text) {
  Result<ReleaseProfile> p = ParseReleaseProfile(text, "my-profile.yaml");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kInvalidArgument);
  return p.status().message();
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("the four built-in profiles are there, sorted", "[release_profile]") {
  CHECK(BuiltinProfileNames() ==
        std::vector<std::string>{"knative-0.6-full", "knative-0.6-istio-1.1", "knative-1.23-istio", "knative-1.23-kourier"});
}

TEST_CASE("every built-in profile loads, by the name of its file", "[release_profile]") {
  for (const std::string& name : BuiltinProfileNames()) {
    INFO(name);
    Result<ReleaseProfile> p = LoadReleaseProfile(name);
    INFO(p.status().ToString());
    REQUIRE(p.ok());
    CHECK(p->name == name);
    CHECK(p->origin == "built-in profile " + name);
    CHECK_FALSE(p->description.empty());
    CHECK_FALSE(p->files.empty());
    CHECK(p->samples == std::vector<std::string>{"helloworld", "autoscale"});
  }
}

TEST_CASE("built-in profiles say what they install", "[release_profile]") {
  auto load = [](const std::string& name) {
    Result<ReleaseProfile> p = BuiltinReleaseProfile(name);
    REQUIRE(p.ok());
    return *p;
  };
  auto names = [](const ReleaseProfile& p) {
    std::vector<std::string> out;
    for (const ProfileFile& f : p.files) out.push_back(f.name);
    return out;
  };

  ReleaseProfile lean = load("knative-0.6-istio-1.1");
  CHECK(lean.service_api_version == "serving.knative.dev/v1alpha1");
  CHECK(lean.networking_layer == "istio");
  CHECK_FALSE(lean.networking_preinstalled);
  CHECK(names(lean) == std::vector<std::string>{"istio-1.1.3-crds.yaml", "istio-1.1.3-lean.yaml",
                                                "knative-serving-v0.6.0-serving.yaml"});

  ReleaseProfile full = load("knative-0.6-full");
  CHECK(full.service_api_version == "serving.knative.dev/v1alpha1");
  CHECK(names(full) == std::vector<std::string>{"istio-1.1.3-crds.yaml", "istio-1.1.3.yaml",
                                                "knative-serving-v0.6.0-serving.yaml", "knative-build-v0.6.0-build.yaml",
                                                "knative-eventing-v0.6.0-release.yaml",
                                                "knative-eventing-sources-v0.6.0.yaml",
                                                "knative-serving-v0.6.0-monitoring.yaml"});
  // The reconstructed files have no pinned source: their sums are recorded at first download.
  for (const ProfileFile& f : full.files) {
    INFO(f.name);
    bool upstream_asset = f.url.starts_with("https://github.com/knative/") && f.url.find("/releases/download/v0.6.0/") != std::string::npos;
    CHECK(f.sha256_known() == !upstream_asset);
  }

  ReleaseProfile kourier = load("knative-1.23-kourier");
  CHECK(kourier.service_api_version == "serving.knative.dev/v1");
  CHECK(kourier.networking_layer == "kourier");
  CHECK_FALSE(kourier.networking_preinstalled);
  CHECK(kourier.files.front().name == "knative-serving-v1.23.0-serving-crds.yaml");
  CHECK(kourier.File("net-kourier-v1.23.yaml") != nullptr);
  CHECK(kourier.File("knative-serving-v1.23.0-serving-hpa.yaml") != nullptr);
  CHECK(kourier.files.back().name == "knative-serving-v1.23.0-serving-post-install-jobs.yaml");

  ReleaseProfile istio = load("knative-1.23-istio");
  CHECK(istio.networking_layer == "istio");
  CHECK(istio.networking_preinstalled);  // net-istio only; Istio is installed separately
  CHECK(istio.File("net-istio-v1.23.yaml") != nullptr);
  for (const ProfileFile& f : istio.files) CHECK_FALSE(f.name.starts_with("istio-"));
}

TEST_CASE("every corpus file a built-in profile names has the sum in SHA256SUMS", "[release_profile][corpus]") {
  std::map<std::string, std::string> sums = CorpusSums();
  std::set<std::string> named;
  for (const std::string& name : BuiltinProfileNames()) {
    Result<ReleaseProfile> p = BuiltinReleaseProfile(name);
    REQUIRE(p.ok());
    for (const ProfileFile& f : p->files) {
      INFO(name << ": " << f.name << " " << f.url);
      REQUIRE(sums.count(f.name) == 1);  // each profile file is a corpus file
      REQUIRE(std::filesystem::is_regular_file(CorpusDir() / f.name));
      if (f.sha256_known()) {
        CHECK(f.sha256 == sums[f.name]);
        // Pinned sources only: a raw file at a fixed commit.
        CHECK(f.url.starts_with("https://raw.githubusercontent.com/knative/"));
      }
      named.insert(f.name);
    }
  }
  // Every corpus release file but Build 0.3.0 (Serving 0.6's third-party copy, superseded by Build 0.6.0)
  // goes into some profile.
  for (const auto& [file, sum] : sums)
    if (file != "knative-build-v0.3.0.yaml") CHECK(named.count(file) == 1);
}

TEST_CASE("an unknown profile name lists the known ones", "[release_profile]") {
  Result<ReleaseProfile> p = LoadReleaseProfile("knative-9.9");
  REQUIRE_FALSE(p.ok());
  CHECK(p.status().code() == StatusCode::kNotFound);
  CHECK(p.status().message() ==
        "unknown profile 'knative-9.9'; known: knative-0.6-full, knative-0.6-istio-1.1, knative-1.23-istio, "
        "knative-1.23-kourier (or give the path of a profile file)");
}

TEST_CASE("a path loads a user's profile, and a missing one is named", "[release_profile]") {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / ("ferry-profile-test-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "mine.yaml").string();
  std::ofstream(path) << kMinimal;
  Result<ReleaseProfile> p = LoadReleaseProfile(path);
  INFO(p.status().ToString());
  REQUIRE(p.ok());
  CHECK(p->name == "mine");
  CHECK(p->origin == path);
  CHECK(p->files.size() == 1);

  Result<ReleaseProfile> missing = LoadReleaseProfile((dir / "nope.yaml").string());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find((dir / "nope.yaml").string()) != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a minimal profile parses with defaults", "[release_profile]") {
  Result<ReleaseProfile> p = ParseReleaseProfile(kMinimal, "x.yaml");
  REQUIRE(p.ok());
  CHECK(p->description.empty());
  CHECK(p->samples.empty());
  CHECK_FALSE(p->networking_preinstalled);
  CHECK(p->files[0].sha256 == "914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c");
}

TEST_CASE("a sha256 not known in advance is empty or absent", "[release_profile]") {
  for (const char* value : {"    sha256: \"\"\n", "    sha256:\n", ""}) {
    std::string text = Replace(kMinimal, "    sha256: 914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c\n", value);
    Result<ReleaseProfile> p = ParseReleaseProfile(text, "x.yaml");
    INFO(text << p.status().ToString());
    REQUIRE(p.ok());
    CHECK_FALSE(p->files[0].sha256_known());
  }
}

TEST_CASE("a sha256 may carry the sha256: prefix and upper case", "[release_profile]") {
  std::string text = Replace(kMinimal, "914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c",
                             "sha256:914844B3A8EEA2AE240E058FCFFD63BE9271377802CC1D6409E89B00B7DB946C");
  Result<ReleaseProfile> p = ParseReleaseProfile(text, "x.yaml");
  REQUIRE(p.ok());
  CHECK(p->files[0].sha256 == "914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c");
}

TEST_CASE("ToJson is a profile that parses back to the same profile", "[release_profile]") {
  for (const std::string& name : BuiltinProfileNames()) {
    Result<ReleaseProfile> p = BuiltinReleaseProfile(name);
    REQUIRE(p.ok());
    Result<ReleaseProfile> again = ParseReleaseProfile(p->ToJson(), "lock.json");
    INFO(p->ToJson() << again.status().ToString());
    REQUIRE(again.ok());
    CHECK(again->name == p->name);
    CHECK(again->description == p->description);
    CHECK(again->networking_layer == p->networking_layer);
    CHECK(again->networking_preinstalled == p->networking_preinstalled);
    CHECK(again->service_api_version == p->service_api_version);
    CHECK(again->samples == p->samples);
    REQUIRE(again->files.size() == p->files.size());
    for (size_t i = 0; i < p->files.size(); ++i) {
      CHECK(again->files[i].name == p->files[i].name);
      CHECK(again->files[i].url == p->files[i].url);
      CHECK(again->files[i].sha256 == p->files[i].sha256);
    }
  }
}

TEST_CASE("broken profiles name the file, the line and the field", "[release_profile]") {
  SECTION("a misspelt key") {
    std::string e = ErrorOf(Replace(kMinimal, "    sha256:", "    sha265:"));
    CHECK(e == "my-profile.yaml:8: files[0].sha265: unknown key (known: name, sha256, url)");
  }
  SECTION("a sum that is not 64 hex digits") {
    std::string e = ErrorOf(Replace(kMinimal, "914844b3a8eea2ae240e058fcffd63be9271377802cc1d6409e89b00b7db946c", "abc"));
    CHECK(e == "my-profile.yaml:8: files[0].sha256: expected 64 hex digits, or \"\" when not known in advance; got 'abc'");
  }
  SECTION("no files") {
    std::string text = kMinimal;
    text = text.substr(0, text.find("files:"));
    CHECK(ErrorOf(text).find("my-profile.yaml:1: files: missing") == 0);
  }
  SECTION("an empty file list") {
    std::string text = kMinimal;
    text = text.substr(0, text.find("files:")) + "files: []\n";
    CHECK(ErrorOf(text) == "my-profile.yaml:5: files: expected a non-empty list of {name, url, sha256}");
  }
  SECTION("a file name with a directory") {
    std::string e = ErrorOf(Replace(kMinimal, "- name: a.yaml", "- name: ../a.yaml"));
    CHECK(e.find("my-profile.yaml:6: files[0].name: '../a.yaml' must be a plain file name") == 0);
  }
  SECTION("the same file twice") {
    std::string text = std::string(kMinimal) + "  - name: a.yaml\n    url: https://example.com/b.yaml\n";
    CHECK(ErrorOf(text) == "my-profile.yaml:9: files[1].name: 'a.yaml' is named twice");
  }
  SECTION("a URL that is not http or https") {
    std::string e = ErrorOf(Replace(kMinimal, "https://example.com/a.yaml", "ftp://example.com/a.yaml"));
    CHECK(e == "my-profile.yaml:7: files[0].url: 'ftp://example.com/a.yaml' is not an http or https URL");
  }
  SECTION("a file without url") {
    std::string e = ErrorOf(Replace(kMinimal, "    url: https://example.com/a.yaml\n", ""));
    CHECK(e == "my-profile.yaml:6: files[0].url: missing");
  }
  SECTION("an unknown Service apiVersion") {
    std::string e = ErrorOf(Replace(kMinimal, "serving.knative.dev/v1", "serving.knative.dev/v2"));
    CHECK(e.find("my-profile.yaml:4: serviceApiVersion: 'serving.knative.dev/v2' is not a Knative Service apiVersion") == 0);
  }
  SECTION("preinstalled that is not a boolean") {
    std::string e = ErrorOf(Replace(kMinimal, "  layer: kourier\n", "  layer: kourier\n  preinstalled: maybe\n"));
    CHECK(e == "my-profile.yaml:4: networking.preinstalled: expected true or false");
  }
  SECTION("no networking layer") {
    std::string e = ErrorOf(Replace(kMinimal, "networking:\n  layer: kourier\n", ""));
    CHECK(e.find("networking: missing") != std::string::npos);
  }
  SECTION("a key given twice") {
    std::string e = ErrorOf(Replace(kMinimal, "name: mine\n", "name: mine\nname: yours\n"));
    CHECK(e == "my-profile.yaml:2: name: given twice");
  }
  SECTION("a name with capitals") {
    std::string e = ErrorOf(Replace(kMinimal, "name: mine\n", "name: Mine\n"));
    CHECK(e.find("my-profile.yaml:1: name: 'Mine' must be lowercase") == 0);
  }
  SECTION("not YAML at all") {
    std::string e = ErrorOf("files: [a, b\n");
    CHECK(e.find("my-profile.yaml:") == 0);
    CHECK(e.find("not valid YAML") != std::string::npos);
  }
  SECTION("not a mapping") {
    CHECK(ErrorOf("- a\n- b\n").find("my-profile.yaml:1: expected a mapping") == 0);
  }
}

}  // namespace ferry
