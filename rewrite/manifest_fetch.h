// Getting a release profile's files onto disk, and checking a directory that already holds them.
//
// FetchManifests downloads every file of a profile into DIR (created if needed), in profile order.
// Each download streams into a temporary file in DIR while it is hashed; only a file whose sha256
// matches is renamed over DIR/NAME (atomically). A mismatch is an error naming the file, the
// expected and the actual sum, and leaves nothing behind: the temporary file is removed and a good
// DIR/NAME from before stays as it was. A file already in DIR with the expected sum is kept, not
// downloaded again. Transient failures (connection errors, 5xx, 429) are retried as common/retry.h
// says; TLS options come from HttpClientOptions; proxies follow libcurl's environment
// (HTTPS_PROXY, NO_PROXY). Every file is attempted even when others fail, except that a host still
// unreachable after every retry fails the later files it serves at once, naming the first failure.
//
// Sums not known in advance (sha256 "" in the profile) are trusted on first use: the sum of the
// first download is recorded in DIR/profile.lock.json, which is the profile itself with every
// sha256 filled in (JSON, so it is also a loadable profile: `--profile DIR/profile.lock.json`).
// Later fetches into DIR and VerifyManifestsDir check those files against the recorded sum. A lock
// is used only when its name is the profile's and, per file, its url is the profile's url; it is
// rewritten after every fully successful fetch. Callers carry `locked` on into lock and bundle.
//
// With `base_url`, file NAME is fetched from BASE_URL/NAME instead of its profile URL (a web server
// or GitHub mirror holding the files flat, or a test serving the corpus); the profile, its sums and
// the lock keep the real upstream URLs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/http_client.h"
#include "common/retry.h"
#include "common/status.h"
#include "rewrite/release_profile.h"

namespace ferry {

// The file in DIR recording the sums of a fetched profile (see above).
inline constexpr char kManifestLockName[] = "profile.lock.json";

enum class Sha256Origin {
  kProfile,   // known in advance: the profile names it
  kLock,      // recorded at an earlier first download (DIR/profile.lock.json)
  kRecorded,  // not known before: computed from the bytes now and recorded
};

// "profile", "lock", "recorded".
const char* Sha256OriginName(Sha256Origin origin);

struct ManifestFile {
  std::string name;          // the profile's name for it
  std::string url;           // the profile's URL
  std::string fetched_from;  // the URL the bytes came from; empty when nothing was downloaded
  std::string host;          // fetched_from's host[:port]
  std::string path;          // DIR/NAME
  std::string sha256;        // 64 hex; empty when it failed before the sum was known
  std::string expected;      // the sum it was checked against; empty when there was none (kRecorded)
  uint64_t size = 0;
  Sha256Origin origin = Sha256Origin::kProfile;
  bool downloaded = false;   // false: already in DIR with the right sum, left untouched
  Status status;             // why this file failed: "NAME from URL: REASON"
  std::string reason;        // REASON alone; files of one host that failed alike share it
};

// A failed fetch or verify says, in `status`, "N of M files of profile P failed:" and then one line
// per cause, not per file: "HOST: REASON: 5 files (a, b and 3 more)" for the files one host
// failed alike (an unreachable host fails every later file it serves at once), or the file's own
// "NAME from URL: REASON" when it is alone; for a directory, the missing files and the files whose
// sum does not match are each one line. Each file's own error stays in ManifestFile::status.
struct ManifestsReport {
  std::vector<ManifestFile> files;  // in profile order
  ReleaseProfile locked;            // the profile with every sum it now knows filled in
  std::string lock_path;            // DIR/profile.lock.json when written (FetchManifests, full success)
  Status status;                    // OK, or the grouped error described above

  bool ok() const { return status.ok(); }
};

struct ManifestFetchOptions {
  std::string base_url;     // "http://127.0.0.1:8080/files": fetch NAME from BASE_URL/NAME
  HttpClientOptions http;   // TLS verification and CA file, timeouts
  RetryPolicy retry;
};

ManifestsReport FetchManifests(const ReleaseProfile& profile, const std::string& dir,
                               const ManifestFetchOptions& options = {});

// For --manifests-dir DIR: every file of the profile present in DIR and matching its sum (from the
// profile, else from DIR/profile.lock.json; a file with neither has its sum computed and reported as
// kRecorded). Reads only; writes nothing. The status lists every missing and every mismatching file.
ManifestsReport VerifyManifestsDir(const ReleaseProfile& profile, const std::string& dir);

// sha256 hex of a file's contents, streamed.
Result<std::string> Sha256OfFile(const std::string& path, uint64_t* size = nullptr);

}  // namespace ferry
