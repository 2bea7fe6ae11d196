// Fuzz target: image manifests and indexes as a registry or a bundle serves them. The first byte
// picks the Content-Type; the rest is the body. A parsed manifest keeps its exact bytes, and every
// descriptor it lists has a valid digest and a size within the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "mirror/image_reference.h"
#include "mirror/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const char* const kTypes[] = {"", "application/json", "application/vnd.oci.image.manifest.v1+json",
                                       "application/vnd.oci.image.index.v1+json",
                                       "application/vnd.docker.distribution.manifest.v2+json",
                                       "application/vnd.docker.distribution.manifest.list.v2+json"};
  if (size == 0) return 0;
  const char* type = kTypes[data[0] % (sizeof kTypes / sizeof kTypes[0])];
  std::string body(reinterpret_cast<const char*>(data + 1), size - 1);
  ferry::Result<ferry::Manifest> m = ferry::ParseManifest(body, type, "fuzz");
  if (!m.ok()) return 0;
  if (m->bytes != body) std::abort();
  for (const auto* list : {&m->blobs, &m->children})
    for (const ferry::Descriptor& d : *list)
      if (!ferry::IsValidDigest(d.digest) || d.size < 0 || d.size > ferry::kMaxBlobBytes) std::abort();
  return 0;
}
