// Fuzz target: a bundle archive (tar, tar.gz, tar.zst) read entry by entry, as `ferry bundle load`
// and `bundle verify` read what may be an untrusted file. Every entry returned is a safe path.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "mirror/bundle_reader.h"
#include "tests/fuzz/input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = WriteInputFile("bundle.tar", data, size);
  ferry::Result<std::unique_ptr<ferry::BundleReader>> reader = ferry::BundleReader::Open(path);
  if (!reader.ok()) return 0;
  ferry::BundleEntry entry;
  for (int entries = 0; entries < 1000; ++entries) {
    ferry::Result<bool> more = (*reader)->Next(&entry);
    if (!more.ok() || !*more) break;
    if (entry.path.empty() || entry.path.starts_with('/') || entry.path == ".." || entry.path.starts_with("../") ||
        entry.path.find("/../") != std::string::npos || entry.path.ends_with("/.."))
      std::abort();
    char buffer[4096];
    for (;;) {
      ferry::Result<size_t> n = (*reader)->Read(buffer, sizeof buffer);
      if (!n.ok() || *n == 0) break;
    }
  }
  return 0;
}
