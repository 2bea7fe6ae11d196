// Reads an archive (or an OCI layout directory) front to back for a sequential image source
// (layout_source.h, docker_archive_source.h): a first part of a pass that learns what the archive
// holds, then passes that hand over the blobs the copy engine wants as they come by.
//
// A pass goes on from where learning stopped, so an archive that has its metadata and manifests
// first (a ferry bundle) is read once. Small blobs read while learning can be kept (16 MiB in all)
// and are handed over without another pass. A wanted blob that a whole pass did not find is
// DataLoss: the archive is truncated or a part is missing.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "mirror/bundle_reader.h"
#include "mirror/image_source.h"

namespace ferry {

class ArchiveScanner {
 public:
  // The digest of the blob an entry holds, or "" when it holds none.
  using DigestOf = std::function<std::string(const std::string& path)>;

  ArchiveScanner(std::unique_ptr<BundleReader> reader, DigestOf digest_of)
      : reader_(std::move(reader)), digest_of_(std::move(digest_of)) {}

  const std::string& where() const { return reader_->where(); }
  int passes() const { return passes_; }

  // Reads entries from the start, giving each to `learn`, until it returns true (it knows enough)
  // or the archive ends. The next Scan goes on from there.
  using Learner = std::function<Result<bool>(const BundleEntry& entry, BundleReader& reader)>;
  Status Learn(const Learner& learn);
  // Keeps a small blob read while learning (false when over the budget: the pass reads it again).
  bool Keep(const std::string& digest, std::string bytes);

  // Hands over the kept blobs that are wanted, then reads to the end of the current pass (a new
  // one when it has ended), calling `visit` for each wanted blob. Sizes are checked here.
  Status Scan(const std::map<std::string, Descriptor>& wanted, const ImageSource::BlobVisitor& visit);

 private:
  Status Visit(const Descriptor& blob, int64_t size, const std::string& path, const BodyReader& read,
               const ImageSource::BlobVisitor& visit) const;

  std::unique_ptr<BundleReader> reader_;
  DigestOf digest_of_;
  int passes_ = 0;
  bool in_pass_ = false;  // a pass is under way (learning stopped inside it)
  std::map<std::string, std::string> kept_;
  int64_t kept_bytes_ = 0;
  std::map<std::string, int64_t> seen_;  // every blob of a whole pass
};

}  // namespace ferry
