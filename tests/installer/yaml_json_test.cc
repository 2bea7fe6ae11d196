// YAML -> JSON as the API server would read it: core-schema scalars, quoted strings kept,
// positions for every document and file:line:column for errors.
#include "installer/yaml_json.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "tests/corpus.h"

using ferry::installer::JsonDocument;
using ferry::installer::YamlDocumentToJson;
using ferry::installer::YamlStreamToJson;
using nlohmann::json;

namespace {

json Convert(const std::string& text) {
  auto doc = YamlDocumentToJson(text, "test.yaml");
  INFO(doc.status().ToString());
  REQUIRE(doc.ok());
  return doc->value;
}

json ValueOf(const std::string& scalar) { return Convert("v: " + scalar)["v"]; }

}  // namespace

TEST_CASE("plain scalars resolve by the YAML 1.2 core schema", "[yaml_json]") {
  CHECK(ValueOf("10") == json(10));
  CHECK(ValueOf("10").is_number_integer());
  CHECK(ValueOf("-3") == json(-3));
  CHECK(ValueOf("+7") == json(7));
  CHECK(ValueOf("0x1F") == json(31));
  CHECK(ValueOf("0o17") == json(15));
  CHECK(ValueOf("1.5") == json(1.5));
  CHECK(ValueOf("1e3").is_number_float());
  CHECK(ValueOf("1e3").get<double>() == 1000.0);
  CHECK(ValueOf(".5") == json(0.5));
  CHECK(std::isinf(ValueOf(".inf").get<double>()));
  CHECK(ValueOf("-.Inf").get<double>() < 0);
  CHECK(std::isnan(ValueOf(".nan").get<double>()));
  CHECK(ValueOf("true") == json(true));
  CHECK(ValueOf("False") == json(false));
  CHECK(ValueOf("null").is_null());
  CHECK(ValueOf("~").is_null());
  CHECK(Convert("v:")["v"].is_null());
  // 1.1-only forms and near misses stay strings.
  CHECK(ValueOf("yes") == json("yes"));
  CHECK(ValueOf("on") == json("on"));
  CHECK(ValueOf("0b101") == json("0b101"));
  CHECK(ValueOf("1.2.3") == json("1.2.3"));
  CHECK(ValueOf("10s") == json("10s"));
  CHECK(ValueOf("1e") == json("1e"));
  CHECK(ValueOf("-x") == json("-x"));
  CHECK(ValueOf("v0.6.0") == json("v0.6.0"));
}

TEST_CASE("quoted and block scalars stay strings", "[yaml_json]") {
  CHECK(ValueOf("\"10\"") == json("10"));
  CHECK(ValueOf("'true'") == json("true"));
  CHECK(ValueOf("\"null\"") == json("null"));
  CHECK(ValueOf("\"\"") == json(""));
  json block = Convert("v: |\n  10\n");
  CHECK(block["v"] == json("10\n"));
}

TEST_CASE("explicit tags force a type", "[yaml_json]") {
  CHECK(ValueOf("!!str 10") == json("10"));
  CHECK(ValueOf("!!int \"10\"") == json(10));
  CHECK(ValueOf("!!float 1") == json(1.0));
  CHECK(ValueOf("!!float 1").is_number_float());
  auto bad = YamlDocumentToJson("a: 1\nv: !!int ten\n", "bad.yaml");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("bad.yaml:2:") == 0);
  CHECK(bad.status().message().find("!!int") != std::string::npos);
}

TEST_CASE("big integers fall back to doubles, not wrap around", "[yaml_json]") {
  CHECK(ValueOf("9223372036854775807") == json(INT64_MAX));
  CHECK(ValueOf("-9223372036854775808") == json(INT64_MIN));
  CHECK(ValueOf("18446744073709551615").get<uint64_t>() == UINT64_MAX);
  json huge = ValueOf("123456789012345678901234567890");
  CHECK(huge.is_number_float());
  CHECK(huge.get<double>() > 1e29);
}

TEST_CASE("mappings, sequences, keys and merges", "[yaml_json]") {
  json doc = Convert("a: [1, \"2\", x]\n10: ten\ntrue: yes\nnested: {b: {c: null}}\n");
  CHECK(doc["a"] == json::parse(R"([1, "2", "x"])"));
  CHECK(doc["10"] == json("ten"));  // keys become strings as written
  CHECK(doc["true"] == json("yes"));
  CHECK(doc["nested"]["b"]["c"].is_null());

  json merged = Convert("base: &b {x: 1, y: 2}\nderived:\n  <<: *b\n  y: 3\n");
  CHECK(merged["derived"] == json::parse(R"({"x": 1, "y": 3})"));
  json alias = Convert("a: &v hello\nb: *v\n");
  CHECK(alias["b"] == json("hello"));
}

TEST_CASE("duplicate keys and non-scalar keys are errors with a position", "[yaml_json]") {
  auto dup = YamlDocumentToJson("metadata:\n  name: a\n  name: b\n", "dup.yaml", 10);
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().message() == "dup.yaml:12:3: duplicate mapping key \"name\"");
  auto complex = YamlDocumentToJson("? [a, b]\n: c\n", "complex.yaml");
  REQUIRE_FALSE(complex.ok());
  CHECK(complex.status().message().find("complex.yaml:1:") == 0);
}

TEST_CASE("malformed YAML names file:line:column", "[yaml_json]") {
  auto doc = YamlDocumentToJson("a: 1\nb: [1, 2\nc: 3\n", "broken.yaml", 5);
  REQUIRE_FALSE(doc.ok());
  const std::string& message = doc.status().message();
  CHECK(message.find("broken.yaml:") == 0);
  CHECK(message.find("malformed YAML") != std::string::npos);
  // The parser notices on line 2 or 3 of the document, which starts at line 5 of the file.
  bool line_ok = message.starts_with("broken.yaml:6:") || message.starts_with("broken.yaml:7:") ||
                 message.starts_with("broken.yaml:8:");
  CHECK(line_ok);
}

TEST_CASE("an alias explosion is refused", "[yaml_json]") {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'h'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  auto doc = YamlDocumentToJson(bomb, "bomb.yaml");
  REQUIRE_FALSE(doc.ok());
  CHECK(doc.status().message().find("too many nodes") != std::string::npos);
}

TEST_CASE("a stream keeps each document's file and first content line", "[yaml_json]") {
  std::string text =
      "# leading comment\n"
      "---\n"
      "kind: A\n"
      "---\n"
      "# only a comment\n"
      "---\n"
      "\n"
      "kind: B\n";
  auto docs = YamlStreamToJson(text, "s.yaml");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 3);
  CHECK((*docs)[0].value["kind"] == "A");
  CHECK((*docs)[0].line == 3);
  CHECK((*docs)[1].value.is_null());
  CHECK((*docs)[2].value["kind"] == "B");
  CHECK((*docs)[2].line == 8);
  CHECK((*docs)[2].file == "s.yaml");
}

TEST_CASE("real release files convert, with quoted numbers kept as strings", "[yaml_json][corpus]") {
  auto path = ferry::CorpusDir() / "knative-serving-v1.23.0-serving-core.yaml";
  auto docs = YamlStreamToJson(ferry::ReadFile(path), path.filename().string());
  INFO(docs.status().ToString());
  REQUIRE(docs.ok());
  bool saw_webhook = false;
  for (const JsonDocument& doc : *docs) {
    if (!doc.value.is_object() || doc.value.value("kind", "") != "Deployment") continue;
    if (doc.value["metadata"]["name"] != "webhook") continue;
    saw_webhook = true;
    // app.kubernetes.io/version: "1.23.0" is quoted; replicas-like numbers are numbers.
    CHECK(doc.value["metadata"]["labels"]["app.kubernetes.io/version"] == json("1.23.0"));
    const json& container = doc.value["spec"]["template"]["spec"]["containers"][0];
    CHECK(container["ports"][0]["containerPort"].is_number_integer());
  }
  CHECK(saw_webhook);
}
