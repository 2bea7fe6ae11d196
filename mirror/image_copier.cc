#include "mirror/image_copier.h"

namespace ferry {
namespace {

struct CopyJob {
  BlobEndpoint source;
  BlobEndpoint target;
  BlobLocations* locations;
  std::string what;  // the source image, for messages
  CopyStats stats;
};

Status CopyBlobs(CopyJob& job, const Manifest& manifest) {
  for (const Descriptor& blob : manifest.blobs) {
    Result<BlobAction> action = CopyBlob(job.source, job.target, blob, job.locations, job.what);
    if (!action.ok()) return action.status();
    // The blob now sits in the target repository; later copies can mount it from there.
    if (job.locations) job.locations->Record(job.target.client->registry(), job.target.repository, blob.digest);
    switch (*action) {
      case BlobAction::kSkipped: ++job.stats.blobs_skipped, job.stats.bytes_skipped += blob.size; break;
      case BlobAction::kMounted: ++job.stats.blobs_mounted, job.stats.bytes_mounted += blob.size; break;
      case BlobAction::kCopied: ++job.stats.blobs_copied, job.stats.bytes_copied += blob.size; break;
    }
  }
  return Status::Ok();
}

// Copies the blobs and children of `manifest` and then pushes it under `identifier`.
Status CopyManifest(CopyJob& job, const Manifest& manifest, const std::string& identifier, int depth) {
  if (manifest.kind == ManifestKind::kIndex) {
    if (depth > 4) return Unsupported(job.what + ": indexes nested deeper than 4 levels");
    for (const Descriptor& child : manifest.children) {
      Result<Manifest> m = job.source.client->GetManifest(job.source.repository, child.digest);
      if (!m.ok()) return m.status().WithContext(job.what + ": child manifest " + child.platform);
      FERRY_RETURN_IF_ERROR(CopyManifest(job, *m, child.digest, depth + 1));
    }
  } else {
    FERRY_RETURN_IF_ERROR(CopyBlobs(job, manifest));
  }
  FERRY_RETURN_IF_ERROR(job.target.client->PutManifest(job.target.repository, identifier, manifest));
  ++job.stats.manifests;
  return Status::Ok();
}

}  // namespace

Result<CopyResult> CopyImage(RegistryClient& source_client, const ImageReference& source,
                             RegistryClient& target_client, const ImageReference& target,
                             BlobLocations* locations) {
  CopyJob job{{&source_client, source.repository}, {&target_client, target.repository}, locations, source.String(), {}};
  Result<Manifest> top = source_client.GetManifest(source.repository, source.ManifestIdentifier());
  if (!top.ok()) return top.status();

  if (!target.digest.empty() && target.digest != top->digest)
    return InvalidArgument("destination " + target.String() + " names digest " + target.digest + " but " +
                           source.String() + " has digest " + top->digest);
  std::string tag = !target.tag.empty() ? target.tag : target.digest.empty() ? source.tag : "";
  std::string identifier = tag.empty() ? top->digest : tag;

  FERRY_RETURN_IF_ERROR(CopyManifest(job, *top, identifier, 0));

  // Read back what the destination now serves: a registry that rewrote the manifest is caught here.
  Result<std::optional<std::string>> written = target_client.HeadManifest(target.repository, identifier);
  if (!written.ok()) return written.status();
  if (!written->has_value() || **written != top->digest)
    return DataLoss("registry " + target.registry + ", repository " + target.repository + ": after the push, " +
                    identifier + " has digest " + (written->has_value() ? **written : "(none)") + ", not " +
                    top->digest + "; the registry changed the manifest");

  CopyResult result;
  result.digest = top->digest;
  result.media_type = top->media_type;
  ImageReference written_ref = target;
  written_ref.tag = tag;
  written_ref.digest.clear();
  result.destination = written_ref.String();
  result.stats = job.stats;
  return result;
}

}  // namespace ferry
