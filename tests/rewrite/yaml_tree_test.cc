// Specification of YamlTree: every node's byte range is exact (libyaml counts characters, the tree
// counts bytes), nulls and aliases read as yaml-cpp's YAML::Load read them, and a malformed
// document is refused with the place and libyaml's reason.
#include "rewrite/yaml_tree.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace ferry {
namespace {

using Type = YamlNode::Type;

YamlTree Parse(const std::string& text) {
  Result<YamlTree> tree = YamlTree::Parse(text, [](size_t at) { return "@" + std::to_string(at); });
  INFO(tree.status().ToString());
  REQUIRE(tree.ok());
  return std::move(tree).value();
}

// The bytes a node spans.
std::string Bytes(const std::string& text, const YamlNode& node) {
  return text.substr(node.begin, node.end - node.begin);
}

// The value of `key` in the root mapping.
const YamlNode& Get(const YamlTree& tree, std::string_view key) {
  std::span<const uint32_t> children = tree.Children(*tree.Root());
  for (size_t i = 0; i + 1 < children.size(); i += 2) {
    const YamlNode& k = tree.Node(children[i]);
    if (k.type == Type::kScalar && tree.Value(k) == key) return tree.Node(children[i + 1]);
  }
  FAIL("no key " << key);
  return *tree.Root();
}

TEST_CASE("every scalar spans exactly its bytes, after multi-byte characters too") {
  // 2-, 3- and 4-byte characters before, inside and between the nodes.
  const std::string text =
      "\xC3\xA9: \"caf\xC3\xA9 \xE6\x97\xA5\"\n"
      "b: \xF0\x9F\x9A\xA2 plain  # \xE6\x97\xA5 comment\n"
      "c: &x !!str 'it''s \xC3\xA9'\n"
      "d: |\n  \xE6\x97\xA5 line\n\n"
      "e: [\xC3\xA9, {f: \xE6\x97\xA5}]\n";
  YamlTree tree = Parse(text);
  CHECK(Bytes(text, Get(tree, "\xC3\xA9")) == "\"caf\xC3\xA9 \xE6\x97\xA5\"");
  CHECK(Get(tree, "\xC3\xA9").style == '"');
  CHECK(tree.Value(Get(tree, "\xC3\xA9")) == "caf\xC3\xA9 \xE6\x97\xA5");
  CHECK(Bytes(text, Get(tree, "b")) == "\xF0\x9F\x9A\xA2 plain");
  CHECK(Bytes(text, Get(tree, "c")) == "&x !!str 'it''s \xC3\xA9'");
  CHECK(tree.Value(Get(tree, "c")) == "it's \xC3\xA9");
  CHECK(Get(tree, "c").style == '\'');
  // A block scalar runs from its header to the end of its last line (and the blank lines after).
  CHECK(Bytes(text, Get(tree, "d")) == "|\n  \xE6\x97\xA5 line\n\n");
  CHECK(Get(tree, "d").style == '|');
  CHECK(Bytes(text, Get(tree, "e")) == "[\xC3\xA9, {f: \xE6\x97\xA5}]");
  const YamlNode& e = Get(tree, "e");
  REQUIRE(e.type == Type::kSequence);
  REQUIRE(tree.Children(e).size() == 2);
  CHECK(Bytes(text, tree.Node(tree.Children(e)[1])) == "{f: \xE6\x97\xA5}");
}

TEST_CASE("offsets count a byte order mark and CRLF line endings") {
  const std::string text = "\xEF\xBB\xBFkind: Pod\r\nname: \"\xC3\xA9\"\r\n";
  YamlTree tree = Parse(text);
  CHECK(tree.Root()->begin == 3);
  CHECK(Bytes(text, Get(tree, "kind")) == "Pod");
  CHECK(Bytes(text, Get(tree, "name")) == "\"\xC3\xA9\"");
}

TEST_CASE("plain nulls are null nodes, quoted or tagged ones are strings") {
  YamlTree tree = Parse("a:\nb: ~\nc: null\nd: NULL\ne: 'null'\nf: !!str null\ng: nil\n");
  for (const char* key : {"a", "b", "c", "d"}) {
    INFO(key);
    CHECK(Get(tree, key).type == Type::kNull);
  }
  for (const char* key : {"e", "f", "g"}) {
    INFO(key);
    CHECK(Get(tree, key).type == Type::kScalar);
  }
}

TEST_CASE("an alias is the anchored node itself") {
  YamlTree tree = Parse("a: &img gcr.io/a/b:1\nb: *img\nc: &m {x: 1}\nd: [*m, *img]\n");
  const YamlNode& a = Get(tree, "a");
  CHECK(&Get(tree, "b") == &a);
  const YamlNode& d = Get(tree, "d");
  REQUIRE(tree.Children(d).size() == 2);
  CHECK(&tree.Node(tree.Children(d)[0]) == &Get(tree, "c"));
  CHECK(&tree.Node(tree.Children(d)[1]) == &a);
}

TEST_CASE("empty documents have no root; only the first document counts") {
  for (const std::string text : {"", "# only a comment\n"}) CHECK(Parse(text).Root() == nullptr);
  CHECK(Parse("---\n").Root()->type == Type::kNull);
  YamlTree first = Parse("a: 1\n...\n--- [not, read]\n");
  CHECK(first.Root()->type == Type::kMapping);
}

TEST_CASE("malformed YAML names the place as bytes and libyaml's reason") {
  // "\xC3\xA9" is one character but two bytes: the error is at byte 14 (character 13), the
  // sequence starts at byte 11 (character 10).
  Result<YamlTree> tree = YamlTree::Parse("a: \"\xC3\xA9\"\nb: [c\n",
                                          [](size_t at) { return "@" + std::to_string(at); });
  REQUIRE_FALSE(tree.ok());
  CHECK(tree.status().code() == StatusCode::kInvalidArgument);
  CHECK(tree.status().message() ==
        "@14: malformed YAML: did not find expected ',' or ']', while parsing a flow sequence that "
        "starts at @11");
}

}  // namespace
}  // namespace ferry
