// The offline bundle: one archive carrying a release's images and files across an air gap.
//
// It is a standard OCI image layout (so skopeo, containerd and others can read it) plus a ferry/
// folder. Entries, in this order, so a reader knows everything before the first large blob:
//   oci-layout                  {"imageLayoutVersion": "1.0.0"}
//   index.json                  one descriptor per image (its top-level manifest), annotated with
//                               org.opencontainers.image.ref.name = the source reference
//                               (gcr.io/...:tag or @digest; what `skopeo copy oci-archive:B.tar:REF` names),
//                               io.containerd.image.name = the same
//   ferry/bundle.json           BundleManifest below
//   ferry/manifests/NAME        the release files, byte for byte
//   ferry/samples/NAME          sample Knative Services (when the profile names samples), in the
//                               profile's serviceApiVersion; their images are not in the bundle
//   ferry/ferry_V_ARCH.deb      ferry itself (`bundle save --include-ferry`): its Debian package, or
//   or ferry/ferry              the bare binary (mode 0755); bundle.json's ferryPackage describes it.
//                               A plain tar member, so `tar -xf` gets it out where no ferry runs yet
//   blobs/sha256/HEX            every manifest and config first, then the layers; each blob once
// Tar entries are deterministic: ustar/pax headers with mtime 0, uid/gid 0, empty owner names,
// mode 0644, sorted within each group, so the same inputs give a byte-identical archive.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/attachments.h"
#include "mirror/manifest.h"

namespace ferry {

namespace bundle {
inline constexpr int kFormatVersion = 1;
inline constexpr char kRefNameAnnotation[] = "org.opencontainers.image.ref.name";
inline constexpr char kContainerdNameAnnotation[] = "io.containerd.image.name";
inline constexpr char kLayoutFile[] = "oci-layout";
inline constexpr char kIndexFile[] = "index.json";
inline constexpr char kBundleFile[] = "ferry/bundle.json";
inline constexpr char kManifestsDir[] = "ferry/manifests/";
inline constexpr char kSamplesDir[] = "ferry/samples/";
inline constexpr char kBlobsDir[] = "blobs/sha256/";
inline constexpr char kFerryDir[] = "ferry/";
inline constexpr char kPackageDeb[] = "deb";
inline constexpr char kPackageBinary[] = "binary";
// Entries up to this size are read into memory while a bundle is learnt: manifests, configs.
inline constexpr int64_t kSmallEntry = 4 << 20;
// The layout's and ferry's own files: oci-layout, index.json, ferry/bundle.json.
bool IsMetadataEntry(const std::string& path);
// "blobs/sha256/<hex>" for "sha256:<hex>".
std::string BlobEntry(const std::string& digest);
}  // namespace bundle

struct BundleImage {
  std::string source;      // the reference the release files use: gcr.io/...@sha256:... or :tag
  std::string digest;      // of the top-level manifest in the bundle
  std::string media_type;
  std::vector<std::string> platforms;  // of an index's children; empty for one image
  int64_t size = 0;                    // manifests plus blobs
  // The source's index digest when a platform filter (BundleManifest::platform_filter) rewrote the
  // index: `digest` is then the filtered index's, as `ferry mirror --platform` pushes it. Else empty.
  std::string source_digest;
  // In index.json too, named SOURCE-REPOSITORY:TAG (referrers: under the fallback tag's index).
  std::vector<AttachmentRecord> attachments;
};

struct BundleFile {
  std::string name;    // file name in the profile
  std::string path;    // entry path in the archive: ferry/manifests/NAME or ferry/samples/NAME
  std::string sha256;  // 64 hex
  int64_t size = 0;
};

// ferry itself, carried for a site where no ferry runs yet. An optional key of bundle.json
// ("ferryPackage"): a ferry without it reads the bundle as before and never looks at the entry.
struct BundlePackage {
  std::string kind;     // bundle::kPackageDeb or bundle::kPackageBinary (others: named, not explained)
  std::string path;     // entry path: ferry/NAME, NAME without '/' (ferry/ferry_0.1.0_amd64.deb, ferry/ferry)
  std::string version;  // ferry's version (the package's upstream version)
  std::string arch;     // Debian architecture: amd64, arm64, ...
  std::string sha256;   // 64 hex
  int64_t size = 0;
  std::vector<std::string> libraries;  // a binary's shared libraries (DT_NEEDED sonames); empty for a .deb
};

// Whether NAME can be ferry/NAME for the package: one file name, not one of the bundle's own.
bool IsPackageName(const std::string& name);

struct BundleManifest {
  int format_version = bundle::kFormatVersion;
  std::string ferry_version;
  std::string profile;        // the release profile's name; empty when made from --images or -f
  std::string profile_json;   // the profile with every sha256 filled in (ReleaseProfile::ToJson), or empty
  std::vector<BundleImage> images;  // sorted by source
  std::vector<BundleFile> files;    // in install order, then samples
  // `bundle save --platform`: only these platforms of multi-arch images ("linux/amd64"); empty =
  // every platform, every digest as at the source.
  std::vector<std::string> platform_filter;
  std::optional<BundlePackage> ferry_package;  // `bundle save --include-ferry`

  std::string Serialize() const;  // stable key order, two-space indent
  // Validates everything a reader relies on; a format version from the future is kUnsupported
  // ("made by a newer ferry"). `where` names the archive in messages.
  static Result<BundleManifest> Parse(const std::string& text, const std::string& where);
};

// One entry of an OCI layout's index.json.
struct LayoutEntry {
  std::string name;        // its ref name: "gcr.io/x/y:v1", or a plain tag "v1"
  Descriptor descriptor;   // its top-level manifest
  bool containerd = true;  // also name it for containerd (io.containerd.image.name); not for attachments
};

// index.json naming `entries` in the order given (org.opencontainers.image.ref.name).
std::string LayoutIndexJson(const std::vector<LayoutEntry>& entries);

}  // namespace ferry
