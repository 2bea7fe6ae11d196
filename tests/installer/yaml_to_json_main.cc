// Test-only: prints each document of a YAML file as the JSON ferry would send the API server, one
// line per document (empty documents skipped, as kubectl skips them), for the differential test
// against kubectl (tests/integration/test_yaml_kubectl.py). Exit 1 with the error on bad input.
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "installer/yaml_json.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: yaml_to_json FILE\n");
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot read %s\n", argv[1]);
    return 1;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto docs = ferry::installer::YamlStreamToJson(text, argv[1]);
  if (!docs.ok()) {
    std::fprintf(stderr, "error: %s\n", docs.status().message().c_str());
    return 1;
  }
  for (const auto& doc : *docs)
    if (!doc.value.is_null()) std::printf("%s\n", doc.value.dump().c_str());
  return 0;
}
