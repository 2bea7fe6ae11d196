#include "mirror/bundle_placement.h"

#include <algorithm>
#include <cstring>

#include "common/log.h"

namespace ferry {
namespace {

Status Upload(RegistryClient& target, const PlacementJob& job, const std::string& repo) {
  Log(LogLevel::kInfo, "uploading " + job.blob.digest + " (" + std::to_string(job.blob.size) + " bytes) to " + repo);
  if (job.stream) {
    BlobStream& stream = *job.stream;
    return target.PutBlob(repo, job.blob, [&](char* buffer, size_t size) { return stream.Read(buffer, size); });
  }
  size_t sent = 0;
  const std::string& bytes = *job.bytes;
  return target.PutBlob(repo, job.blob, [&](char* buffer, size_t size) -> Result<size_t> {
    size_t n = std::min(size, bytes.size() - sent);
    std::memcpy(buffer, bytes.data() + sent, n);
    sent += n;
    return n;
  });
}

}  // namespace

void RunPlacement(RegistryClient& target, PlacementJob& job) {
  auto done = [&](const std::string& repo) {
    return std::any_of(job.placed.begin(), job.placed.end(), [&](const auto& p) { return p.first == repo; });
  };
  auto finish = [&](Status status) {
    job.status = std::move(status);
    // A stream nobody sends any more: let the reader skip the rest of the entry.
    if (job.stream) job.stream->Abandon(Status::Ok());
  };
  for (const std::string& repo : job.repos) {
    if (!job.check) break;
    Result<bool> has = target.HasBlob(repo, job.blob.digest);
    if (!has.ok()) return finish(has.status());
    if (*has) job.placed.push_back({repo, Placement::kSkipped});
  }
  std::vector<std::string> from = job.mount_from;
  for (const auto& [repo, how] : job.placed) from.push_back(repo);
  bool stream_spent = false;
  for (const std::string& repo : job.repos) {
    if (done(repo)) continue;
    for (const std::string& source : from) {
      if (source == repo) continue;
      Result<bool> mounted = target.MountBlob(repo, job.blob.digest, source);
      if (!mounted.ok()) return finish(mounted.status());
      if (*mounted) {
        job.placed.push_back({repo, Placement::kMounted});
        break;
      }
    }
    if (done(repo) || (!job.bytes && (!job.stream || stream_spent))) continue;
    Status s = Upload(target, job, repo);
    stream_spent = job.stream != nullptr;
    if (!s.ok()) return finish(s);
    job.placed.push_back({repo, Placement::kUploaded});
    from.insert(from.begin(), repo);  // the others mount from here
  }
  finish(Status::Ok());
}

}  // namespace ferry
