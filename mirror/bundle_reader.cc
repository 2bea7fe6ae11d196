#include "mirror/bundle_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>

#include "common/strings.h"
#include "mirror/bundle_format.h"

namespace ferry {
namespace fs = std::filesystem;

namespace {

bool IsPartSuffix(const std::string& s) {
  return s.size() >= 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string PartName(const std::string& base, int index) {
  std::string n = std::to_string(index);
  return base + "." + std::string(n.size() < 3 ? 3 - n.size() : 0, '0') + n;
}

// The bytes of several files, one after the other, for libarchive's read callback.
struct PartStream {
  const std::vector<std::string>* files = nullptr;
  size_t next = 0;
  std::ifstream in;
  std::vector<char> buffer = std::vector<char>(256 << 10);

  static la_ssize_t ReadCallback(archive* a, void* self, const void** out) {
    auto* s = static_cast<PartStream*>(self);
    for (;;) {
      if (s->in.is_open()) {
        s->in.read(s->buffer.data(), static_cast<std::streamsize>(s->buffer.size()));
        if (s->in.gcount() > 0) {
          *out = s->buffer.data();
          return static_cast<la_ssize_t>(s->in.gcount());
        }
        if (s->in.bad()) {
          archive_set_error(a, EIO, "cannot read %s", (*s->files)[s->next - 1].c_str());
          return -1;
        }
        s->in.close();
      }
      if (s->next >= s->files->size()) return 0;
      s->in.clear();
      s->in.open((*s->files)[s->next++], std::ios::binary);
      if (!s->in) {
        archive_set_error(a, errno ? errno : EIO, "cannot open %s", (*s->files)[s->next - 1].c_str());
        return -1;
      }
    }
  }
  static int CloseCallback(archive*, void* self) {
    static_cast<PartStream*>(self)->in.close();
    return ARCHIVE_OK;
  }
};

// A tar archive (any compression libarchive knows), read from one file or parts in order.
class ArchiveReader : public BundleReader {
 public:
  ArchiveReader(std::vector<std::string> files, std::string where) : files_(std::move(files)) {
    where_ = std::move(where);
  }
  ~ArchiveReader() override { Close(); }

  Status Rewind() override {
    Close();
    archive_ = archive_read_new();
    // Only what ferry and skopeo write, decoded in this process: support_filter_all would also
    // hand an untrusted archive to external programs (lrzip, lzop, grzip...). ARCHIVE_WARN from
    // these means the same: no built-in decoder, an external one instead.
    if (archive_read_support_filter_gzip(archive_) != ARCHIVE_OK ||
        archive_read_support_filter_zstd(archive_) != ARCHIVE_OK) {
      Close();
      return Internal(where_ + ": this libarchive has no built-in gzip or zstd decoder, and ferry runs no "
                               "external decompressor");
    }
    archive_read_support_format_tar(archive_);
    stream_ = PartStream{&files_};
    // Not archive_read_open_filenames: libarchive 3.6 crashes there when a compressed stream
    // spans several files. The parts are simply concatenated here.
    if (archive_read_open(archive_, &stream_, nullptr, &PartStream::ReadCallback, &PartStream::CloseCallback) !=
        ARCHIVE_OK) {
      // EILSEQ is libarchive's ARCHIVE_ERRNO_FILE_FORMAT on Linux (not in its public header).
      Status s = archive_errno(archive_) == EILSEQ
                     ? InvalidArgument(where_ + ": not a bundle: ferry reads tar, tar.gz or tar.zst archives (" +
                                       Error() + ")")
                     : IoError(where_ + ": cannot open: " + Error());
      Close();
      return s;
    }
    return Status::Ok();
  }

  Result<bool> Next(BundleEntry* entry) override {
    if (!archive_) FERRY_RETURN_IF_ERROR(Rewind());
    char scratch[64 << 10];
    while (in_entry_) {  // drain what is left, so a truncation names this entry and where it stops
      Result<size_t> n = Read(scratch, sizeof scratch);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
    }
    for (;;) {
      archive_entry* e = nullptr;
      int64_t position = archive_read_header_position(archive_);
      int r = archive_read_next_header(archive_, &e);
      if (r == ARCHIVE_EOF) return false;
      if (r < ARCHIVE_WARN)
        return DataLoss(where_ + ": truncated or corrupt archive: cannot read the entry header at byte " +
                        std::to_string(position) + (last_.empty() ? "" : " (after entry " + Quote(last_) + ")") +
                        ": " + Error());
      const char* raw = archive_entry_pathname(e);
      std::string name = raw ? raw : "";
      Result<std::string> path = CheckEntryPath(name, where_);
      if (!path.ok()) return path.status();
      std::string at = where_ + ": entry " + Quote(name) + " is ";
      if (archive_entry_hardlink(e)) return InvalidArgument(at + "a hard link (to " + Quote(archive_entry_hardlink(e)) + "); refusing the archive");
      switch (archive_entry_filetype(e)) {
        case AE_IFREG: break;
        case AE_IFDIR: continue;
        case AE_IFLNK:
          if (skip_symlinks_) continue;
          return InvalidArgument(at + "a symbolic link; refusing the archive");
        case AE_IFCHR:
        case AE_IFBLK: return InvalidArgument(at + "a device file; refusing the archive");
        default: return InvalidArgument(at + "not a regular file; refusing the archive");
      }
      current_ = {*path, archive_entry_size(e), archive_read_header_position(archive_)};
      last_ = *path;
      done_ = 0;
      in_entry_ = true;
      *entry = current_;
      return true;
    }
  }

  Result<size_t> Read(char* buffer, size_t size) override {
    if (!in_entry_) return size_t{0};
    la_ssize_t n = archive_read_data(archive_, buffer, size);
    if (n < 0 || (n == 0 && done_ < current_.size)) {
      in_entry_ = false;
      return DataLoss(where_ + ": truncated archive: entry " + Quote(current_.path) + " (header at byte " +
                      std::to_string(current_.offset) + ") ends after " + std::to_string(done_) + " of its " +
                      std::to_string(current_.size) + " bytes" + (n < 0 ? ": " + Error() : std::string()));
    }
    done_ += n;
    if (n == 0) in_entry_ = false;
    return static_cast<size_t>(n);
  }

 private:
  std::string Error() const {
    const char* e = archive_ ? archive_error_string(archive_) : nullptr;
    return e ? e : "unknown libarchive error";
  }
  void Close() {
    if (archive_) archive_read_free(archive_);
    archive_ = nullptr;
    in_entry_ = false;
    last_.clear();
  }

  std::vector<std::string> files_;
  PartStream stream_;
  archive* archive_ = nullptr;
  BundleEntry current_;
  std::string last_;
  int64_t done_ = 0;
  bool in_entry_ = false;
};

// An OCI layout directory: metadata first, then small blobs, then large ones.
class DirectoryReader : public BundleReader {
 public:
  explicit DirectoryReader(std::string root) : root_(std::move(root)) { where_ = root_; }

  Status Rewind() override {
    entries_.clear();
    next_ = 0;
    file_.close();
    std::error_code ec;
    for (fs::recursive_directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
      std::string rel = fs::relative(it->path(), root_, ec).generic_string();
      fs::file_status st = it->symlink_status(ec);
      std::string at = where_ + ": entry " + Quote(rel) + " is ";
      if (fs::is_symlink(st) && skip_symlinks_) continue;
      if (fs::is_symlink(st)) return InvalidArgument(at + "a symbolic link; refusing the layout");
      if (fs::is_directory(st)) continue;
      if (!fs::is_regular_file(st)) return InvalidArgument(at + "a device or other special file; refusing the layout");
      entries_.push_back({rel, static_cast<int64_t>(it->file_size(ec)), 0});
    }
    if (ec) return IoError(where_ + ": cannot list the directory: " + ec.message());
    auto rank = [](const BundleEntry& e) {
      if (e.path == "oci-layout") return 0;
      if (e.path == "index.json") return 1;
      if (e.path == "ferry/bundle.json") return 2;
      if (!e.path.starts_with("blobs/")) return 3;
      return e.size <= bundle::kSmallEntry ? 4 : 5;
    };
    std::sort(entries_.begin(), entries_.end(), [&](const BundleEntry& a, const BundleEntry& b) {
      return std::make_pair(rank(a), a.path) < std::make_pair(rank(b), b.path);
    });
    started_ = true;
    return Status::Ok();
  }

  Result<bool> Next(BundleEntry* entry) override {
    if (!started_) FERRY_RETURN_IF_ERROR(Rewind());
    file_.close();
    if (next_ >= entries_.size()) return false;
    current_ = entries_[next_++];
    file_.clear();
    file_.open(root_ + "/" + current_.path, std::ios::binary);
    if (!file_) return IoError(where_ + ": cannot open " + current_.path);
    done_ = 0;
    *entry = current_;
    return true;
  }

  Result<size_t> Read(char* buffer, size_t size) override {
    if (!file_.is_open() || done_ >= current_.size) return size_t{0};
    size = static_cast<size_t>(std::min<int64_t>(static_cast<int64_t>(size), current_.size - done_));
    file_.read(buffer, static_cast<std::streamsize>(size));
    size_t n = static_cast<size_t>(file_.gcount());
    if (n == 0)
      return DataLoss(where_ + ": " + current_.path + " ends after " + std::to_string(done_) + " of its " +
                      std::to_string(current_.size) + " bytes (changed while reading?)");
    done_ += static_cast<int64_t>(n);
    return n;
  }

 private:
  std::string root_;
  std::vector<BundleEntry> entries_;
  size_t next_ = 0;
  bool started_ = false;
  BundleEntry current_;
  std::ifstream file_;
  int64_t done_ = 0;
};

}  // namespace

Result<std::string> BundleReader::ReadAll(size_t limit) {
  std::string out;
  char buffer[64 << 10];
  for (;;) {
    Result<size_t> n = Read(buffer, sizeof buffer);
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    if (out.size() + *n > limit)
      return InvalidArgument(where_ + ": an entry expected to be small is over " + std::to_string(limit) + " bytes");
    out.append(buffer, *n);
  }
}

Result<std::string> CheckEntryPath(const std::string& path, const std::string& where) {
  const std::string at = where + ": entry " + Quote(path);
  if (path.empty()) return InvalidArgument(where + ": an entry has an empty name; refusing the archive");
  if (path.front() == '/') return InvalidArgument(at + " has an absolute path; refusing the archive");
  std::string out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part == "..") return InvalidArgument(at + " has a '..' component; refusing the archive");
    if (!part.empty() && part != ".") out += (out.empty() ? "" : "/") + part;
    start = end + 1;
  }
  if (out.empty()) return InvalidArgument(at + " names no file; refusing the archive");
  return out;
}

Result<std::vector<std::string>> FindBundleParts(const std::string& path, std::string* where) {
  std::error_code ec;
  std::string base;
  size_t dot = path.rfind('.');
  if (dot != std::string::npos && IsPartSuffix(path.substr(dot + 1)) && fs::exists(path, ec) &&
      std::stoi(path.substr(dot + 1)) == 0)
    base = path.substr(0, dot);
  else if (fs::exists(path + ".000", ec))
    base = path;
  else if (fs::exists(path, ec)) {
    *where = path;
    return std::vector<std::string>{path};
  } else {
    return NotFound(path + ": no such file (nor split parts " + path + ".000, …)");
  }
  *where = base;
  fs::path dir = fs::path(base).parent_path();
  std::string prefix = fs::path(base).filename().string() + ".";
  std::map<int, int64_t> sizes;
  for (const auto& e : fs::directory_iterator(dir.empty() ? fs::path(".") : dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.starts_with(prefix) && IsPartSuffix(name.substr(prefix.size())) && name.size() - prefix.size() < 9)
      sizes[std::stoi(name.substr(prefix.size()))] = static_cast<int64_t>(e.file_size(ec));
  }
  if (ec) return IoError(base + ": cannot list the split parts: " + ec.message());
  std::vector<std::string> parts;
  int last = sizes.empty() ? 0 : sizes.rbegin()->first;
  for (int i = 0; i <= last; ++i) {
    if (!sizes.count(i))
      return NotFound(base + ": split part " + PartName(base, i) + " is missing (found parts up to " +
                      PartName(base, last) + "); copy every part next to the first");
    if (i < last && sizes[i] != sizes[0])
      return DataLoss(base + ": split part " + PartName(base, i) + " has " + std::to_string(sizes[i]) +
                      " bytes but " + PartName(base, 0) + " has " + std::to_string(sizes[0]) +
                      "; every part but the last has the same size, so this one is incomplete");
    parts.push_back(PartName(base, i));
  }
  return parts;
}

Result<std::unique_ptr<BundleReader>> BundleReader::Open(const std::string& path, bool skip_symlinks) {
  std::error_code ec;
  std::unique_ptr<BundleReader> reader;
  if (fs::is_directory(path, ec)) {
    reader.reset(new DirectoryReader(path));
  } else {
    std::string where;
    Result<std::vector<std::string>> parts = FindBundleParts(path, &where);
    if (!parts.ok()) return parts.status();
    reader.reset(new ArchiveReader(std::move(*parts), where));
  }
  reader->skip_symlinks_ = skip_symlinks;
  return reader;
}

}  // namespace ferry
