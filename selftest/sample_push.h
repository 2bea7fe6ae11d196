// Pushing every embedded sample app (selftest/embedded_samples.h) as an image under one
// registry namespace: what `ferry samples push --to REGISTRY/NS` does, and what the self-test
// uses to deploy samples on a site that cannot pull the upstream images. The images are built in
// memory (sample_image.h) and go through the copy engine (mirror/copy_engine.h) like any other.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/image_reference.h"
#include "mirror/registry_pool.h"

namespace ferry {

struct PushedSample {
  std::string name;         // "helloworld"
  ImageReference image;     // REGISTRY/NS/helloworld:TAG@DIGEST
  int64_t size = 0;         // manifest + config + layer bytes
};

// Parses "REGISTRY/NS" (or just "REGISTRY", or "REGISTRY/A/B"): the part of a reference before
// the app's name. A tag or digest is refused, since each app gets its own repository.
Result<ImageReference> ParseSampleNamespace(const std::string& text);

// Builds each embedded app's image and pushes it to NS/<app>:`tag`; fails naming the first image
// that could not be pushed. `registries` must give clients that do not retry (the engine does).
Result<std::vector<PushedSample>> PushSampleImages(const ImageReference& ns, const std::string& tag,
                                                   RegistryPool& registries);

}  // namespace ferry
