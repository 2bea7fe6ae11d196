// Reads a bundle (or any OCI image layout) entry by entry, as a stream: a tar archive, plain or
// gzip/zstd compressed, possibly split into NAME.000, NAME.001, …; or an OCI layout directory.
//
// Nothing is extracted to disk and memory does not grow with an entry's size: a caller asks for
// the next entry, then reads its bytes in chunks. Every entry is checked before it is returned;
// these refuse the whole archive with an error naming the entry: absolute paths, '..' components,
// symbolic links, hard links, device files and other special files. A read that stops early
// (truncated archive, a missing last part) is DataLoss naming the entry and its byte offset.
//
// A directory yields oci-layout, index.json, ferry/… first, then the blobs of up to 4 MiB, then
// the larger ones, so manifests come before layers whatever order the writer used.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry {

struct BundleEntry {
  std::string path;     // relative, '/'-separated, no leading "./"
  int64_t size = 0;
  int64_t offset = 0;   // of its header in the (uncompressed) tar stream; 0 in a directory
};

class BundleReader {
 public:
  virtual ~BundleReader() = default;

  // Opens a directory, a tar file, or split parts (given NAME.000, or NAME when NAME.000 exists).
  // A gap in the parts, or a part of the wrong size, fails naming the part. Reads nothing else yet.
  // With `skip_symlinks` symbolic links are passed over instead of refused: `docker save` archives
  // hold ID/layer.tar links beside the files their manifest.json names.
  static Result<std::unique_ptr<BundleReader>> Open(const std::string& path, bool skip_symlinks = false);

  // How messages name the bundle: the path given, or NAME for split parts.
  const std::string& where() const { return where_; }

  // Starts a pass from the first entry; Next() calls Rewind() itself on first use.
  virtual Status Rewind() = 0;
  // Moves to the next regular file, skipping what is left of the current one. false at the end.
  virtual Result<bool> Next(BundleEntry* entry) = 0;
  // Up to `size` bytes of the current entry; 0 at its end.
  virtual Result<size_t> Read(char* buffer, size_t size) = 0;

  // The whole current entry (what is left of it), refused when it is over `limit` bytes.
  Result<std::string> ReadAll(size_t limit);

 protected:
  std::string where_;
  bool skip_symlinks_ = false;
};

// The files to read for `path`, in order: [path] for one file, or every split part. Errors name
// the first missing part, or a part whose size differs from NAME.000's (all but the last are equal).
Result<std::vector<std::string>> FindBundleParts(const std::string& path, std::string* where);

// Normalises an entry path ("./a//b" -> "a/b"); refuses an absolute path or a ".." component.
Result<std::string> CheckEntryPath(const std::string& path, const std::string& where);

}  // namespace ferry
