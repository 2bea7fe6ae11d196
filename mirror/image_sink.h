// An image sink: where the copy engine (mirror/copy_engine.h) writes images. Implemented by a
// registry (registry_sink.h), an OCI layout directory (layout_sink.h), and an oci-archive or a
// ferry bundle (archive_sink.h).
//
// The engine drives a sink in this order: Begin (the whole plan, when the sink asks for it), then
// blobs (HasBlob, MountBlob, PutBlob), then each image's manifests, children before their index,
// and a read-back (ManifestDigest), then Finish. A sink never commits a blob whose bytes do not
// match its digest: PutBlob's reader fails before the last bytes when they do not (blob_stream.h).
//
// Repositories are the sink's own names (see image_source.h); a registry sink's are
// "host/path". Implementations must be thread-safe unless sequential() says otherwise.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/status.h"
#include "mirror/attachments.h"
#include "mirror/image_source.h"
#include "mirror/resolved_image.h"

namespace ferry {

// One image of a run as the sink sees it before any blob moves.
struct PlannedImage {
  std::string name;         // the source as the user named it: "gcr.io/x/y:v1"
  ImageLocator to;          // where it lands in the sink (tag, or none: by digest)
  const ResolvedImage* image = nullptr;
  const PlannedImage* subject = nullptr;  // for an attachment: the image it belongs to
  Attachment attachment;                  // for an attachment: what it is
};

struct CopyPlan {
  std::vector<PlannedImage> images;  // images first, in input order, then attachments
  std::vector<Descriptor> blobs;     // every distinct config and layer
};

class ImageSink {
 public:
  virtual ~ImageSink() = default;

  virtual std::string Where(const std::string& repository) const = 0;

  // Sinks that lay out everything up front (archives) need the whole plan before the first blob,
  // and take blobs one at a time in the order BlobOrder gives.
  virtual bool wants_plan() const { return false; }
  virtual bool sequential() const { return false; }
  virtual Status Begin(const CopyPlan& /*plan*/) { return Status::Ok(); }
  virtual std::vector<Descriptor> BlobOrder(const std::vector<Descriptor>& blobs) const { return blobs; }

  virtual Result<bool> HasBlob(const std::string& repository, const Descriptor& blob) = 0;
  // Repositories of this sink that may hold `blob` from earlier runs, to mount into `repository`;
  // only hints.
  virtual std::vector<std::string> MountHints(const std::string& /*repository*/, const Descriptor& /*blob*/) {
    return {};
  }
  // Whether MountBlob can link blobs between repositories (registries); a sink without it
  // (layouts, archives) holds each blob once for all its repositories anyway.
  virtual bool mounts() const { return false; }
  // Links `blob` from repository `from` of this sink (or of the same registry). false = declined.
  virtual Result<bool> MountBlob(const std::string& /*repository*/, const Descriptor& /*blob*/,
                                 const std::string& /*from*/) {
    return false;
  }
  // Writes exactly blob.size bytes from `reader` and commits them under blob.digest.
  virtual Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) = 0;
  // Told each time a blob is in place in `repository` (kept, mounted or written).
  virtual void Placed(const std::string& /*repository*/, const Descriptor& /*blob*/) {}

  // The digest the sink holds under `identifier` (tag or digest); nullopt when none.
  virtual Result<std::optional<std::string>> ManifestDigest(const std::string& repository,
                                                            const std::string& identifier) = 0;
  // Stores `manifest` under `identifier`, byte for byte. A manifest with a subject is also made
  // findable as a referrer of it (OCI 1.1 API, or the sha256-<hex> fallback tag).
  virtual Status PutManifest(const std::string& repository, const std::string& identifier,
                             const Manifest& manifest) = 0;

  // Makes everything written visible (index.json, the archive's final name). Until then a
  // layout or archive sink leaves nothing half-written behind.
  virtual Status Finish() { return Status::Ok(); }
};

}  // namespace ferry
