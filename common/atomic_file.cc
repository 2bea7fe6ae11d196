// Atomic file replacement and removal of temporary files on a signal; see atomic_file.h.
#include "common/atomic_file.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace ferry {
namespace {

std::string Errno() { return std::strerror(errno); }

// ---- removal on a signal ---------------------------------------------------------------------

constexpr int kSlots = 256;
enum SlotState : int { kFree = 0, kClaimed = 1, kArmed = 2 };

struct Slot {
  std::atomic<int> state{kFree};
  char path[PATH_MAX];
};
Slot slots[kSlots];

constexpr int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

char explanation[1024];
std::atomic<size_t> explanation_size{0};

void WriteAll(const char* text, size_t size) {
  while (size > 0) {
    ssize_t n = write(STDERR_FILENO, text, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text += n;
    size -= static_cast<size_t>(n);
  }
}

// Only async-signal-safe calls: unlink, write, sigaction, raise.
void RemoveFilesAndDie(int signal) {
  int saved = errno;
  for (Slot& slot : slots)
    if (slot.state.load(std::memory_order_acquire) == kArmed) unlink(slot.path);
  if (size_t size = explanation_size.load(std::memory_order_acquire); size > 0) {
    const char* name = signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "SIGHUP";
    for (const char* part : {"\nferry: stopped by ", name, ": "}) WriteAll(part, std::strlen(part));
    WriteAll(explanation, size);
    WriteAll("\n", 1);
  }
  errno = saved;
  struct sigaction action {};
  action.sa_handler = SIG_DFL;
  sigemptyset(&action.sa_mask);
  sigaction(signal, &action, nullptr);
  raise(signal);  // the default action now: the process ends as if the handler were never there
}

// Checked at every registration, so a signal whose handler was put back to the default (by a
// command that handled it for a while) is covered again.
void InstallHandlers() {
  for (int signal : kSignals) {
    struct sigaction current {};
    if (sigaction(signal, nullptr, &current) != 0 || (current.sa_flags & SA_SIGINFO) ||
        current.sa_handler != SIG_DFL)
      continue;  // ours already, or someone else handles (or ignores) it: leave theirs
    struct sigaction action {};
    action.sa_handler = RemoveFilesAndDie;
    sigemptyset(&action.sa_mask);
    for (int other : kSignals) sigaddset(&action.sa_mask, other);
    sigaction(signal, &action, nullptr);
  }
}

// ---- temporary names -------------------------------------------------------------------------

std::string RandomHex() {
  unsigned char bytes[6] = {};
  if (getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    static std::atomic<unsigned> fallback{0};
    unsigned n = fallback++ ^ static_cast<unsigned>(getpid());
    std::memcpy(bytes, &n, sizeof n);
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

// ("DIR/", "NAME") of a path; DIR is "" for a bare name.
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {"", path};
  return {path.substr(0, slash + 1), path.substr(slash + 1)};
}

Status SyncDirectory(const std::string& dir, const std::string& path) {
  int fd = open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open the directory of " + path + " to flush it: " + Errno());
  int rc = fsync(fd);
  int saved = errno;
  close(fd);
  // Some file systems cannot flush a directory (EINVAL); the rename is done all the same.
  if (rc != 0 && saved != EINVAL && saved != EROFS) {
    errno = saved;
    return IoError("cannot flush the directory of " + path + ": " + Errno());
  }
  return Status::Ok();
}

}  // namespace

int RemoveOnSignal(const std::string& path) {
  if (path.size() >= PATH_MAX) return -1;
  InstallHandlers();
  for (int i = 0; i < kSlots; ++i) {
    int expected = kFree;
    if (!slots[i].state.compare_exchange_strong(expected, kClaimed, std::memory_order_acq_rel)) continue;
    std::memcpy(slots[i].path, path.c_str(), path.size() + 1);
    slots[i].state.store(kArmed, std::memory_order_release);
    return i;
  }
  return -1;
}

void ExplainSignal(const std::string& message) {
  size_t size = std::min(message.size(), sizeof explanation);
  explanation_size.store(0, std::memory_order_release);
  std::memcpy(explanation, message.data(), size);
  explanation_size.store(size, std::memory_order_release);
  InstallHandlers();
}

void KeepOnSignal(int slot) {
  if (slot >= 0 && slot < kSlots) slots[slot].state.store(kFree, std::memory_order_release);
}

AtomicFile::AtomicFile(std::string path, std::string temp, int fd, int slot)
    : path_(std::move(path)), temp_(std::move(temp)), fd_(fd), slot_(slot) {}

AtomicFile::AtomicFile(AtomicFile&& other) noexcept
    : path_(std::move(other.path_)), temp_(std::move(other.temp_)), fd_(other.fd_), slot_(other.slot_) {
  other.fd_ = -1;
  other.slot_ = -1;
  other.temp_.clear();
}

AtomicFile::~AtomicFile() { Discard(); }

void AtomicFile::Discard() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  if (!temp_.empty()) unlink(temp_.c_str());
  temp_.clear();
  KeepOnSignal(slot_);
  slot_ = -1;
}

Result<AtomicFile> AtomicFile::Create(const std::string& path) {
  if (path.empty()) return InvalidArgument("no file name to write");
  auto [dir, name] = SplitPath(path);
  if (name.empty() || name == "." || name == "..") return InvalidArgument(path + ": not a file name");
  static std::atomic<unsigned> counter{0};
  for (int tries = 0; tries < 100; ++tries) {
    std::string temp = dir + "." + name + ".ferry-" + std::to_string(getpid()) + "-" +
                       std::to_string(counter++) + "-" + RandomHex();
    int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);  // mode under umask
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) return IoError("cannot write " + path + ": cannot create a file beside it: " + Errno());
    int slot = RemoveOnSignal(temp);
    AtomicFile file(path, temp, fd, slot);
    // Replacing a file keeps its permissions (a 0600 secret stays 0600).
    struct stat existing {};
    if (stat(path.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
        fchmod(fd, existing.st_mode & 07777) != 0)
      return IoError("cannot write " + path + ": cannot set the mode of " + temp + ": " + Errno());
    return file;
  }
  return IoError("cannot write " + path + ": no free temporary name beside it");
}

Status AtomicFile::Write(std::string_view bytes) {
  if (fd_ < 0) return Internal("write to " + path_ + " after it was closed, committed or abandoned");
  while (!bytes.empty()) {
    ssize_t n = write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot write " + path_ + ": " + Errno());
      Discard();
      return s;
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status AtomicFile::Truncate() {
  if (fd_ < 0) return Internal("truncating " + path_ + " after it was committed or abandoned");
  if (ftruncate(fd_, 0) != 0 || lseek(fd_, 0, SEEK_SET) != 0) return IoError("cannot write " + path_ + ": " + Errno());
  return Status::Ok();
}

Status AtomicFile::Close() {
  if (fd_ < 0) return Internal("closing " + path_ + " after it was closed, committed or abandoned");
  Status s;
  if (fsync(fd_) != 0) s = IoError("cannot write " + path_ + ": " + Errno());
  int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0 && s.ok()) s = IoError("cannot write " + path_ + ": " + Errno());
  if (!s.ok()) Discard();
  return s;
}

Status AtomicFile::Commit() {
  if (temp_.empty()) return Internal("commit of " + path_ + " after it was committed or abandoned");
  Status s = fd_ >= 0 ? Close() : Status::Ok();
  if (s.ok() && rename(temp_.c_str(), path_.c_str()) != 0) s = IoError("cannot replace " + path_ + ": " + Errno());
  if (!s.ok()) {
    Discard();
    return s;
  }
  temp_.clear();
  KeepOnSignal(slot_);
  slot_ = -1;
  return SyncDirectory(SplitPath(path_).first, path_);
}

AtomicFileBuffer::int_type AtomicFileBuffer::overflow(int_type c) {
  if (sync() != 0) return traits_type::eof();
  if (!traits_type::eq_int_type(c, traits_type::eof())) {
    *pptr() = traits_type::to_char_type(c);
    pbump(1);
  }
  return traits_type::not_eof(c);
}

int AtomicFileBuffer::sync() {
  if (!status_.ok()) return -1;
  status_ = file_.Write(std::string_view(pbase(), static_cast<size_t>(pptr() - pbase())));
  setp(buffer_.data(), buffer_.data() + buffer_.size());
  return status_.ok() ? 0 : -1;
}

Status WriteFileAtomically(const std::string& path, std::string_view content) {
  Result<AtomicFile> file = AtomicFile::Create(path);
  if (!file.ok()) return file.status();
  FERRY_RETURN_IF_ERROR(file->Write(content));
  return file->Commit();
}

}  // namespace ferry
