// Fuzz target: the image finder over one YAML document of a release file. Every occurrence it
// reports must point at its own text in the document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "rewrite/image_finder.h"
#include "rewrite/yaml_stream.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ferry::YamlDocument doc{.text = std::string(reinterpret_cast<const char*>(data), size)};
  ferry::Result<std::vector<ferry::ImageOccurrence>> found = ferry::FindImages(doc, "fuzz.yaml");
  if (!found.ok()) return 0;
  for (const ferry::ImageOccurrence& o : *found) {
    if (o.offset > doc.text.size() || doc.text.compare(o.offset, o.text.size(), o.text) != 0) std::abort();
  }
  return 0;
}
