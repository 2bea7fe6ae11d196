// Fuzz target: a kubeconfig file, loaded as `ferry install --kubeconfig FILE` loads it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "installer/kubeconfig.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = WriteInputFile("config", data, size);
  (void)ferry::installer::LoadClusterConfig({.path = path});
  return 0;
}
