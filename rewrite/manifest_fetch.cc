#include "rewrite/manifest_fetch.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <thread>

#include "common/atomic_file.h"
#include "common/log.h"
#include "common/name_groups.h"
#include "common/sha256.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;

std::string Errno() { return std::strerror(errno); }

std::string HexOf(std::string digest) {
  return digest.starts_with("sha256:") ? digest.substr(7) : digest;
}

// Sums recorded in DIR/profile.lock.json for files of `profile` whose sum the profile does not know:
// name -> sha256. A lock of another profile, or entries whose url changed, give nothing.
Result<std::map<std::string, std::string>> RecordedSums(const ReleaseProfile& profile, const std::string& dir) {
  std::map<std::string, std::string> sums;
  std::string path = (fs::path(dir) / kManifestLockName).string();
  std::error_code ec;
  if (!fs::exists(path, ec)) return sums;
  Result<ReleaseProfile> lock = ReadReleaseProfile(path);
  if (!lock.ok())
    return lock.status().WithContext("the lock of earlier downloads is unreadable (remove " + path +
                                     " to record the sums again)");
  if (lock->name != profile.name) {
    Log(LogLevel::kInfo, path + " is for profile " + lock->name + ", not " + profile.name + "; not used");
    return sums;
  }
  for (const ProfileFile& f : profile.files) {
    if (f.sha256_known()) continue;
    const ProfileFile* recorded = lock->File(f.name);
    if (recorded != nullptr && recorded->url == f.url && recorded->sha256_known()) sums[f.name] = recorded->sha256;
  }
  return sums;
}

// Fills in `file.expected` and `file.origin` from the profile or the recorded sums.
void SetExpected(const ProfileFile& f, const std::map<std::string, std::string>& recorded, ManifestFile* file) {
  if (f.sha256_known()) {
    file->expected = f.sha256;
    file->origin = Sha256Origin::kProfile;
  } else if (auto it = recorded.find(f.name); it != recorded.end()) {
    file->expected = it->second;
    file->origin = Sha256Origin::kLock;
  } else {
    file->expected.clear();
    file->origin = Sha256Origin::kRecorded;
  }
}

std::string Mismatch(const ManifestFile& file) {
  return "sha256 mismatch: expected " + file.expected + " (" +
         (file.origin == Sha256Origin::kProfile ? "from the profile" : "recorded at first download") +
         "), got " + file.sha256;
}

// How one failed file is shown: alone, or as one of several sharing `key`.
struct FailureShape {
  std::string key;     // files with the same key are one line
  std::string group;   // that line, before ": N files (...)"
  std::string single;  // the line when the file is alone
};

// `reason` without a last "(...)" that only repeats the host ("cannot resolve host H (Could not
// resolve host: H)"): the host already leads the line.
std::string Brief(const std::string& reason, const std::string& host) {
  size_t open = reason.rfind(" (");
  if (open == std::string::npos || !reason.ends_with(")") || host.empty()) return reason;
  return reason.find(host, open) != std::string::npos && reason.find(host) < open ? reason.substr(0, open) : reason;
}

// One line per cause, in order of first appearance (see ManifestsReport); -v names every file.
std::string GroupedFailures(const std::vector<ManifestFile>& files,
                            const std::function<FailureShape(const ManifestFile&)>& shape) {
  NameGroups groups;
  std::vector<FailureShape> causes;  // by group index
  for (const ManifestFile& f : files) {
    if (f.status.ok()) continue;
    FailureShape s = shape(f);
    if (groups.Add(s.key, f.name) == causes.size()) causes.push_back(std::move(s));
  }
  std::string out;
  for (size_t i = 0; i < causes.size(); ++i) {
    const std::vector<std::string>& names = groups.groups()[i].names;
    out += "\n  " + (names.size() == 1 ? causes[i].single
                                       : causes[i].group + ": " + Counted(names.size(), "file", "files") + " (" +
                                             NameFirstFew(names, NamesShown(2)) + ")");
  }
  return out;
}

size_t CountFailures(const std::vector<ManifestFile>& files) {
  size_t n = 0;
  for (const ManifestFile& f : files) n += f.status.ok() ? 0 : 1;
  return n;
}

class Fetcher {
 public:
  explicit Fetcher(const ManifestFetchOptions& options) : options_(options), http_(options.http) {}

  // Downloads `file.fetched_from` into `file.path`, checking `file.expected` when there is one. On
  // failure sets `file.status` ("NAME from URL: REASON") and `file.reason`.
  void Download(ManifestFile* file) {
    file->host = UrlHost(file->fetched_from);
    Status s = Attempt(file);
    if (s.ok()) return;
    file->reason = s.message();
    // A host that could not be reached: its later files, not tried, share its reason.
    if (auto down = unreachable_.find(file->host); down != unreachable_.end()) file->reason = down->second.message();
    file->status = Status(s.code(), file->name + " from " + file->fetched_from + ": " + s.message());
  }

 private:
  Status Attempt(ManifestFile* file) {
    const std::string& host = file->host;
    // A host that could not be reached after every retry is not tried again in this run.
    if (auto down = unreachable_.find(host); down != unreachable_.end())
      return Status(down->second.code(), "not tried: " + host + " could not be reached for an earlier file (" +
                                             down->second.message() + ")");
    Result<AtomicFile> part = AtomicFile::Create(file->path);
    if (!part.ok()) return part.status();
    Sha256 hash;
    uint64_t size = 0;
    HttpRequest request{.url = file->fetched_from};
    request.body_writer = [&](std::string_view chunk) {
      hash.Update(chunk);
      size += chunk.size();
      return part->Write(chunk);
    };
    for (int attempt = 1;; ++attempt) {
      hash = Sha256();
      size = 0;
      FERRY_RETURN_IF_ERROR(part->Truncate());
      Result<HttpResponse> r = http_.Send(request);
      if (r.ok() && r->status >= 200 && r->status < 300) break;
      if (!IsRetryable(r) || attempt >= options_.retry.max_attempts) {
        std::string tries = attempt > 1 ? " (gave up after " + std::to_string(attempt) + " attempts)" : "";
        if (!r.ok()) {
          Status failed(r.status().code(), r.status().message() + tries);
          if (r.status().code() != StatusCode::kIo && r.status().code() != StatusCode::kDataLoss)
            unreachable_.emplace(host, failed);
          return failed;
        }
        StatusCode code = r->status == 404                  ? StatusCode::kNotFound
                          : r->status == 401                ? StatusCode::kUnauthenticated
                          : r->status == 403                ? StatusCode::kPermissionDenied
                          : IsRetryableStatus(r->status)    ? StatusCode::kUnavailable
                                                            : StatusCode::kInternal;
        return Status(code, "HTTP " + std::to_string(r->status) + tries);
      }
      auto delay = RetryDelay(options_.retry, attempt, r, RandomUnit());
      Log(LogLevel::kInfo, file->name + " from " + file->fetched_from + ": " +
                               (r.ok() ? "HTTP " + std::to_string(r->status) : r.status().message()) +
                               "; retrying in " + std::to_string(delay.count()) + " ms");
      std::this_thread::sleep_for(delay);
    }
    file->sha256 = HexOf(hash.Digest());
    file->size = size;
    if (!file->expected.empty() && file->sha256 != file->expected) return DataLoss(Mismatch(*file) + "; not saved");
    FERRY_RETURN_IF_ERROR(part->Commit());
    file->downloaded = true;
    return Status::Ok();
  }

  const ManifestFetchOptions& options_;
  HttpClient http_;
  std::map<std::string, Status> unreachable_;  // host -> its transport failure
};

Status WriteLock(const std::string& dir, const ReleaseProfile& locked) {
  return WriteFileAtomically((fs::path(dir) / kManifestLockName).string(), locked.ToJson());
}

}  // namespace

const char* Sha256OriginName(Sha256Origin origin) {
  switch (origin) {
    case Sha256Origin::kProfile: return "profile";
    case Sha256Origin::kLock: return "lock";
    case Sha256Origin::kRecorded: return "recorded";
  }
  return "?";
}

Result<std::string> Sha256OfFile(const std::string& path, uint64_t* size) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(errno == ENOENT ? StatusCode::kNotFound : StatusCode::kIo, "cannot read " + path + ": " + Errno());
  Sha256 hash;
  uint64_t total = 0;
  std::string buffer(1 << 16, '\0');
  for (;;) {
    ssize_t n = read(fd, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      Status s = IoError("cannot read " + path + ": " + Errno());
      close(fd);
      return s;
    }
    if (n == 0) break;
    hash.Update(std::string_view(buffer.data(), static_cast<size_t>(n)));
    total += static_cast<uint64_t>(n);
  }
  close(fd);
  if (size != nullptr) *size = total;
  return HexOf(hash.Digest());
}

ManifestsReport FetchManifests(const ReleaseProfile& profile, const std::string& dir,
                               const ManifestFetchOptions& options) {
  ManifestsReport report;
  report.locked = profile;
  std::string base = options.base_url;
  while (base.ends_with("/")) base.pop_back();
  if (!base.empty() && !base.starts_with("http://") && !base.starts_with("https://")) {
    report.status = InvalidArgument("base URL " + options.base_url + " is not an http or https URL");
    return report;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir)) {
    report.status = IoError("cannot create the directory " + dir + (ec ? ": " + ec.message() : ""));
    return report;
  }
  Result<std::map<std::string, std::string>> recorded = RecordedSums(profile, dir);
  if (!recorded.ok()) {
    report.status = recorded.status();
    return report;
  }

  Fetcher fetcher(options);
  for (size_t i = 0; i < profile.files.size(); ++i) {
    const ProfileFile& f = profile.files[i];
    ManifestFile file{.name = f.name, .url = f.url, .path = (fs::path(dir) / f.name).string()};
    SetExpected(f, *recorded, &file);
    // Already here with the sum we expect: keep it.
    if (!file.expected.empty()) {
      uint64_t size = 0;
      Result<std::string> have = Sha256OfFile(file.path, &size);
      if (have.ok() && *have == file.expected) {
        file.sha256 = *have;
        file.size = size;
        report.locked.files[i].sha256 = file.sha256;
        report.files.push_back(std::move(file));
        continue;
      }
    }
    file.fetched_from = base.empty() ? f.url : base + "/" + f.name;
    fetcher.Download(&file);
    if (file.status.ok()) report.locked.files[i].sha256 = file.sha256;
    report.files.push_back(std::move(file));
  }

  if (size_t failed = CountFailures(report.files); failed > 0) {
    StatusCode code = StatusCode::kUnavailable;
    for (const ManifestFile& f : report.files)
      if (!f.status.ok()) {
        code = f.status.code();
        break;
      }
    report.status = Status(code, std::to_string(failed) + " of " + std::to_string(report.files.size()) +
                                     " files of profile " + profile.name + " failed:" +
                                     GroupedFailures(report.files, [](const ManifestFile& f) {
                                       return FailureShape{f.host + "\n" + f.reason, f.host + ": " + Brief(f.reason, f.host),
                                                           f.status.message()};
                                     }));
    return report;
  }
  if (Status s = WriteLock(dir, report.locked); !s.ok()) {
    report.status = s.WithContext("recording the sums");
    return report;
  }
  report.lock_path = (fs::path(dir) / kManifestLockName).string();
  return report;
}

ManifestsReport VerifyManifestsDir(const ReleaseProfile& profile, const std::string& dir) {
  ManifestsReport report;
  report.locked = profile;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    report.status = NotFound("manifests directory " + dir + " does not exist");
    return report;
  }
  Result<std::map<std::string, std::string>> recorded = RecordedSums(profile, dir);
  if (!recorded.ok()) {
    report.status = recorded.status();
    return report;
  }
  for (size_t i = 0; i < profile.files.size(); ++i) {
    const ProfileFile& f = profile.files[i];
    ManifestFile file{.name = f.name, .url = f.url, .path = (fs::path(dir) / f.name).string()};
    SetExpected(f, *recorded, &file);
    Result<std::string> have = Sha256OfFile(file.path, &file.size);
    if (!have.ok()) {
      bool missing = have.status().code() == StatusCode::kNotFound;
      file.reason = missing ? "missing" : have.status().message();
      file.status = missing ? NotFound(file.name + ": missing") : have.status().WithContext(file.name);
    } else {
      file.sha256 = *have;
      if (!file.expected.empty() && file.sha256 != file.expected) {
        file.reason = "sha256 mismatch";
        file.status = DataLoss(file.name + ": " + Mismatch(file));
      } else {
        report.locked.files[i].sha256 = file.sha256;
      }
    }
    report.files.push_back(std::move(file));
  }
  if (size_t failed = CountFailures(report.files); failed > 0) {
    StatusCode code = StatusCode::kNotFound;
    for (const ManifestFile& f : report.files)
      if (f.status.code() == StatusCode::kDataLoss) code = StatusCode::kDataLoss;
    report.status = Status(code, dir + " does not hold profile " + profile.name + " (" + std::to_string(failed) +
                                     " of " + std::to_string(report.files.size()) + " files missing or not matching):" +
                                     GroupedFailures(report.files, [](const ManifestFile& f) {
                                       std::string group = f.reason == "missing" ? "missing"
                                                           : f.reason == "sha256 mismatch"
                                                               ? "sha256 mismatch (another release? --output json shows each sum)"
                                                               : f.reason;
                                       return FailureShape{f.reason, group, f.status.message()};
                                     }));
  }
  return report;
}

}  // namespace ferry
