// Specification of FindImages, part 2: every occurrence points at the exact bytes of its
// reference (offset, line, column), whatever the scalar style, line endings or anchors.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rewrite/image_finder.h"

namespace ferry {
namespace {

std::vector<ImageOccurrence> Find(const YamlDocument& doc) {
  Result<std::vector<ImageOccurrence>> found = FindImages(doc, "test.yaml");
  INFO(found.status().ToString());
  REQUIRE(found.ok());
  return *found;
}

std::vector<ImageOccurrence> Find(const std::string& yaml) { return Find(YamlDocument{yaml, 0, 1, 0}); }

struct PositionCase {
  std::string name;
  std::string yaml;
  std::string text;  // the one reference expected
  int line, column;
};

TEST_CASE("the offset, line and column of an occurrence are those of its bytes") {
  const std::string pod = "kind: Pod\nspec:\n  containers:\n";
  const std::vector<PositionCase> cases = {
      {"plain", pod + "  - image: gcr.io/a/b:1\n", "gcr.io/a/b:1", 4, 12},
      {"double-quoted: inside the quotes", pod + "  - image: \"gcr.io/a/b:1\"\n", "gcr.io/a/b:1", 4, 13},
      {"single-quoted: inside the quotes", pod + "  - image: 'gcr.io/a/b:1'\n", "gcr.io/a/b:1", 4, 13},
      {"after an anchor and a tag", pod + "  - image: &img !!str gcr.io/a/b:1\n", "gcr.io/a/b:1", 4, 23},
      {"not in a trailing comment", pod + "  - image: gcr.io/a/b:1 # was gcr.io/a/b:1\n",
       "gcr.io/a/b:1", 4, 12},
      {"not in an earlier comment", "# image: gcr.io/a/b:1\n" + pod + "  - image: gcr.io/a/b:1\n",
       "gcr.io/a/b:1", 5, 12},
      {"flow collections", "kind: Pod\nspec: {containers: [{name: a, image: \"gcr.io/a/b:1\"}]}\n",
       "gcr.io/a/b:1", 2, 39},
      {"the value of -flag=REF", pod + "  - args: [\"-image=gcr.io/a/b:1\"]\n", "gcr.io/a/b:1", 4, 20},
      {"literal block, not in the header's comment",
       "kind: ConfigMap\ndata:\n  config: | # gcr.io/a/b:1\n    image: gcr.io/a/b:1\n",
       "gcr.io/a/b:1", 4, 12},
      {"folded block", "kind: ConfigMap\ndata:\n  config: >\n    uses\n    gcr.io/a/b:1 daily\n",
       "gcr.io/a/b:1", 5, 5},
      {"multi-line plain scalar", "kind: ConfigMap\ndata:\n  note: first line\n    then gcr.io/a/b:1\n",
       "gcr.io/a/b:1", 4, 10},
      {"double-quoted text with escapes elsewhere",
       "kind: ConfigMap\ndata:\n  note: \"tab\\there gcr.io/a/b:1\\n\"\n", "gcr.io/a/b:1", 3, 20},
      {"end of a sentence", "kind: ConfigMap\ndata:\n  note: |\n    Pull gcr.io/a/b:1.\n",
       "gcr.io/a/b:1", 4, 10},
      {"CRLF line endings", "kind: Pod\r\nspec:\r\n  containers:\r\n  - image: gcr.io/a/b:1\r\n",
       "gcr.io/a/b:1", 4, 12},
      {"CRLF in a block scalar",
       "kind: ConfigMap\r\ndata:\r\n  config: |\r\n    x: 1\r\n    image: \"gcr.io/a/b:1\"\r\n",
       "gcr.io/a/b:1", 5, 13},
      // libyaml counts characters; offsets and columns here count bytes.
      {"after two-, three- and four-byte characters on the same line",
       "kind: ConfigMap\ndata:\n  note: \"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x9A\xA2 gcr.io/a/b:1\"\n",
       "gcr.io/a/b:1", 3, 25},
      {"after multi-byte characters in earlier lines and keys",
       "kind: Pod\nmetadata:\n  annotations: {\xC3\xA9t\xC3\xA9: \"\xE6\x97\xA5\xE6\x9C\xAC\"}\n"
       "spec:\n  containers:\n  - name: \xF0\x9F\x9A\xA2\n    image: gcr.io/a/b:1\n",
       "gcr.io/a/b:1", 7, 12},
      {"after a byte order mark (columns count its bytes)",
       "\xEF\xBB\xBF{kind: Pod, spec: {containers: [{image: gcr.io/a/b:1}]}}\n", "gcr.io/a/b:1", 1, 44},
  };
  for (const PositionCase& c : cases) {
    SECTION(c.name) {
      std::vector<ImageOccurrence> found = Find(c.yaml);
      REQUIRE(found.size() == 1);
      const ImageOccurrence& o = found[0];
      CHECK(o.text == c.text);
      CHECK(c.yaml.substr(o.offset, o.text.size()) == c.text);
      CHECK(o.line == c.line);
      CHECK(o.column == c.column);
      // Line and column say the same as the offset.
      size_t line_start = 0;
      for (int line = 1; line < o.line; ++line) line_start = c.yaml.find('\n', line_start) + 1;
      CHECK(line_start + o.column - 1 == o.offset);
    }
  }
}

TEST_CASE("offsets and lines are in the file, not the document") {
  std::string yaml = "---\nkind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n";
  std::vector<ImageOccurrence> found = Find(YamlDocument{yaml, 1000, 41, 3});
  REQUIRE(found.size() == 1);
  CHECK(found[0].offset == 1000 + yaml.find("gcr.io"));
  CHECK(found[0].line == 45);
  CHECK(found[0].column == 12);
}

TEST_CASE("an anchored reference used through aliases is reported once, at the anchor") {
  SECTION("a scalar anchor: the strongest use decides confidence and path") {
    std::string yaml =
        "kind: Pod\nx-image: &img gcr.io/a/b:1\nspec:\n  containers:\n  - image: *img\n"
        "  initContainers:\n  - image: *img\n";
    std::vector<ImageOccurrence> found = Find(yaml);
    REQUIRE(found.size() == 1);
    CHECK(found[0].offset == yaml.find("gcr.io"));
    CHECK(found[0].line == 2);
    CHECK(found[0].confidence == Confidence::kCertain);
    CHECK(found[0].why == "container image");
    CHECK(found[0].yaml_path == "spec.containers[0].image");
  }
  SECTION("an anchored container reused in another list") {
    std::string yaml =
        "kind: Pod\nspec:\n  containers:\n  - &c {name: a, image: gcr.io/a/b:1}\n"
        "  initContainers:\n  - *c\n";
    std::vector<ImageOccurrence> found = Find(yaml);
    REQUIRE(found.size() == 1);
    CHECK(found[0].offset == yaml.find("gcr.io"));
    CHECK(found[0].yaml_path == "spec.containers[0].image");
  }
}

}  // namespace
}  // namespace ferry
