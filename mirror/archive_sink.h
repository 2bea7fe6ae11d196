// An archive as an image sink: an oci-archive (one OCI image layout in a tar, what skopeo's
// oci-archive: reads) or a ferry bundle, which is the same plus ferry/bundle.json and the release
// files (format: mirror/bundle_format.h; writing: mirror/bundle_writer.h).
//
// The archive is laid out from the whole plan (wants_plan): oci-layout, index.json, bundle.json,
// the files, ferry's own package (when carried), every manifest and config (sorted by digest), then the layers (sorted), each blob
// once; the blobs come one at a time in that order (sequential). The same inputs give a
// byte-identical archive. Nothing appears at the path before Finish(); a sink destroyed before
// that (any failure) removes its temporary files.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/bundle_writer.h"
#include "mirror/image_sink.h"

namespace ferry {

// A file carried in a ferry bundle besides the images.
struct BundleSaveFile {
  std::string name;  // in the archive: ferry/manifests/NAME (or ferry/samples/NAME); may hold '/'
  std::string path;  // on disk; or, for `text`, how messages name it
  bool sample = false;
  std::optional<std::string_view> text;  // the bytes, when built into ferry (samples); outlives the sink
};

// ferry itself, carried as bundle.json's ferryPackage (mirror/bundle_package.h chooses it).
struct BundleSavePackage {
  std::string path;       // on disk
  BundlePackage record;   // sha256 and size are filled in when the sink reads the file
};

// What makes an archive a ferry bundle; empty for a plain oci-archive.
struct BundleInfo {
  std::string ferry_version;
  std::string profile;       // the profile's name, or empty
  std::string profile_json;  // the profile with every sum filled in, or empty
  std::vector<std::string> platform_filter;
  std::vector<BundleSaveFile> files;  // release files in install order, then samples
  std::optional<BundleSavePackage> ferry_package;  // after the files, before the blobs
};

class ArchiveSink : public ImageSink {
 public:
  // Reads and hashes every file of `bundle` (and ferry's package) now, so a missing file fails
  // before any image is read.
  static Result<std::unique_ptr<ArchiveSink>> Create(const std::string& path, const BundleWriterOptions& options,
                                                     std::optional<BundleInfo> bundle);

  std::string Where(const std::string& repository) const override;
  bool wants_plan() const override { return true; }
  bool sequential() const override { return true; }
  Status Begin(const CopyPlan& plan) override;
  std::vector<Descriptor> BlobOrder(const std::vector<Descriptor>& blobs) const override;
  Result<bool> HasBlob(const std::string& repository, const Descriptor& blob) override;
  Status PutBlob(const std::string& repository, const Descriptor& blob, const BodyReader& reader) override;
  Result<std::optional<std::string>> ManifestDigest(const std::string& repository,
                                                    const std::string& identifier) override;
  Status PutManifest(const std::string& repository, const std::string& identifier, const Manifest& manifest) override;
  Status Finish() override;

  // After Begin: bundle.json as written (a plain oci-archive: its images only).
  const BundleManifest& manifest() const { return manifest_; }
  // After Finish: the archive's parts, size and sha256.
  const BundleOutput& output() const { return output_; }
  int blobs() const { return static_cast<int>(written_.size()); }  // manifests included
  int64_t blob_bytes() const { return blob_bytes_; }

 private:
  ArchiveSink(std::string path, BundleWriterOptions options, std::optional<BundleInfo> bundle);
  Status AddBlob(const Descriptor& blob, std::string_view bytes);
  // Writes the planned manifests whose digest sorts before `digest` (all of them for "").
  Status WriteManifestsBefore(const std::string& digest);

  std::string path_;
  BundleWriterOptions options_;
  std::optional<BundleInfo> bundle_;
  std::vector<BundleFile> files_;  // bundle_->files, described
  std::optional<BundlePackage> package_;  // bundle_->ferry_package, described
  std::unique_ptr<BundleWriter> writer_;
  BundleManifest manifest_;
  std::map<std::pair<std::string, std::string>, std::string> planned_;  // (repository, tag) -> digest
  std::set<std::string> configs_;             // config digests: written before the layers
  std::set<std::string> written_;             // every blob entry so far
  std::map<std::string, std::string> pending_;  // manifests not written yet, by digest
  int64_t blob_bytes_ = 0;
  BundleOutput output_;
};

}  // namespace ferry
