// Writing a file so that readers see the old content or the whole new content, never a part: the
// bytes go to a fresh temporary file in the same directory (created with O_EXCL, never following
// a symbolic link, so nobody can plant one there), which is flushed to disk and renamed over the
// final name; then the directory is flushed, so the rename survives a power cut.
//
// A temporary file is removed when the AtomicFile is destroyed without Commit(), and also when the
// process is stopped by SIGINT, SIGTERM or SIGHUP (Ctrl-C, kill, a closed terminal): see
// RemoveOnSignal below. Temporary names are ".NAME.ferry-PID-N-RANDOM", hidden and never taken
// for a finished file.
#pragma once

#include <sys/types.h>

#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

class AtomicFile {
 public:
  // Starts writing `path`. The file gets the mode of the file it replaces, else 0666 less the
  // umask. Errors (IoError) name `path`: a missing directory, no permission.
  static Result<AtomicFile> Create(const std::string& path);

  AtomicFile(AtomicFile&& other) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  ~AtomicFile();  // removes the temporary file unless committed

  Status Write(std::string_view bytes);
  // Empties the temporary file, for another attempt at its content.
  Status Truncate();
  // Flushes the bytes to disk and closes the descriptor; the file stays temporary until Commit()
  // renames it (or is removed as above). For writers that keep many files to commit together.
  Status Close();
  // Flushes, renames over the final path and flushes the directory. After an error the final
  // path is untouched and the temporary file is gone.
  Status Commit();

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_; }
  int fd() const { return fd_; }

 private:
  AtomicFile(std::string path, std::string temp, int fd, int slot);
  void Discard();

  std::string path_, temp_;
  int fd_ = -1;
  int slot_ = -1;  // in the signal cleanup table
};

// A std::ostream's buffer over an AtomicFile, for writers that stream. The first write error is
// kept (status()) and fails the stream; Commit() through the AtomicFile after flushing.
class AtomicFileBuffer : public std::streambuf {
 public:
  explicit AtomicFileBuffer(AtomicFile& file) : file_(file), buffer_(1 << 18) {
    setp(buffer_.data(), buffer_.data() + buffer_.size());
  }
  const Status& status() const { return status_; }

 protected:
  int_type overflow(int_type c) override;
  int sync() override;

 private:
  AtomicFile& file_;
  std::vector<char> buffer_;
  Status status_;
};

// Writes `content` to `path` through an AtomicFile.
Status WriteFileAtomically(const std::string& path, std::string_view content);

// Files to remove if SIGINT, SIGTERM or SIGHUP stops the process: the first registration installs
// a handler for each of them that is still at its default action; the handler removes the files,
// then lets the signal end the process as it would have. Async-signal-safe; at most 256 files at
// once (beyond that a file is simply not cleaned up on a signal). Returns a slot for Unregister,
// or -1.
int RemoveOnSignal(const std::string& path);
void KeepOnSignal(int slot);

// For commands that run long (mirror, bundle save): installs the handlers above now, also before
// any file is registered, and has them write "ferry: stopped by SIGINT: " + `message` to stderr
// before the process ends, so the user learns what the interruption left and what to do.
void ExplainSignal(const std::string& message);

}  // namespace ferry
