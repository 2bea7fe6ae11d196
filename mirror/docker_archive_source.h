// A `docker save` archive as an image source (skopeo's docker-archive:FILE[:NAME|:@N]): a tar with
// manifest.json listing each image's config and layer files (the layers uncompressed tars, older
// docker as ID/layer.tar, newer as blobs/sha256/HEX). Such an archive has no registry manifest, so
// one is made, as skopeo does: a Docker schema 2 manifest whose config is the config file and whose
// layers are the layer files, uncompressed (application/vnd.docker.image.rootfs.diff.tar), each
// named by its diff_id from the config. The same archive always gives the same manifest digest.
// Read front to back like any archive (sequential), without extracting it.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "mirror/archive_scanner.h"

namespace ferry {

class DockerArchiveSource : public ImageSource {
 public:
  // Reads the archive once (the layers' headers only are needed) and makes every image's manifest.
  static Result<std::unique_ptr<DockerArchiveSource>> Open(const std::string& path);

  // The image `name` names: a RepoTag ("app:1", also as "docker.io/library/app:1"), "@N" (the
  // N-th of manifest.json, from 0), or "" for the only image.
  Result<ImageLocator> Find(const std::string& name) const;

  std::string Where(const std::string& repository) const override;
  Result<Manifest> GetManifest(const std::string& repository, const std::string& identifier) override;
  Result<std::vector<std::string>> ListTags(const std::string& repository) override;
  bool sequential() const override { return true; }
  Status Scan(const std::map<std::string, Descriptor>& wanted, const BlobVisitor& visit) override {
    return scanner_.Scan(wanted, visit);
  }
  int passes() const override { return scanner_.passes(); }

 private:
  struct Image {
    std::vector<std::string> tags;  // RepoTags
    Manifest manifest;
  };

  explicit DockerArchiveSource(std::unique_ptr<BundleReader> reader);
  Status Learn();
  Status MakeImages(const std::string& manifest_json, std::map<std::string, std::string>& small,
                    const std::map<std::string, int64_t>& sizes);

  ArchiveScanner scanner_;
  std::map<std::string, std::string> digest_of_;  // entry path -> blob digest (configs, layers)
  std::vector<Image> images_;
};

}  // namespace ferry
