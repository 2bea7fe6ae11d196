// An image source: where the copy engine (mirror/copy_engine.h) reads images from. Implemented by
// a registry (registry_source.h), an OCI layout directory, an oci-archive or a ferry bundle
// (layout_source.h), a `docker save` archive (docker_archive_source.h) and images held in memory,
// such as the sample apps (memory_source.h).
//
// A source names its images by repository and tag or digest. What a repository is depends on the
// source: "gcr.io/knative-releases/x" (registry host and path) for registries; the part of an
// index.json ref name before its tag for layouts ("gcr.io/x/y" in a ferry bundle, "" for skopeo's
// plain tags). Messages name the place with Where().
//
// Blobs come out one of two ways. A random-access source (a registry, memory) streams any blob on
// request with ReadBlob, so the engine chooses the order and runs many at once. A sequential source
// (an archive, which can only be read front to back) offers Scan: one pass that hands over each
// wanted blob as it comes by; the engine runs the transfers while the pass goes on.
//
// Implementations must be thread-safe: the engine calls them from many workers.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/status.h"
#include "mirror/manifest.h"

namespace ferry {

// Where an image is in a source or a sink: a repository and a tag, a digest, or both.
struct ImageLocator {
  std::string repository;
  std::string tag;
  std::string digest;

  const std::string& identifier() const { return digest.empty() ? tag : digest; }
  // "repository:tag@digest", leaving out what is empty (a registry's: the image reference).
  std::string String() const {
    std::string s = repository;
    if (!tag.empty()) s += (s.empty() ? "" : ":") + tag;
    if (!digest.empty()) s += "@" + digest;
    return s;
  }
  bool operator==(const ImageLocator&) const = default;
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;

  // "registry gcr.io, repository x/y", "archive knative.tar": how messages name `repository`.
  virtual std::string Where(const std::string& repository) const = 0;

  // A manifest by tag or digest. By digest, its bytes must hash to it.
  virtual Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) = 0;
  // The tags of `repository`; where cosign's sha256-<hex>.sig/.att/.sbom and the referrers
  // fallback tag sha256-<hex> are found.
  virtual Result<std::vector<std::string>> ListTags(const std::string& repository) = 0;
  // The manifests whose subject is `digest`, from the OCI 1.1 Referrers API; nullopt when the
  // source has no such API (then the fallback tag in ListTags says it).
  virtual Result<std::optional<std::vector<Descriptor>>> Referrers(const std::string& /*repository*/,
                                                                    const std::string& /*digest*/) {
    return std::optional<std::vector<Descriptor>>();
  }

  // The name of `repository` as a sink of the same kind would know it, when the sink might mount
  // blobs from it (a registry source's repositories are "host/path", like a registry sink's).
  virtual std::string MountableRepository(const std::string& /*repository*/) const { return ""; }

  // Random access: streams `blob`'s bytes from byte `offset` on (a transfer cut short resumes).
  virtual bool sequential() const { return false; }
  virtual Status ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                          const BodyWriter& writer);

  // Sequential: one pass (or the rest of the current one) calling `visit` for every blob of
  // `wanted` as it comes by, with a reader for its bytes (0 at its end; the source has checked
  // the entry's size against the descriptor, the caller checks the digest). Blobs `visit` does not
  // read to the end are skipped. Returns the first error of the pass or of `visit`.
  using BlobVisitor = std::function<Status(const Descriptor& blob, const BodyReader& read)>;
  virtual Status Scan(const std::map<std::string, Descriptor>& wanted, const BlobVisitor& visit);
  // Passes begun so far (sequential sources).
  virtual int passes() const { return 0; }
};

}  // namespace ferry
