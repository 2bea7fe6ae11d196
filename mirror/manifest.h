// Image manifests and indexes as ferry sees them: the exact bytes (which are what a digest names)
// plus the few fields the copy needs (which blobs, which child manifests).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

namespace media_type {
inline constexpr std::string_view kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
inline constexpr std::string_view kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndex = "application/vnd.oci.image.index.v1+json";
}  // namespace media_type

// The Accept header value for manifest requests: every type ferry can copy.
std::string ManifestAcceptHeader();

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::string platform;  // "os/arch[/variant]" for index entries, empty otherwise
  std::string artifact_type;  // "artifactType" of a referrer in an index (OCI 1.1), else empty
};

enum class ManifestKind { kImage, kIndex };

struct Manifest {
  std::string bytes;       // exactly as served; never re-serialised
  std::string media_type;
  std::string digest;      // sha256 of bytes
  ManifestKind kind = ManifestKind::kImage;
  std::vector<Descriptor> blobs;     // config then layers (images only)
  std::vector<Descriptor> children;  // child manifests (indexes only)
  // OCI 1.1: the manifest this one is attached to (a signature's, an SBOM's image), and what kind
  // of artifact it is ("artifactType", else the config's media type). Empty for ordinary images.
  std::optional<Descriptor> subject;
  std::string artifact_type;
};

constexpr size_t kMaxManifestBytes = 4 << 20;
// The largest blob a descriptor may claim (1 TiB): far above any real layer, and low enough that
// sizes of millions of blobs add up without overflowing 64 bits.
constexpr int64_t kMaxBlobBytes = int64_t{1} << 40;

// Parses manifest bytes served with `content_type`. Schema 1, unknown media types and malformed
// JSON are refused with a message saying why. `what` names the image for messages.
// Every descriptor is checked: a digest IsValidDigest accepts (image_reference.h), a size from 0
// to kMaxBlobBytes (kMaxManifestBytes for an index's child manifests); anything else is
// InvalidArgument naming the descriptor.
Result<Manifest> ParseManifest(std::string bytes, std::string_view content_type, std::string_view what);

// The descriptor that names `manifest`: its media type, digest and size.
Descriptor DescriptorOf(const Manifest& manifest);

}  // namespace ferry
