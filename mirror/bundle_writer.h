// Writes one bundle archive (see mirror/bundle_format.h): a tar, optionally zstd-compressed,
// optionally split into parts, that is either complete or not there at all.
//
// Entries go in the order they are added; the caller chooses it. Every header is deterministic
// (pax restricted: mtime 0, uid/gid 0, no owner names, mode 0644 unless a stream asks for 0755),
// and zstd output does not depend on the number of threads (always zstd's multi-threaded mode with
// a fixed job size, whose output is the same for any worker count >= 1), so the same entries give
// byte-identical output. zstd frames carry a content checksum.
//
// Streamed entries have a known size and digest: their bytes go straight into the archive (memory
// does not grow with the entry) and are hashed on the way. Too many or too few bytes, a digest
// mismatch, a producer error or a write error fails the whole writer: temporary files are removed
// and every later call returns that first error.
//
// Output goes to temporary files beside the final names (common/atomic_file.h: removed also when
// Ctrl-C or kill stops ferry), renamed at Finish(). With a split size the final byte stream (after compression) is cut into
// NAME.000, NAME.001, ...: every part except the last exactly split_size bytes, at most 1000 parts;
// .000 is renamed last, so whoever sees it sees every part, and stale NAME.NNN beyond the last part
// (from an earlier, larger run) are removed. Concatenating the parts gives the archive.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/atomic_file.h"
#include "common/sha256.h"
#include "common/status.h"

struct archive;
struct ZSTD_CCtx_s;

namespace ferry {

struct BundleWriterOptions {
  bool zstd = false;
  int zstd_level = 3;
  int zstd_threads = 2;     // workers; any value >= 1 gives the same bytes
  uint64_t split_size = 0;  // 0: one file at `path`
};

struct BundlePart {
  std::string path;
  uint64_t size = 0;
  std::string sha256;  // 64 hex
};

struct BundleOutput {
  std::vector<BundlePart> parts;  // one, at the path asked for, unless split
  uint64_t size = 0;              // of the whole byte stream
  std::string sha256;             // 64 hex, of the whole byte stream (the parts concatenated)
};

using ChunkSink = std::function<Status(std::string_view chunk)>;
// Streams an entry's bytes to the sink it is given; returns the first error (its own or the sink's).
using StreamProducer = std::function<Status(const ChunkSink& sink)>;

class BundleWriter {
 public:
  // Starts writing; nothing appears at `path` (or its parts) before Finish().
  static Result<std::unique_ptr<BundleWriter>> Create(const std::string& path, const BundleWriterOptions& options);
  ~BundleWriter();  // without a successful Finish(): Abort()
  BundleWriter(const BundleWriter&) = delete;
  BundleWriter& operator=(const BundleWriter&) = delete;

  // An entry from memory. Names must be relative, unique and free of "..".
  Status AddFile(const std::string& name, std::string_view content);
  // An entry of exactly `size` bytes whose sha256 must be `digest` ("sha256:<hex>" or bare hex).
  // `mode` 0755 for a program that must run once extracted (ferry's own binary); else 0644.
  Status AddStream(const std::string& name, int64_t size, const std::string& digest, const StreamProducer& produce,
                   int mode = 0644);
  // Ends the archive, syncs and renames the temporary files into place.
  Result<BundleOutput> Finish();
  // Gives up: removes every temporary file. Safe to call more than once.
  void Abort();

 private:
  BundleWriter(std::string path, BundleWriterOptions options);
  Status Open();
  Status WriteHeader(const std::string& name, int64_t size, int mode = 0644);
  Status WriteData(std::string_view bytes);
  Status Fail(Status status);  // records the first error and aborts
  Status Checked(bool ok, const std::string& what);
  Status Output(const char* data, size_t size);      // the tar stream, from libarchive
  Status Compress(const char* data, size_t size, bool end);
  Status WriteBytes(const char* data, size_t size);  // the final byte stream, into the parts
  Status OpenPart();
  Status ClosePart();
  std::string FinalName(size_t index) const;
  static long WriteCallback(struct archive* archive, void* self, const void* buffer, size_t length);

  struct Part {
    std::string final;
    std::optional<AtomicFile> file;  // the part's temporary file until Finish() commits it
    uint64_t size = 0;
    Sha256 hash;
    std::string sha256;
  };

  std::string path_;
  BundleWriterOptions options_;
  struct archive* archive_ = nullptr;
  struct ZSTD_CCtx_s* zstd_ = nullptr;  // with options.zstd
  std::string zstd_out_;
  std::vector<Part> parts_;
  Sha256 whole_;
  uint64_t total_ = 0;
  Status failed_;
  Status output_error_;  // set by Output(); libarchive never sees it (WriteCallback)
  bool done_ = false;
  std::set<std::string> names_;
};

// "NAME.000", "NAME.001", ...: the file names of a split archive's parts.
std::string BundlePartPath(const std::string& path, size_t index);

// "4G", "650M", "4000MB", "4GiB", "1048576": K, M, G, T (and KB, MB, ...) are powers of 1000, KiB,
// MiB, GiB, TiB powers of 1024. Decimal on purpose: FAT32 holds files up to 4 GiB - 1 byte, so
// "--split-size 4G" (4,000,000,000 bytes) fits it, and DVD sizes are decimal too.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace ferry
