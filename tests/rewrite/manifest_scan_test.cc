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
        ApplyEdits(file, out.string(), scan->SizeOf(i), scan->EditsFor(i, replacements, true));
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
      ApplyEdits(set.files[0], out.string(), scan->SizeOf(0), scan->EditsFor(0, replacements, true));
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
          ApplyEdits(set.files[0], out.string(), scan->SizeOf(0), scan->EditsFor(0, replacements, true));
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

namespace ferry {
namespace {

ManifestSet OneFile(const TempDir& temp, const std::string& text) {
  WriteFile(temp.path / "in.yaml", text);
  ManifestSet set;
  set.files.push_back({(temp.path / "in.yaml").string(), "in.yaml", "in.yaml"});
  return set;
}

TEST_CASE("commented examples are rewritten only when asked, whatever else the run holds") {
  TempDir temp;
  // The same reference in use and in a commented example: only the one in use moves by default.
  ManifestSet set = OneFile(temp,
      "kind: Pod\nspec:\n  containers:\n  - image: k8s.gcr.io/fluentd:v2\n---\n"
      "kind: ConfigMap\ndata:\n  _example: |\n    # fluentd-sidecar-image: k8s.gcr.io/fluentd:v2\n");
  Result<ManifestScan> scan = ManifestScan::Scan(set, [](const ImageOccurrence&) {});
  REQUIRE(scan.ok());
  std::vector<std::optional<std::string>> replacements = Replacements(*scan);
  CHECK(scan->EditsFor(0, replacements, false).size() == 1);
  CHECK(scan->EditsFor(0, replacements, true).size() == 2);
}

TEST_CASE("templated references are seen by the scan but never edited") {
  TempDir temp;
  ManifestSet set = OneFile(temp,
      "kind: Pod\nspec:\n  containers:\n  - image: \"gcr.io/x/controller:{{ .Values.tag }}\"\n"
      "  - image: gcr.io/x/webhook:1\n");
  std::vector<std::string> templated;
  Result<ManifestScan> scan = ManifestScan::Scan(set, [&](const ImageOccurrence& o) {
    if (o.templated) templated.push_back(o.text);
  });
  REQUIRE(scan.ok());
  CHECK(templated == std::vector<std::string>{"gcr.io/x/controller:{{ .Values.tag }}"});
  REQUIRE(scan->texts().size() == 1);
  CHECK(scan->texts()[0].text == "gcr.io/x/webhook:1");
}

TEST_CASE("a replacement that is not a valid reference is refused with file:line:column") {
  TempDir temp;
  ManifestSet set = OneFile(temp, "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n");
  Result<ManifestScan> scan = ManifestScan::Scan(set, [](const ImageOccurrence&) {});
  REQUIRE(scan.ok());
  CHECK(scan->CheckEdits(Replacements(*scan), false).ok());
  for (std::string bad : {"mirror.example.com/a b:1", "Mirror.example.com/UPPER:1", "x:{{ .Values.tag }}", ""}) {
    INFO(bad);
    Status s = scan->CheckEdits({bad}, false);
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("in.yaml:4:12:"));
    CHECK_THAT(s.message(), Catch::Contains("nothing was written"));
  }
  CHECK(scan->CheckEdits({std::nullopt}, false).ok());  // nothing replaced, nothing to refuse
}

TEST_CASE("a replaced reference must stand alone before and after") {
  Surroundings alone = SurroundingsAt("image: gcr.io/a/b:1\n", 7, 12);
  CHECK_FALSE(SpliceProblem("gcr.io/a/b:1", "m.io/k/b:1", alone));
  // "controller" followed by ":{{": replacing it would write "...controller:1:{{".
  std::string joined = "image: gcr.io/a/controller:{{ .Values.tag }}";
  std::optional<std::string> problem =
      SpliceProblem("gcr.io/a/controller", "m.io/k/controller:1", SurroundingsAt(joined, 7, 19));
  REQUIRE(problem);
  CHECK_THAT(*problem, Catch::Contains("joined"));
  // Sentence punctuation after a reference in prose is fine.
  std::string prose = "pull gcr.io/a/b:1. Then";
  CHECK_FALSE(SpliceProblem("gcr.io/a/b:1", "m.io/k/b:1", SurroundingsAt(prose, 5, 12)));
  CHECK(SpliceProblem("not a ref", "m.io/k/b:1", alone));
}

TEST_CASE("RewriteStream refuses a replacement that is not a reference and never offers templated ones") {
  std::istringstream in(
      "kind: Pod\nspec:\n  containers:\n  - image: \"gcr.io/x/controller:{{ .Values.tag }}\"\n"
      "  - image: gcr.io/x/webhook:1\n");
  std::ostringstream out;
  std::vector<std::string> offered;
  Result<int> replaced = RewriteStream(in, out, "pod.yaml", [&](const ImageOccurrence& o) {
    offered.push_back(o.text);
    return std::optional<std::string>("mirror.example.com/k/webhook 1");
  });
  REQUIRE_FALSE(replaced.ok());
  CHECK_THAT(replaced.status().message(), Catch::Contains("pod.yaml:5:12: refusing to rewrite"));
  CHECK(offered == std::vector<std::string>{"gcr.io/x/webhook:1"});
}

}  // namespace
}  // namespace ferry
