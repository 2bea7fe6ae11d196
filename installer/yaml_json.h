// YAML documents as JSON values, the shape the Kubernetes API takes, converted the way kubectl
// converts them (sigs.k8s.io/yaml: go-yaml v2, then Go's JSON), so that what ferry sends is what
// `kubectl apply -f` would send. tests/integration/test_yaml_kubectl.py compares the two.
//
// Plain scalars resolve as in go-yaml v2 (YAML 1.1 flavoured): ~/null/Null/NULL/empty -> null;
// y/Y/yes/Yes/YES/on/On/ON/true/True/TRUE -> true, n/N/no/No/NO/off/Off/OFF/false/... -> false;
// integers as Go's ParseInt with base 0 once '_' are removed (10, -3, 0x1F, 0o17, 0b101, and a
// leading 0 is octal: 0777 = 511); floats (1.5, 1e3, .5); anything else, timestamps
// (2001-12-14) and sexagesimal (1:20) included, is a string. Then Go's JSON round trip: a float
// without a fraction below 1e21 becomes an integer (1.0 -> 1, 1e3 -> 1000), an integer beyond
// int64 a float; .inf and .nan are errors (JSON cannot hold them, kubectl refuses them too).
// Quoted and block scalars and local tags (!foo) are strings; !!str, !!int, !!float, !!bool,
// !!null, !!timestamp must fit; !!binary is decoded. Mapping keys become strings (true, 1.5, 16
// for 0x10); a null or non-scalar key is an error. `<<` merge keys and duplicate keys follow
// go-yaml v2: a later key, explicit or merged, replaces an earlier one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry::installer {

struct JsonDocument {
  nlohmann::json value;  // null for an empty or comment-only document
  std::string file;      // as passed in, for messages
  int line = 0;          // 1-based line in the file where the document's content starts
  int index = 0;         // 0-based position among the file's documents
};

// Converts one document whose text starts at `first_line` of `file`.
// Errors (InvalidArgument) name "file:line:column": malformed YAML (with the parser's reason),
// bytes that are not UTF-8, a null or non-scalar mapping key, a value that does not fit its
// explicit tag, .inf or .nan, nesting deeper than 256 levels, or an alias explosion.
Result<JsonDocument> YamlDocumentToJson(std::string_view text, const std::string& file, int first_line = 1,
                                        int index = 0);

// Every document of a YAML stream ("---"-separated), empty ones included, in file order.
Result<std::vector<JsonDocument>> YamlStreamToJson(std::string_view text, const std::string& file);

}  // namespace ferry::installer
