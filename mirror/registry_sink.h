// A registry as an image sink: repositories are named "host/path" (ImageReference::Name()). Blobs
// are checked with HEAD, mounted from another repository of the same registry when one has them
// (placed earlier in the run, or remembered in BlobLocations from earlier runs), else uploaded in
// two requests (POST, one PUT with the bytes and the digest). A manifest with a subject whose
// registry does not index it (no OCI-Subject in the answer: no Referrers API) is added to the
// subject's fallback referrers index under the tag sha256-<hex>.
#pragma once

#include <mutex>
#include <string>

#include "mirror/blob_locations.h"
#include "mirror/image_sink.h"
#include "mirror/registry_pool.h"

namespace ferry {

class RegistrySink : public ImageSink {
 public:
  // `locations` (may be null) gives mount hints and learns where blobs are.
  RegistrySink(RegistryPool& registries, BlobLocations* locations);

  std::string Where(const std::string& repository) const override;
  Result<bool> HasBlob(const std::string& repository, const Descriptor& blob) override;
  std::vector<std::string> MountHints(const std::string& repository, const Descriptor& blob) override;
  bool mounts() const override { return true; }
  Result<bool> MountBlob(const std::string& repository, const Descriptor& blob, const std::string& from) override;
  Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) override;
  void Placed(const std::string& repository, const Descriptor& blob) override;
  Result<std::optional<std::string>> ManifestDigest(const std::string& repository,
                                                    const std::string& identifier) override;
  Status PutManifest(const std::string& repository, const std::string& identifier, const Manifest& manifest) override;

 private:
  Result<RegistryClient*> Client(const std::string& repository, std::string* path);

  RegistryPool& registries_;
  BlobLocations* locations_;
  std::mutex referrers_mutex_;  // one fallback index update at a time: each reads, adds, writes
};

}  // namespace ferry
