// Specification of FindImages, part 3: what it refuses, and what the messages say (always the
// file, the line in the file and, where known, the column).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rewrite/image_finder.h"

namespace ferry {
namespace {

// Documents here start at line 10 of the file, so messages must add the document's first line.
Status FindError(const std::string& yaml) {
  Result<std::vector<ImageOccurrence>> found = FindImages(YamlDocument{yaml, 500, 10, 2}, "f.yaml");
  return found.ok() ? Status::Ok() : found.status();
}

struct ErrorCase {
  std::string name;
  std::string yaml;
  StatusCode code;
  std::string message;  // the whole message, or its start when it ends with "..."
};

TEST_CASE("malformed or unusable documents are refused with file:line:column and a reason") {
  const auto kInvalid = StatusCode::kInvalidArgument;
  const std::vector<ErrorCase> cases = {
      // The reasons are libyaml's, with what it was parsing and where that started.
      {"unclosed flow sequence", "kind: Pod\nspec: [\n", kInvalid,
       "f.yaml:12:1: malformed YAML: did not find expected node content, while parsing a flow node"},
      {"flow sequence without its end", "kind: Pod\nspec: [a, b\nstatus: {}\n", kInvalid,
       "f.yaml:12:7: malformed YAML: did not find expected ',' or ']', while parsing a flow sequence "
       "that starts at f.yaml:11:7"},
      {"bad indentation", "a:\n  b: c\n d: e\n", kInvalid,
       "f.yaml:12:2: malformed YAML: did not find expected key, while parsing a block mapping that "
       "starts at f.yaml:10:1"},
      {"a tab where indentation is expected", "a:\n\tb: c\n", kInvalid,
       "f.yaml:11:1: malformed YAML: found character that cannot start any token (a tab: YAML "
       "indents with spaces), while scanning for the next token"},
      {"unknown alias", "a: *nothing\n", kInvalid,
       "f.yaml:10:4: malformed YAML: alias *nothing names no anchor defined before it"},
      {"a control character", "kind: Pod\nmetadata: {name: a\x01}\n", kInvalid,
       "f.yaml:11:19: malformed YAML: control characters are not allowed (0x01)"},
      {"columns after multi-byte characters count bytes",
       "kind: ConfigMap\ndata: {note: \"\xC3\xA9t\xC3\xA9 \xE6\x97\xA5\", x: *nothing}\n", kInvalid,
       "f.yaml:11:30: malformed YAML: alias *nothing names no anchor defined before it"},
      {"libyaml's positions after multi-byte characters count bytes too",
       "kind: ConfigMap\ndata: {note: \"\xC3\xA9t\xC3\xA9 \xE6\x97\xA5\" x}\n", kInvalid,
       "f.yaml:11:26: malformed YAML: did not find expected ',' or '}', while parsing a flow mapping "
       "that starts at f.yaml:11:7"},
      {"a sequence is not an object", "- a\n- b\n", kInvalid,
       "f.yaml:10:1: document 3 is a sequence, not a mapping (a Kubernetes object)"},
      {"a scalar is not an object", "# note\njust text\n", kInvalid,
       "f.yaml:11:1: document 3 is a scalar, not a mapping (a Kubernetes object)"},
      {"duplicate key", "kind: Pod\nmetadata: {name: a}\nkind: Service\n", kInvalid,
       "f.yaml:12:1: duplicate mapping key \"kind\" (first at line 10)"},
      {"duplicate key in a nested mapping", "kind: Pod\nspec:\n  containers:\n  - image: a:1\n    image: b:1\n",
       kInvalid, "f.yaml:14:5: duplicate mapping key \"image\" (first at line 13)"},
      {"invalid byte", "kind: Pod\nmetadata: {name: caf\xE9}\n", kInvalid,
       "f.yaml:11:21: invalid UTF-8 (byte 0xE9); manifests must be UTF-8 text"},
      {"overlong encoding", "a: \xC0\xAF\n", kInvalid, "f.yaml:10:4: invalid UTF-8 (byte 0xC0); ..."},
      {"UTF-16 surrogate", "a: \xED\xA0\x80\n", kInvalid, "f.yaml:10:4: invalid UTF-8 (byte 0xED); ..."},
      {"truncated sequence at the end", "a: \xE2\x82", kInvalid, "f.yaml:10:4: invalid UTF-8 (byte 0xE2); ..."},
      {"lone continuation byte", "a: x\x80\n", kInvalid, "f.yaml:10:5: invalid UTF-8 (byte 0x80); ..."},
      {"reference written with an escape", "kind: Pod\nspec:\n  containers:\n  - image: \"gcr.io\\/a/b:1\"\n",
       StatusCode::kUnsupported,
       "f.yaml:13:12: image reference \"gcr.io/a/b:1\" is written with escapes or a line break inside "
       "a quoted string, so its bytes cannot be replaced in place; write it as plain text"},
      {"reference split by an escaped line break",
       "kind: ConfigMap\ndata:\n  a: \"gcr.io/a/\\\n    b:1\"\n", StatusCode::kUnsupported,
       "f.yaml:12:6: image reference \"gcr.io/a/b:1\" is written with escapes ..."},
  };
  for (const ErrorCase& c : cases) {
    SECTION(c.name) {
      Status status = FindError(c.yaml);
      CHECK(status.code() == c.code);
      if (c.message.ends_with("...")) {
        CHECK_THAT(status.message(), Catch::StartsWith(c.message.substr(0, c.message.size() - 3)));
      } else {
        CHECK(status.message() == c.message);
      }
    }
  }
}

TEST_CASE("empty documents and valid Unicode are fine") {
  for (const std::string yaml : {"", "---\n", "# only a comment\n", "---\n...\n",
                                 "kind: ConfigMap\ndata: {a: \"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x9A\xA2\"}\n"}) {
    Result<std::vector<ImageOccurrence>> found = FindImages(YamlDocument{yaml, 0, 1, 0}, "f.yaml");
    INFO(yaml);
    CHECK(found.ok());
    if (found.ok()) CHECK(found->empty());
  }
}

TEST_CASE("pathological documents are refused, not recursed into forever") {
  SECTION("nesting deeper than the limit") {
    std::string yaml = "a: " + std::string(300, '[') + std::string(300, ']') + "\n";
    Status status = FindError(yaml);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message(), Catch::StartsWith("f.yaml:10:"));
  }
  SECTION("an alias explosion") {
    std::string yaml = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
    for (int i = 1; i <= 7; ++i) {
      std::string prev = "*a" + std::to_string(i - 1);
      yaml += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
      for (int k = 0; k < 10; ++k) yaml += (k ? ", " : "") + prev;
      yaml += "]\n";
    }
    Status status = FindError(yaml);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message(), Catch::Contains("too many nodes"));
  }
}

}  // namespace
}  // namespace ferry
