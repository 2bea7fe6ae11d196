// Rewriting the real release files changes the references and nothing else: byte for byte, and
// document for document once parsed.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <sstream>

#include "rewrite/manifest_rewriter.h"
#include "tests/corpus.h"

using namespace ferry;

namespace {

// A marker no release file contains, so the rewrite can be undone by deleting it.
const std::string kMarker = "mirror.example.com/ferry-test/";

std::string Unmark(std::string text) {
  for (size_t at; (at = text.find(kMarker)) != std::string::npos;) text.erase(at, kMarker.size());
  return text;
}

// Compares two parsed documents; scalars of `output` are compared with the marker removed.
void RequireSameDocument(const YAML::Node& input, const YAML::Node& output, const std::string& where) {
  INFO(where);
  REQUIRE(input.Type() == output.Type());
  REQUIRE(input.Tag() == output.Tag());
  switch (input.Type()) {
    case YAML::NodeType::Scalar:
      REQUIRE(input.Scalar() == Unmark(output.Scalar()));
      break;
    case YAML::NodeType::Sequence:
      REQUIRE(input.size() == output.size());
      for (size_t i = 0; i < input.size(); ++i) RequireSameDocument(input[i], output[i], where + "[" + std::to_string(i) + "]");
      break;
    case YAML::NodeType::Map: {
      REQUIRE(input.size() == output.size());
      auto in = input.begin();
      auto out = output.begin();
      for (; in != input.end(); ++in, ++out) {
        REQUIRE(in->first.Scalar() == out->first.Scalar());
        RequireSameDocument(in->second, out->second, where + "." + in->first.Scalar());
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

TEST_CASE("rewriting a release file changes the references and nothing else", "[rewrite][corpus]") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    const std::string input = ReadFile(entry.path());
    std::istringstream in(input);
    std::ostringstream out;
    Result<int> replaced = RewriteStream(in, out, name, [](const ImageOccurrence& o) {
      return std::optional<std::string>(kMarker + o.text);
    });
    REQUIRE(replaced.ok());
    const std::string output = out.str();
    INFO(name << ": " << *replaced << " references replaced");
    CHECK(Unmark(output) == input);  // byte for byte, once the new prefix is taken away

    std::vector<YAML::Node> before = YAML::LoadAll(input);
    std::vector<YAML::Node> after = YAML::LoadAll(output);
    REQUIRE(before.size() == after.size());
    for (size_t i = 0; i < before.size(); ++i) RequireSameDocument(before[i], after[i], name + " document " + std::to_string(i));
  }
  CHECK(files >= 10);
}

TEST_CASE("a rewrite that maps nothing gives back the same bytes", "[rewrite]") {
  const std::string input = "# c\r\napiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: 'alpine:3.6'   \r\n---\r\n";
  std::istringstream in(input);
  std::ostringstream out;
  Result<int> replaced = RewriteStream(in, out, "pod.yaml", [](const ImageOccurrence&) { return std::nullopt; });
  REQUIRE(replaced.ok());
  CHECK(*replaced == 0);
  CHECK(out.str() == input);
}

TEST_CASE("malformed YAML stops the rewrite with file, line and column", "[rewrite]") {
  std::istringstream in("apiVersion: v1\nkind: Pod\nspec: [unclosed\n");
  std::ostringstream out;
  Result<int> replaced = RewriteStream(in, out, "bad.yaml", [](const ImageOccurrence&) { return std::nullopt; });
  REQUIRE_FALSE(replaced.ok());
  CHECK_THAT(replaced.status().message(), Catch::Contains("bad.yaml:"));
}
