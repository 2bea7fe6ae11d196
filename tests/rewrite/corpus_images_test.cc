// The image finder on the real release files: it must find exactly the ground truth of
// corpus_truth.h, and every occurrence it reports must point at its own bytes in the file.
#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/corpus.h"
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "rewrite/image_finder.h"
#include "rewrite/yaml_stream.h"
#include "tests/rewrite/corpus_truth.h"

namespace ferry {
namespace {

std::set<std::string> Union(std::initializer_list<const char*> names) {
  std::set<std::string> all;
  for (const CorpusFile& file : GroundTruth()) {
    for (const char* name : names) {
      if (file.name == name) all.insert(file.images.begin(), file.images.end());
    }
  }
  return all;
}

// "missing: ...; unexpected: ..." for a failure message.
std::string Diff(const std::set<std::string>& want, const std::set<std::string>& got) {
  std::ostringstream out;
  for (const std::string& s : want) {
    if (!got.count(s)) out << "\n  missing:    " << s;
  }
  for (const std::string& s : got) {
    if (!want.count(s)) out << "\n  unexpected: " << s;
  }
  return out.str();
}

struct Found {
  std::set<std::string> images;    // normalised
  std::set<std::string> optional;  // those whose every occurrence is optional
};

// Runs the finder over every document of `bytes`, checking that each occurrence's offset, line
// and column point at its text in `bytes`.
Found FindAll(const std::string& bytes, const std::string& name) {
  std::istringstream in(bytes);
  std::map<std::string, bool> all_optional;  // reference -> every occurrence optional
  Status status = ForEachDocument(in, [&](const YamlDocument& doc) {
    Result<std::vector<ImageOccurrence>> found = FindImages(doc, name);
    if (!found.ok()) return found.status();
    for (const ImageOccurrence& o : *found) {
      INFO(name << ":" << o.line << ":" << o.column << " " << o.yaml_path);
      CHECK(bytes.substr(o.offset, o.text.size()) == o.text);
      size_t line_start = bytes.rfind('\n', o.offset - 1);
      line_start = line_start == std::string::npos ? 0 : line_start + 1;
      CHECK(o.column == static_cast<int>(o.offset - line_start) + 1);
      CHECK(o.line == 1 + std::count(bytes.begin(), bytes.begin() + o.offset, '\n'));
      bool optional = o.confidence == Confidence::kOptional;
      auto [it, inserted] = all_optional.emplace(o.ref.String(), optional);
      if (!inserted) it->second = it->second && optional;
    }
    return Status::Ok();
  });
  INFO(status.ToString());
  REQUIRE(status.ok());
  Found found;
  for (const auto& [ref, only_optional] : all_optional) {
    found.images.insert(ref);
    if (only_optional) found.optional.insert(ref);
  }
  return found;
}

TEST_CASE("the ground truth agrees with the counts in notes/knative.md") {
  std::set<std::string> stack = Union({"knative-serving-v0.6.0-serving.yaml",
                                       "knative-build-v0.6.0-build.yaml",
                                       "knative-eventing-v0.6.0-release.yaml",
                                       "knative-eventing-sources-v0.6.0.yaml",
                                       "knative-serving-v0.6.0-monitoring.yaml"});
  CHECK(Union({"knative-serving-v0.6.0-serving.yaml"}).size() == 8);
  CHECK(stack.size() == 35);
  CHECK(std::count_if(stack.begin(), stack.end(), [](const std::string& s) {
          std::string host = s.substr(0, s.find('/'));
          return host == "gcr.io" || host.ends_with(".gcr.io");
        }) == 27);
  std::set<std::string> with_istio = stack;
  std::set<std::string> istio = Union({"istio-1.1.3.yaml"});
  with_istio.insert(istio.begin(), istio.end());
  CHECK(with_istio.size() == 44);
  CHECK(Union({"knative-serving-v1.23.0-serving-core.yaml", "knative-serving-v1.23.0-serving-hpa.yaml",
               "knative-serving-v1.23.0-serving-post-install-jobs.yaml", "net-istio-v1.23.yaml"})
            .size() == 10);
}

TEST_CASE("the finder finds exactly the ground-truth images in every corpus file") {
  std::filesystem::path dir = CorpusDir();
  INFO("corpus directory " << dir << " (set FERRY_CORPUS to the release files)");
  REQUIRE(std::filesystem::is_directory(dir));

  std::set<std::string> on_disk, in_table;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".yaml") on_disk.insert(entry.path().filename().string());
  }
  for (const CorpusFile& file : GroundTruth()) in_table.insert(file.name);
  INFO("corpus files vs ground-truth table:" << Diff(in_table, on_disk));
  REQUIRE(on_disk == in_table);

  for (const CorpusFile& truth : GroundTruth()) {
    SECTION(truth.name) {
      std::string bytes = ReadFile(dir / truth.name);
      Found found = FindAll(bytes, truth.name);
      INFO("images of " << truth.name << ":" << Diff(truth.images, found.images));
      CHECK(found.images == truth.images);
      INFO("optional images of " << truth.name << ":" << Diff(truth.optional, found.optional));
      CHECK(found.optional == truth.optional);

      // The same file with CRLF line endings: same images, offsets still on their bytes.
      std::string crlf;
      for (char c : bytes) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
      Found in_crlf = FindAll(crlf, truth.name + " (CRLF)");
      CHECK(in_crlf.images == truth.images);
      CHECK(in_crlf.optional == truth.optional);
    }
  }
}

}  // namespace
}  // namespace ferry
