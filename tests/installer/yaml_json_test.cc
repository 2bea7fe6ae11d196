// YAML -> JSON as kubectl sends it: go-yaml v2 scalars, Go's JSON numbers, quoted strings kept,
// positions for every document and file:line:column for errors.
#include "installer/yaml_json.h"

#include <catch2/catch.hpp>
#include <cmath>

#include "tests/corpus.h"

using ferry::installer::JsonDocument;
using ferry::installer::YamlDocumentToJson;
using ferry::installer::YamlStreamToJson;
using ferry::Status;
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

Status ErrorOf(const std::string& text) {
  auto doc = YamlDocumentToJson(text, "bad.yaml");
  REQUIRE_FALSE(doc.ok());
  return doc.status();
}

// What kubectl (sigs.k8s.io/yaml, go-yaml v2) makes of each; test_yaml_kubectl.py checks the
// same against the real kubectl.
TEST_CASE("plain scalars resolve as kubectl resolves them (go-yaml v2, YAML 1.1 flavoured)", "[yaml_json]") {
  CHECK(ValueOf("10") == json(10));
  CHECK(ValueOf("10").is_number_integer());
  CHECK(ValueOf("-3") == json(-3));
  CHECK(ValueOf("+7") == json(7));
  CHECK(ValueOf("0x1F") == json(31));
  CHECK(ValueOf("-0x1F") == json(-31));
  CHECK(ValueOf("0o17") == json(15));
  CHECK(ValueOf("0b101") == json(5));
  CHECK(ValueOf("0777") == json(511));  // a leading 0 is octal
  CHECK(ValueOf("08") == json(8));      // not octal, so a float 8, sent as 8
  CHECK(ValueOf("1_000") == json(1000));
  CHECK(ValueOf("1.5") == json(1.5));
  CHECK(ValueOf(".5") == json(0.5));
  CHECK(ValueOf("true") == json(true));
  CHECK(ValueOf("False") == json(false));
  CHECK(ValueOf("null").is_null());
  CHECK(ValueOf("~").is_null());
  CHECK(Convert("v:")["v"].is_null());
  // YAML 1.1 booleans, as go-yaml v2 reads them: yes/on/y are true, no/off/n false.
  for (const char* yes : {"yes", "Yes", "YES", "on", "On", "ON", "y", "Y"}) CHECK(ValueOf(yes) == json(true));
  for (const char* no : {"no", "No", "NO", "off", "Off", "OFF", "n", "N"}) CHECK(ValueOf(no) == json(false));
  // Near misses, timestamps and sexagesimal numbers stay strings.
  CHECK(ValueOf("yES") == json("yES"));
  CHECK(ValueOf("1.2.3") == json("1.2.3"));
  CHECK(ValueOf("10s") == json("10s"));
  CHECK(ValueOf("1e") == json("1e"));
  CHECK(ValueOf("-x") == json("-x"));
  CHECK(ValueOf("v0.6.0") == json("v0.6.0"));
  CHECK(ValueOf("1:20") == json("1:20"));
  CHECK(ValueOf("190:20:30") == json("190:20:30"));
  CHECK(ValueOf("2001-12-14t21:59:43.10-05:00") == json("2001-12-14t21:59:43.10-05:00"));
  CHECK(ValueOf("2001-12-14") == json("2001-12-14"));
  CHECK(ValueOf("0x") == json("0x"));
  CHECK(ValueOf("1e400") == json("1e400"));  // out of float64 range: go-yaml keeps the text
}

TEST_CASE("numbers as Go's JSON round trip leaves them: integral floats below 1e21 are integers", "[yaml_json]") {
  CHECK(ValueOf("1e3") == json(1000));
  CHECK(ValueOf("1e3").is_number_integer());
  CHECK(ValueOf("1.0").is_number_integer());
  CHECK(ValueOf("-0.0") == json(0));
  CHECK(ValueOf("1e18") == json(int64_t{1000000000000000000}));
  CHECK(ValueOf("1e20").is_number_float());  // beyond int64: kubectl sends 100000000000000000000, a float64
  CHECK(ValueOf("1e21").is_number_float());
  // Go writes the shortest digits: 2^63 - 1024 goes out as 9223372036854775000, which fits int64.
  CHECK(ValueOf("9223372036854774784.0") == json(int64_t{9223372036854775000}));
  CHECK(ValueOf("1e-400") == json(0));
  CHECK(ValueOf("0.1") == json(0.1));
}

TEST_CASE(".inf and .nan are errors: JSON cannot carry them and kubectl refuses them", "[yaml_json]") {
  for (const char* bad : {".inf", "-.Inf", "+.INF", ".nan", "!!float .inf"}) {
    INFO(bad);
    Status s = ErrorOf("a: 1\nv: " + std::string(bad) + "\n");
    CHECK_THAT(s.message(), Catch::StartsWith("bad.yaml:2:4: ") && Catch::Contains("JSON"));
  }
}

TEST_CASE("quoted and block scalars stay strings", "[yaml_json]") {
  CHECK(ValueOf("\"10\"") == json("10"));
  CHECK(ValueOf("'true'") == json("true"));
  CHECK(ValueOf("'yes'") == json("yes"));
  CHECK(ValueOf("\"null\"") == json("null"));
  CHECK(ValueOf("\"\"") == json(""));
  CHECK(ValueOf("!foo 12") == json("12"));
  json block = Convert("v: |\n  10\n");
  CHECK(block["v"] == json("10\n"));
}

TEST_CASE("explicit tags force a type", "[yaml_json]") {
  CHECK(ValueOf("!!str 10") == json("10"));
  CHECK(ValueOf("!!str yes") == json("yes"));
  CHECK(ValueOf("!!int \"10\"") == json(10));
  CHECK(ValueOf("!!float 1") == json(1));  // 1.0, which Go's JSON writes as 1
  CHECK(ValueOf("!!bool yes") == json(true));
  CHECK(ValueOf("!!null ~").is_null());
  CHECK(ValueOf("!!timestamp 2001-01-01") == json("2001-01-01"));
  CHECK(ValueOf("!!binary aGVsbG8=") == json("hello"));
  CHECK(Convert("v: !!binary |\n  aGVs\n  bG8=\n")["v"] == json("hello"));
  CHECK(ValueOf("!!binary gA==") == json("\xEF\xBF\xBD"));  // not UTF-8: Go's JSON writes U+FFFD
  for (const char* bad : {"!!int ten", "!!bool 1", "!!int 1.5", "!!null x", "!!timestamp x", "!!binary a*b"}) {
    INFO(bad);
    Status s = ErrorOf("a: 1\nv: " + std::string(bad) + "\n");
    CHECK_THAT(s.message(), Catch::StartsWith("bad.yaml:2:"));
  }
}

TEST_CASE("big integers become doubles, as kubectl sends them", "[yaml_json]") {
  CHECK(ValueOf("9223372036854775807") == json(INT64_MAX));
  CHECK(ValueOf("-9223372036854775808") == json(INT64_MIN));
  json unsigned_max = ValueOf("18446744073709551615");
  CHECK(unsigned_max.is_number_float());
  CHECK(unsigned_max.get<double>() == 18446744073709551615.0);
  json below_min = ValueOf("-9223372036854775809");  // -2^63 as a float64, written -9223372036854776000
  CHECK(below_min.is_number_float());
  json huge = ValueOf("123456789012345678901234567890");
  CHECK(huge.is_number_float());
  CHECK(huge.get<double>() > 1e29);
  CHECK(ValueOf("0xFFFFFFFFFFFFFFFFFFFF") == json("0xFFFFFFFFFFFFFFFFFFFF"));
}

TEST_CASE("mapping keys become strings as kubectl writes them", "[yaml_json]") {
  json doc = Convert("a: [1, \"2\", x]\n10: ten\ntrue: yes\nyes: 1\n0x10: hex\n1.5: f\n1e6: e\n"
                     "2001-01-01: t\nnested: {b: {c: null}}\n");
  CHECK(doc["a"] == json::parse(R"([1, "2", "x"])"));
  CHECK(doc["10"] == json("ten"));
  CHECK(doc["true"] == json(1));  // `true: yes` then `yes: 1`: both keys are true, the later wins
  CHECK(doc["16"] == json("hex"));
  CHECK(doc["1.5"] == json("f"));
  CHECK(doc["1e+06"] == json("e"));
  CHECK(doc["2001-01-01"] == json("t"));
  CHECK(doc["nested"]["b"]["c"].is_null());
  CHECK_THAT(ErrorOf("~: 1\n").message(), Catch::Contains("null"));
  CHECK_THAT(ErrorOf("18446744073709551615: 1\n").message(), Catch::Contains("int64"));
  Status complex = ErrorOf("? [a, b]\n: c\n");
  CHECK_THAT(complex.message(), Catch::StartsWith("bad.yaml:1:"));
}

TEST_CASE("merge keys and duplicates: a later key, explicit or merged, replaces an earlier one", "[yaml_json]") {
  json doc = Convert(
      "b: &b {a: base-a, b: base-b}\n"
      "o: &o {a: other-a, c: other-c}\n"
      "before: {a: explicit, <<: *b}\n"
      "after: {<<: *b, a: explicit}\n"
      "list: {<<: [*b, *o]}\n"
      "dup: {a: 1, a: 2}\n");
  CHECK(doc["before"] == json::parse(R"({"a": "base-a", "b": "base-b"})"));
  CHECK(doc["after"] == json::parse(R"({"a": "explicit", "b": "base-b"})"));
  CHECK(doc["list"] == json::parse(R"({"a": "base-a", "b": "base-b", "c": "other-c"})"));
  CHECK(doc["dup"] == json::parse(R"({"a": 2})"));
  json alias = Convert("a: &v hello\nb: *v\n");
  CHECK(alias["b"] == json("hello"));
  CHECK_THAT(ErrorOf("a: {<<: 1}\n").message(), Catch::Contains("merge"));
  CHECK(Convert("a: {'<<': 1}\n")["a"]["<<"] == json(1));  // a quoted << is an ordinary key
}

TEST_CASE("text that is not UTF-8, or holds control characters, is an error naming the line", "[yaml_json]") {
  Status s = ErrorOf("a: 1\nb: \xff\xfe\n");
  CHECK_THAT(s.message(), Catch::StartsWith("bad.yaml:2: ") && Catch::Contains("UTF-8"));
  // Found by fuzzing: NULs made yaml-cpp read UTF-32 and hand back bytes JSON cannot print.
  std::string nul("\x01\0\0\0\0\0\0%an{a: 1}\nc:\n  <<ap:i\xd9\xa4", 30);
  CHECK_THAT(ErrorOf(nul).message(), Catch::StartsWith("bad.yaml:1: ") && Catch::Contains("control character"));
  CHECK_THAT(ErrorOf("a: 1\nb: x\x7f\n").message(), Catch::StartsWith("bad.yaml:2: "));
  CHECK(Convert("a: b\r\nc: \"\tcaf\xc3\xa9\"\n")["c"] == json("\tcaf\xc3\xa9"));  // tab, CR, UTF-8 are fine
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
