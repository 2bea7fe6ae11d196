#include "mirror/bundle_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>
#include <zstd.h>

#include <cctype>
#include <cstdint>
#include <cstring>
#include <filesystem>

namespace ferry {
namespace {

constexpr size_t kMaxParts = 1000;
// Fixed, so the output does not depend on zstd's defaults; small, so memory stays low.
constexpr int kZstdJobSize = 2 << 20;

std::string Hex(const std::string& digest) { return digest.starts_with("sha256:") ? digest.substr(7) : digest; }

}  // namespace

std::string BundlePartPath(const std::string& path, size_t index) {
  char suffix[16];
  std::snprintf(suffix, sizeof suffix, ".%03zu", index);
  return path + suffix;
}

Result<uint64_t> ParseByteSize(std::string_view text) {
  size_t digits = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
  std::string unit(text.substr(digits));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string bad = "invalid size \"" + std::string(text) + "\": write bytes or a number with K, M, G, T "
                          "(powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024), e.g. 4G";
  if (digits == 0 || digits > 15) return InvalidArgument(bad);
  uint64_t value = std::stoull(std::string(text.substr(0, digits)));
  static const char* const kUnits = "KMGT";
  uint64_t scale = 1;
  if (!unit.empty()) {
    const char* at = std::strchr(kUnits, unit[0]);
    std::string rest = unit.substr(1);
    if (at == nullptr || *at == '\0' || !(rest.empty() || rest == "B" || rest == "IB")) return InvalidArgument(bad);
    uint64_t base = rest == "IB" ? 1024 : 1000;
    for (const char* u = kUnits; u <= at; ++u) scale *= base;
  }
  if (value == 0) return InvalidArgument("invalid size \"" + std::string(text) + "\": must be more than 0");
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(value, scale, &bytes) || bytes > static_cast<uint64_t>(INT64_MAX))
    return InvalidArgument("invalid size \"" + std::string(text) + "\": more bytes than 64 bits can count");
  return bytes;
}

BundleWriter::BundleWriter(std::string path, BundleWriterOptions options)
    : path_(std::move(path)), options_(options) {}

BundleWriter::~BundleWriter() {
  if (!done_) Abort();
}

Result<std::unique_ptr<BundleWriter>> BundleWriter::Create(const std::string& path,
                                                           const BundleWriterOptions& options) {
  std::unique_ptr<BundleWriter> writer(new BundleWriter(path, options));
  if (Status s = writer->Open(); !s.ok()) return s;
  return writer;
}

// Never a failure as far as libarchive knows: after one its state turns fatal, and then
// archive_write_free skips the close that frees its buffers (libarchive 3.6 leaks them). The first
// error is kept in output_error_, which every call checks (Checked), and later bytes are dropped,
// as are the trailer's when Abort() closes the archive.
long BundleWriter::WriteCallback(struct archive*, void* self, const void* buffer, size_t length) {
  auto* writer = static_cast<BundleWriter*>(self);
  if (writer->output_error_.ok() && !writer->done_) {
    Status s = writer->Output(static_cast<const char*>(buffer), length);
    if (!s.ok()) writer->output_error_ = s;
  }
  return static_cast<long>(length);
}

// A libarchive call's outcome: the output's error first, else libarchive's own.
Status BundleWriter::Checked(bool ok, const std::string& what) {
  if (!output_error_.ok()) return Fail(output_error_);
  if (ok) return Status::Ok();
  const char* error = archive_ != nullptr ? archive_error_string(archive_) : nullptr;
  return Fail(IoError(what + ": " + (error != nullptr ? error : "failed")));
}

Status BundleWriter::Open() {
  archive_ = archive_write_new();
  if (archive_ == nullptr) return Internal("libarchive: out of memory");
  auto check = [&](int r, const std::string& what) -> Status {
    if (r == ARCHIVE_OK) return Status::Ok();
    return Fail(Internal(what + ": " + (archive_error_string(archive_) ? archive_error_string(archive_) : "failed")));
  };
  FERRY_RETURN_IF_ERROR(check(archive_write_set_format_pax_restricted(archive_), "tar format"));
  if (options_.zstd) {
    zstd_ = ZSTD_createCCtx();
    if (zstd_ == nullptr) return Fail(Internal("zstd: out of memory"));
    const std::pair<ZSTD_cParameter, int> parameters[] = {{ZSTD_c_compressionLevel, options_.zstd_level},
                                                          {ZSTD_c_checksumFlag, 1},
                                                          {ZSTD_c_nbWorkers, std::max(1, options_.zstd_threads)},
                                                          {ZSTD_c_jobSize, kZstdJobSize}};
    for (const auto& [parameter, value] : parameters)
      if (size_t r = ZSTD_CCtx_setParameter(zstd_, parameter, value); ZSTD_isError(r))
        return Fail(Internal("zstd: " + std::string(ZSTD_getErrorName(r))));
  }
  // The first part exists from the start, so an unwritable place fails before any download.
  FERRY_RETURN_IF_ERROR(OpenPart());
  return Checked(archive_write_open(archive_, this, nullptr, &BundleWriter::WriteCallback, nullptr) == ARCHIVE_OK,
                 path_);
}

std::string BundleWriter::FinalName(size_t index) const {
  return options_.split_size > 0 ? BundlePartPath(path_, index) : path_;
}

Status BundleWriter::OpenPart() {
  if (parts_.size() >= kMaxParts)
    return IoError(path_ + ": more than " + std::to_string(kMaxParts) + " parts of " +
                   std::to_string(options_.split_size) + " bytes; choose a larger split size");
  Part part;
  part.final = FinalName(parts_.size());
  if (parts_.empty()) {  // like `ferry rewrite -o DIR`, create the archive's directory
    std::error_code ec;
    std::filesystem::path dir = std::filesystem::path(part.final).parent_path();
    if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  }
  Result<AtomicFile> file = AtomicFile::Create(part.final);
  if (!file.ok()) return file.status();
  part.file.emplace(std::move(*file));
  parts_.push_back(std::move(part));
  return Status::Ok();
}

// The part is complete: its sum is known. Its file is committed by Finish(), the first part last.
Status BundleWriter::ClosePart() {
  Part& part = parts_.back();
  if (!part.sha256.empty()) return Status::Ok();
  FERRY_RETURN_IF_ERROR(part.file->Close());  // no descriptor held per part: up to 1000 parts
  part.sha256 = Hex(part.hash.Digest());
  return Status::Ok();
}

Status BundleWriter::WriteBytes(const char* data, size_t size) {
  while (size > 0) {
    uint64_t room = size;
    if (options_.split_size > 0) {
      if (parts_.back().size == options_.split_size) {
        FERRY_RETURN_IF_ERROR(ClosePart());
        FERRY_RETURN_IF_ERROR(OpenPart());
      }
      room = std::min<uint64_t>(size, options_.split_size - parts_.back().size);
    }
    Part& part = parts_.back();
    std::string_view bytes(data, static_cast<size_t>(room));
    FERRY_RETURN_IF_ERROR(part.file->Write(bytes));
    size_t n = bytes.size();
    part.hash.Update(bytes);
    whole_.Update(bytes);
    part.size += static_cast<uint64_t>(n);
    total_ += static_cast<uint64_t>(n);
    data += n;
    size -= static_cast<size_t>(n);
  }
  return Status::Ok();
}

// The tar stream from libarchive: compressed, or written as it is.
Status BundleWriter::Output(const char* data, size_t size) {
  if (zstd_ == nullptr) return WriteBytes(data, size);
  return Compress(data, size, false);
}

Status BundleWriter::Compress(const char* data, size_t size, bool end) {
  ZSTD_inBuffer in{data, size, 0};
  if (zstd_out_.empty()) zstd_out_.resize(ZSTD_CStreamOutSize());
  for (;;) {
    ZSTD_outBuffer out{zstd_out_.data(), zstd_out_.size(), 0};
    size_t left = ZSTD_compressStream2(zstd_, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
    if (ZSTD_isError(left)) return Internal("zstd: " + std::string(ZSTD_getErrorName(left)));
    FERRY_RETURN_IF_ERROR(WriteBytes(zstd_out_.data(), out.pos));
    if (end ? left == 0 : in.pos == in.size) return Status::Ok();
  }
}

Status BundleWriter::Fail(Status status) {
  if (failed_.ok()) failed_ = std::move(status);
  Abort();
  return failed_;
}

void BundleWriter::Abort() {
  done_ = true;  // from here the output drops what libarchive still writes
  if (archive_ != nullptr) {
    archive_write_free(archive_);  // closes (the trailer goes nowhere) and frees everything
    archive_ = nullptr;
  }
  ZSTD_freeCCtx(zstd_);
  zstd_ = nullptr;
  parts_.clear();  // each AtomicFile removes its temporary file
  done_ = true;
  if (failed_.ok()) failed_ = Internal(path_ + ": the archive was abandoned");
}

Status BundleWriter::WriteHeader(const std::string& name, int64_t size, int mode) {
  if (!failed_.ok()) return failed_;
  if (done_) return Internal(path_ + ": the archive is already finished");
  if (name.empty() || name.front() == '/' || name.find("..") != std::string::npos || !names_.insert(name).second)
    return Fail(Internal(path_ + ": invalid or repeated entry name \"" + name + "\""));
  archive_entry* entry = archive_entry_new();
  archive_entry_set_pathname(entry, name.c_str());
  archive_entry_set_size(entry, size);
  archive_entry_set_filetype(entry, AE_IFREG);
  archive_entry_set_perm(entry, static_cast<mode_t>(mode & 0777));
  archive_entry_set_mtime(entry, 0, 0);
  archive_entry_set_uid(entry, 0);
  archive_entry_set_gid(entry, 0);
  int r = archive_write_header(archive_, entry);
  archive_entry_free(entry);
  return Checked(r == ARCHIVE_OK, path_ + ": entry " + name);
}

Status BundleWriter::WriteData(std::string_view bytes) {
  while (!bytes.empty()) {
    la_ssize_t n = archive_write_data(archive_, bytes.data(), bytes.size());
    FERRY_RETURN_IF_ERROR(Checked(n > 0, path_));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status BundleWriter::AddFile(const std::string& name, std::string_view content) {
  FERRY_RETURN_IF_ERROR(WriteHeader(name, static_cast<int64_t>(content.size())));
  FERRY_RETURN_IF_ERROR(WriteData(content));
  return Checked(archive_write_finish_entry(archive_) == ARCHIVE_OK, path_ + ": entry " + name);
}

Status BundleWriter::AddStream(const std::string& name, int64_t size, const std::string& digest,
                               const StreamProducer& produce, int mode) {
  FERRY_RETURN_IF_ERROR(WriteHeader(name, size, mode));
  Sha256 hash;
  int64_t written = 0;
  Status produced = produce([&](std::string_view chunk) -> Status {
    if (!failed_.ok()) return failed_;
    if (written + static_cast<int64_t>(chunk.size()) > size)
      return DataLoss(name + ": more than the " + std::to_string(size) + " bytes expected");
    hash.Update(chunk);
    written += static_cast<int64_t>(chunk.size());
    return WriteData(chunk);
  });
  if (!failed_.ok()) return failed_;
  if (!produced.ok()) return Fail(produced);
  if (written != size)
    return Fail(DataLoss(name + ": " + std::to_string(written) + " bytes instead of " + std::to_string(size)));
  if (std::string got = hash.Digest(); Hex(got) != Hex(digest))
    return Fail(DataLoss(name + ": the bytes have digest " + got + ", not sha256:" + Hex(digest)));
  return Checked(archive_write_finish_entry(archive_) == ARCHIVE_OK, path_ + ": entry " + name);
}

Result<BundleOutput> BundleWriter::Finish() {
  if (!failed_.ok()) return failed_;
  if (done_) return Internal(path_ + ": the archive is already finished");
  FERRY_RETURN_IF_ERROR(Checked(archive_write_close(archive_) == ARCHIVE_OK, path_));
  archive_write_free(archive_);
  archive_ = nullptr;
  if (zstd_ != nullptr) {
    if (Status s = Compress(nullptr, 0, true); !s.ok()) return Fail(s);
    ZSTD_freeCCtx(zstd_);
    zstd_ = nullptr;
  }
  if (Status s = ClosePart(); !s.ok()) return Fail(s);
  // The first part last: whoever sees NAME.000 sees every part.
  for (size_t i = parts_.size(); i-- > 0;) {
    if (Status s = parts_[i].file->Commit(); !s.ok()) {
      for (size_t j = i + 1; j < parts_.size(); ++j) unlink(parts_[j].final.c_str());
      return Fail(s);
    }
    parts_[i].file.reset();
  }
  size_t stale = parts_.size();
  while (options_.split_size > 0 && stale < kMaxParts && unlink(BundlePartPath(path_, stale).c_str()) == 0) ++stale;
  BundleOutput out;
  for (const Part& p : parts_) out.parts.push_back({p.final, p.size, p.sha256});
  out.size = total_;
  out.sha256 = Hex(whole_.Digest());
  done_ = true;
  return out;
}

}  // namespace ferry
