// Where an image is, named the way skopeo names it: a transport prefix and the transport's own
// reference. `ferry copy SRC DST` takes these; every command reads and writes through them.
//
//   docker://REFERENCE        a registry ("docker://gcr.io/x/y:v1"); a bare REFERENCE means this
//   oci:DIR[:NAME]            an OCI image layout directory; NAME is the index.json ref name
//   oci-archive:FILE[:NAME]   the same in a tar (plain, .gz, .zst, split parts): also a ferry bundle
//   docker-archive:FILE[:NAME|:@N]   a `docker save` tar (a source only)
//
// As in skopeo, the path ends at the first ':' after the prefix.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mirror/blob_locations.h"
#include "mirror/copy_engine.h"
#include "mirror/image_reference.h"
#include "mirror/registry_pool.h"

namespace ferry {

enum class Transport { kDocker, kOci, kOciArchive, kDockerArchive };

struct ImageLocation {
  Transport transport = Transport::kDocker;
  ImageReference reference;  // docker://
  std::string path;          // the others
  std::string name;          // the others: the image inside, or empty

  std::string String() const;
};

// Parses "docker://…", "oci:…", "oci-archive:…", "docker-archive:…" or a bare image reference.
Result<ImageLocation> ParseImageLocation(std::string_view text);

// A source and the image in it that `location` names.
struct OpenedSource {
  std::unique_ptr<ImageSource> source;
  ImageLocator image;
};
Result<OpenedSource> OpenSource(const ImageLocation& location, RegistryPool& registries);

// A sink for `location`, and where in it the image lands: its name, or else `source_tag` (the
// source's tag, as docker does when a destination has none). `locations` (may be null): mount hints.
struct OpenedSink {
  std::unique_ptr<ImageSink> sink;
  ImageLocator image;
};
Result<OpenedSink> OpenSink(const ImageLocation& location, const std::string& source_tag, RegistryPool& registries,
                            BlobLocations* locations);

}  // namespace ferry
