// YAML documents as JSON values, the shape the Kubernetes API takes, resolving plain scalars the
// way the API server's YAML decoder does (YAML 1.2 core schema), so that what ferry sends is what
// `kubectl apply -f` would send.
//
// Plain scalars resolve by the core schema: null/Null/NULL/~/empty -> null; true/True/TRUE,
// false/False/FALSE -> bool; 10, -3, 0x1F, 0o17 -> integer; 1.5, 1e3, .inf, -.Inf, .nan -> float
// (JSON has no infinity or NaN: they are kept as doubles and print as null); anything else is a
// string. Quoted and block scalars ("10", '10', |, >) are strings. Explicit tags !!str, !!int,
// !!float, !!bool, !!null force a type. Mapping keys become strings; `<<` merge keys are
// expanded; a duplicate key is an error (as in kubectl).
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
// Errors (InvalidArgument) name "file:line:column": malformed YAML (with the parser's reason), a
// non-scalar mapping key, a duplicate key, a value that does not fit its explicit tag, nesting
// deeper than 256 levels, or an alias explosion.
Result<JsonDocument> YamlDocumentToJson(std::string_view text, const std::string& file, int first_line = 1,
                                        int index = 0);

// Every document of a YAML stream ("---"-separated), empty ones included, in file order.
Result<std::vector<JsonDocument>> YamlStreamToJson(std::string_view text, const std::string& file);

}  // namespace ferry::installer
