// Specification of ManifestScan and ApplyEdits: one scan, then a byte copy with the replacements
// spliced in, writes what a parsing rewrite (RewriteStream) writes; and a file that changed
// between the scan and the write is refused, its destination left alone.
#include "rewrite/manifest_scan.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "rewrite/manifest_rewriter.h"
#include "tests/corpus.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

// A fresh directory for one test, removed at the end.
struct TempDir {
  fs::path path = fs::temp_directory_path() / ("ferry-scan-test-" + std::to_string(getpid()));
  TempDir() {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

void WriteFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

const std::string kMarker = "mirror.example.com/ferry-test/";

// Every text becomes kMarker + text, except those in `keep`.
std::vector<std::optional<std::string>> Replacements(const ManifestScan& scan,
                                                     const std::string& keep = "") {
  std::vector<std::optional<std::string>> out;
  for (const ManifestScan::Text& t : scan.texts()) {
    out.push_back(t.text == keep ? std::nullopt : std::optional<std::string>(kMarker + t.text));
  }
  return out;
}

TEST_CASE("a scan and a byte copy write what a parsing rewrite writes, for every corpus file") {
  TempDir temp;
  ManifestSet set;
  for (const auto& entry : fs::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".yaml") continue;
    std::string name = entry.path().filename().string();
    set.files.push_back({entry.path().string(), name, name});
  }
  REQUIRE(set.files.size() >= 10);
  int seen = 0;
  Result<ManifestScan> scan = ManifestScan::Scan(set, [&](const ImageOccurrence&) { ++seen; });
  INFO(scan.status().ToString());
  REQUIRE(scan.ok());
  CHECK(seen > 50);  // 87 in the corpus as it is
  std::vector<std::optional<std::string>> replacements = Replacements(*scan);
  for (size_t i = 0; i < set.files.size(); ++i) {
    const ManifestInput& file = set.files[i];
    INFO(file.display);
    std::string input = ReadFile(file.path);
    CHECK(scan->SizeOf(i) == input.size());
    fs::path out = temp.path / file.relative;
    Result<int> applied =
        ApplyEdits(file, out.string(), scan->SizeOf(i), scan->EditsFor(i, replacements));
    REQUIRE(applied.ok());

    std::istringstream in(input);
    std::ostringstream expected;
    Result<int> replaced = RewriteStream(in, expected, file.display, [](const ImageOccurrence& o) {
      return std::optional<std::string>(kMarker + o.text);
    });
    REQUIRE(replaced.ok());
    CHECK(*applied == *replaced);
    CHECK(ReadFile(out) == expected.str());
  }
}

TEST_CASE("texts without a replacement stay as they are") {
  TempDir temp;
  std::string text =
      "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n  - image: alpine:3.6\n"
      "---\nkind: Pod\nspec:\n  containers:\n  - image: \"gcr.io/a/b:1\"\n";
  WriteFile(temp.path / "in.yaml", text);
  ManifestSet set;
  set.files.push_back({(temp.path / "in.yaml").string(), "in.yaml", "in.yaml"});
  Result<ManifestScan> scan = ManifestScan::Scan(set, [](const ImageOccurrence&) {});
  REQUIRE(scan.ok());
  REQUIRE(scan->texts().size() == 2);  // distinct spellings
  std::vector<std::optional<std::string>> replacements = Replacements(*scan, "alpine:3.6");
  fs::path out = temp.path / "out.yaml";
  Result<int> applied =
      ApplyEdits(set.files[0], out.string(), scan->SizeOf(0), scan->EditsFor(0, replacements));
  REQUIRE(applied.ok());
  CHECK(*applied == 2);
  std::string want = text;
  for (size_t at = 0; (at = want.find("gcr.io/a/b:1", at)) != std::string::npos;) {
    want.insert(at, kMarker);
    at += kMarker.size() + 12;
  }
  CHECK(ReadFile(out) == want);
}

TEST_CASE("a file that changed since the scan is refused and nothing is written") {
  TempDir temp;
  const std::string text = "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n";
  fs::path in = temp.path / "in.yaml";
  WriteFile(in, text);
  ManifestSet set;
  set.files.push_back({in.string(), "in.yaml", "in.yaml"});
  Result<ManifestScan> scan = ManifestScan::Scan(set, [](const ImageOccurrence&) {});
  REQUIRE(scan.ok());
  std::vector<std::optional<std::string>> replacements = Replacements(*scan);
  fs::path out = temp.path / "out.yaml";
  WriteFile(out, "previous output\n");

  struct Change {
    std::string name, text, message;
  };
  const std::vector<Change> changes = {
      {"the reference edited", "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/c:1\n",
       "in.yaml: changed since it was scanned (\"gcr.io/a/b:1\" is no longer at byte 41)"},
      {"a line added before it", "# new\n" + text, "in.yaml: changed since it was scanned"},
      {"shortened", text.substr(0, 30),
       "in.yaml: changed since it was scanned (it now ends at byte 30)"},
      {"lengthened", text + "# more\n",
       "in.yaml: changed since it was scanned (it now has more than 54 bytes)"},
  };
  for (const Change& change : changes) {
    SECTION(change.name) {
      WriteFile(in, change.text);
      Result<int> applied =
          ApplyEdits(set.files[0], out.string(), scan->SizeOf(0), scan->EditsFor(0, replacements));
      REQUIRE_FALSE(applied.ok());
      CHECK(applied.status().code() == StatusCode::kIo);
      CHECK_THAT(applied.status().message(), Catch::StartsWith(change.message));
      CHECK(ReadFile(out) == "previous output\n");
      // No temporary file is left behind either.
      int entries = 0;
      for ([[maybe_unused]] const auto& entry : fs::directory_iterator(temp.path)) ++entries;
      CHECK(entries == 2);
    }
  }
}

}  // namespace
}  // namespace ferry
