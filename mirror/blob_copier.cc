#include "mirror/blob_copier.h"

#include <thread>

#include "common/byte_pipe.h"
#include "common/log.h"
#include "common/sha256.h"

namespace ferry {
namespace {

constexpr size_t kPipeBytes = 1 << 20;  // per transfer; several run at once

Status StreamBlob(const BlobEndpoint& source, const BlobEndpoint& target, const Descriptor& blob,
                  const std::string& what, const std::function<void(size_t)>& on_bytes) {
  BytePipe pipe(kPipeBytes);
  std::thread producer([&] {
    Status s = source.client->ReadBlob(source.repository, blob, [&](std::string_view chunk) { return pipe.Write(chunk); });
    pipe.CloseWrite(std::move(s));
  });

  Sha256 hash;
  uint64_t received = 0;
  const uint64_t expected = static_cast<uint64_t>(blob.size);
  std::string from = "registry " + source.client->registry() + ", repository " + source.repository;
  auto reader = [&](char* buffer, size_t size) -> Result<size_t> {
    Result<size_t> n = pipe.Read(buffer, size);
    if (!n.ok()) return n;
    if (*n == 0 && received < expected)
      return DataLoss(what + ": blob " + blob.digest + " from " + from + " ended after " + std::to_string(received) +
                      " of " + std::to_string(expected) + " bytes");
    received += *n;
    if (received > expected)
      return DataLoss(what + ": blob " + blob.digest + " from " + from + " is longer than its descriptor's " +
                      std::to_string(expected) + " bytes");
    hash.Update(std::string_view(buffer, *n));
    if (on_bytes) on_bytes(*n);
    return n;
  };
  auto verify = [&]() -> Status {
    std::string actual = hash.Digest();
    if (actual != blob.digest)
      return DataLoss(what + ": blob " + blob.digest + " from " + from + " has bytes that hash to " + actual +
                      "; the source is corrupt or lying, nothing was committed at the destination");
    return Status::Ok();
  };
  Status s = target.client->WriteBlob(target.repository, blob, reader, verify);
  pipe.CloseRead(s.ok() ? Status::Ok() : s);
  producer.join();
  return s;
}

Result<BlobAction> TransferBlob(const BlobEndpoint& source, const BlobEndpoint& target, const Descriptor& blob,
                                const std::string& what, const BlobCopyOptions& options) {
  BlobLocations* locations = options.locations;
  RegistryClient& dst = *target.client;
  Result<bool> present = dst.HasBlob(target.repository, blob.digest);
  if (!present.ok()) return present.status();
  if (*present) return BlobAction::kSkipped;

  std::vector<std::string> candidates;
  if (locations) candidates = locations->Find(dst.registry(), blob.digest);
  if (source.client->registry() == dst.registry()) candidates.insert(candidates.begin(), source.repository);
  for (const std::string& from : candidates) {
    if (from == target.repository) continue;
    Result<bool> mounted = dst.MountBlob(target.repository, blob.digest, from);
    if (!mounted.ok()) return mounted.status();
    if (*mounted) return BlobAction::kMounted;
    Log(LogLevel::kInfo, "registry " + dst.registry() + " declined to mount " + blob.digest + " from " + from);
  }

  const RetryPolicy policy;
  for (int attempt = 1;; ++attempt) {
    Status s = StreamBlob(source, target, blob, what, options.on_bytes);
    if (s.ok()) return BlobAction::kCopied;
    if (s.code() != StatusCode::kUnavailable || attempt >= policy.max_attempts) return s;
    auto delay = BackoffDelay(policy, attempt, RandomUnit());
    Log(LogLevel::kWarning, s.message() + "; retrying blob " + blob.digest + " in " + std::to_string(delay.count()) + " ms");
    std::this_thread::sleep_for(delay);
  }
}

}  // namespace

Result<BlobAction> CopyBlob(const BlobEndpoint& source, const BlobEndpoint& target, const Descriptor& blob,
                            const std::string& what, const BlobCopyOptions& options) {
  Result<BlobAction> action = TransferBlob(source, target, blob, what, options);
  if (action.ok() && options.locations)
    options.locations->Record(target.client->registry(), target.repository, blob.digest);
  return action;
}

}  // namespace ferry
