// A sample app as an OCI image: one gzip layer holding the static executable at /app/<name>, a
// config that runs it (Entrypoint, Env PORT=8080, ExposedPorts 8080/tcp, non-root user), no base
// image. The bytes are a function of the executable and ferry's version only (fixed mtimes,
// owners, creation date, no gzip timestamp), so pushing the same app twice gives the same digest.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "mirror/manifest.h"

namespace ferry {

struct SampleImage {
  std::string name;    // "helloworld"
  std::string layer;   // the layer blob: a gzip-compressed tar
  std::string diff_id; // sha256 of the uncompressed tar, as the config lists it
  std::string config;  // the config blob (JSON)
  Manifest manifest;   // the OCI image manifest; its digest names the image
};

// "amd64", "arm64": the architecture ferry (and so the embedded apps) was built for.
std::string_view BuildArchitecture();

// Builds the image of app `name` whose executable is `binary`. Fails only if libarchive does.
Result<SampleImage> BuildSampleImage(std::string_view name, std::string_view binary);

}  // namespace ferry
