#include "mirror/image_source.h"

namespace ferry {

Status ImageSource::ReadBlob(const std::string& repository, const Descriptor& blob, int64_t /*offset*/,
                             const BodyWriter& /*writer*/) {
  return Internal(Where(repository) + ": blob " + blob.digest + " can only be read in a pass over the source");
}

Status ImageSource::Scan(const std::map<std::string, Descriptor>& /*wanted*/, const BlobVisitor& /*visit*/) {
  return Internal(Where("") + ": not a source that is read in passes");
}

}  // namespace ferry
