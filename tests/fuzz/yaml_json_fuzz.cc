// Fuzz target: YAML documents converted to the JSON ferry sends the API server. Whatever it
// accepts must print as JSON (valid UTF-8, no infinity or NaN).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "installer/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto doc = ferry::installer::YamlDocumentToJson(text, "fuzz.yaml");
  if (doc.ok()) (void)doc->value.dump();  // throws (and so aborts) on what JSON cannot hold
  return 0;
}
