// Rewriting the real release files changes the real references and nothing else: byte for byte,
// and scalar for scalar once parsed, judged against the ground truth of corpus_truth.h (worked
// out by reading the files), not against what the finder reports.
#include <yaml-cpp/yaml.h>

#include <catch2/catch.hpp>
#include <set>
#include <sstream>

#include "mirror/image_reference.h"
#include "rewrite/manifest_rewriter.h"
#include "rewrite/reference_text.h"
#include "tests/corpus.h"
#include "tests/rewrite/corpus_truth.h"

using namespace ferry;

namespace {

// A marker no release file contains, so the rewrite can be undone by deleting it.
const std::string kMarker = "mirror.example.com/ferry-test/";

std::string Unmark(std::string text) {
  for (size_t at; (at = text.find(kMarker)) != std::string::npos;) text.erase(at, kMarker.size());
  return text;
}

// The references the rewrite put into `scalar`: every marked word, normalised.
std::vector<std::string> MarkedReferences(const std::string& scalar) {
  std::vector<std::string> refs;
  for (size_t at = scalar.find(kMarker); at != std::string::npos; at = scalar.find(kMarker, at + 1)) {
    size_t end = at + kMarker.size();
    while (end < scalar.size() && IsReferenceChar(scalar[end])) ++end;
    while (scalar[end - 1] == '.' || scalar[end - 1] == ':') --end;  // sentence punctuation
    std::string word = scalar.substr(at + kMarker.size(), end - at - kMarker.size());
    Result<ImageReference> ref = ImageReference::Parse(word);
    refs.push_back(ref.ok() ? ref->String() : "(not a reference) " + word);
  }
  return refs;
}

struct Comparison {
  int scalars = 0, changed = 0;
};

// Walks `input` and `output` side by side: same shape, same keys, and every scalar either
// unchanged or changed only by references of the ground truth (`images`).
void Compare(const YAML::Node& input, const YAML::Node& output, const std::set<std::string>& images,
             const std::string& where, Comparison& result) {
  INFO(where);
  REQUIRE(input.Type() == output.Type());
  REQUIRE(input.Tag() == output.Tag());
  switch (input.Type()) {
    case YAML::NodeType::Scalar: {
      ++result.scalars;
      if (input.Scalar() == output.Scalar()) break;
      ++result.changed;
      CHECK(Unmark(output.Scalar()) == input.Scalar());
      for (const std::string& ref : MarkedReferences(output.Scalar())) {
        INFO("rewritten in " << where << ": " << ref);
        CHECK(images.count(ref) == 1);
      }
      break;
    }
    case YAML::NodeType::Sequence:
      REQUIRE(input.size() == output.size());
      for (size_t i = 0; i < input.size(); ++i) Compare(input[i], output[i], images, where + "[" + std::to_string(i) + "]", result);
      break;
    case YAML::NodeType::Map: {
      REQUIRE(input.size() == output.size());
      auto in = input.begin();
      auto out = output.begin();
      for (; in != input.end(); ++in, ++out) {
        REQUIRE(in->first.Scalar() == out->first.Scalar());
        Compare(in->second, out->second, images, where + "." + in->first.Scalar(), result);
      }
      break;
    }
    default:
      break;
  }
}

}  // namespace

TEST_CASE("rewriting a release file changes the real references and nothing else", "[rewrite][corpus]") {
  for (const CorpusFile& truth : GroundTruth()) {
    SECTION(truth.name) {
      const std::string input = ReadFile(CorpusDir() / truth.name);
      std::istringstream in(input);
      std::ostringstream out;
      Result<int> replaced = RewriteStream(in, out, truth.name, [](const ImageOccurrence& o) {
        return std::optional<std::string>(kMarker + o.text);
      });
      INFO(replaced.status().ToString());
      REQUIRE(replaced.ok());
      const std::string output = out.str();
      INFO(truth.name << ": " << *replaced << " references replaced");
      CHECK(Unmark(output) == input);  // byte for byte, once the new prefix is taken away

      std::vector<YAML::Node> before = YAML::LoadAll(input);
      std::vector<YAML::Node> after = YAML::LoadAll(output);
      REQUIRE(before.size() == after.size());
      Comparison result;
      for (size_t i = 0; i < before.size(); ++i)
        Compare(before[i], after[i], truth.images, truth.name + " document " + std::to_string(i), result);
      CHECK(result.scalars > 0);
      CHECK((result.changed > 0) == !truth.images.empty());
    }
  }
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
