#include "mirror/bundle_verify.h"

#include <cstring>
#include <map>
#include <set>

#include "common/sha256.h"
#include "mirror/bundle_contents.h"

namespace ferry {
namespace {

constexpr int64_t kSmallBlob = 4 << 20;

struct SeenEntry {
  std::string digest;  // sha256:<hex> of its bytes
  int64_t size = 0;
};

bool IsMetadata(const std::string& path) {
  return path == bundle::kLayoutFile || path == bundle::kIndexFile || path == bundle::kBundleFile;
}

std::string BlobDigestOf(const std::string& path) {
  if (!path.starts_with(bundle::kBlobsDir)) return "";
  std::string hex = path.substr(std::strlen(bundle::kBlobsDir));
  if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return "";
  return "sha256:" + hex;
}

bool Complete(const BundleContents& contents) {
  if (!contents.has_index()) return false;
  Result<std::vector<BundleRoot>> roots = contents.Roots();
  if (!roots.ok()) return false;
  for (const BundleRoot& r : *roots)
    if (!contents.ManifestsOf(r.descriptor, nullptr)) return false;
  return true;
}

// Hashes the rest of the current entry; keeps its bytes in `small` when it is at most 4 MiB.
Result<SeenEntry> HashEntry(BundleReader& reader, const BundleEntry& e, std::string* small) {
  Sha256 hash;
  char buffer[64 << 10];
  int64_t total = 0;
  for (;;) {
    Result<size_t> n = reader.Read(buffer, sizeof buffer);
    if (!n.ok()) return n.status();
    if (*n == 0) break;
    hash.Update(std::string_view(buffer, *n));
    if (e.size <= kSmallBlob) small->append(buffer, *n);
    total += static_cast<int64_t>(*n);
  }
  return SeenEntry{hash.Digest(), total};
}

// One pass. Without `seen` (inspect) it stops once every image is known and skips large entries.
Status Scan(BundleReader& reader, BundleContents& contents, std::map<std::string, SeenEntry>* seen, int* entries) {
  FERRY_RETURN_IF_ERROR(reader.Rewind());
  BundleEntry e;
  for (;;) {
    Result<bool> more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) return Status::Ok();
    if (entries) ++*entries;
    if (IsMetadata(e.path)) {
      Result<std::string> text = reader.ReadAll(16 << 20);
      if (!text.ok()) return text.status().WithContext(e.path);
      FERRY_RETURN_IF_ERROR(contents.AddMetadata(e.path, *text));
      if (seen) (*seen)[e.path] = {Sha256Digest(*text), static_cast<int64_t>(text->size())};
      continue;
    }
    std::string digest = BlobDigestOf(e.path);
    if (!seen) {
      if (digest.empty() || e.size > kSmallBlob) {
        if (Complete(contents)) return Status::Ok();
        continue;
      }
      Result<std::string> bytes = reader.ReadAll(kSmallBlob);
      if (!bytes.ok()) return bytes.status();
      if (Sha256Digest(*bytes) == digest) contents.AddBlob(digest, *bytes);
      continue;
    }
    std::string small;
    Result<SeenEntry> hashed = HashEntry(reader, e, &small);
    if (!hashed.ok()) return hashed.status();
    (*seen)[e.path] = *hashed;
    if (!digest.empty() && hashed->digest == digest && !small.empty()) contents.AddBlob(digest, small);
  }
}

Result<BundleSummary> Summarize(const BundleContents& contents, const std::string& where) {
  Result<std::vector<BundleRoot>> roots = contents.Roots();
  if (!roots.ok()) return roots.status();
  BundleSummary s;
  s.where = where;
  if (const auto& b = contents.bundle()) {
    s.ferry_bundle = true;
    s.format_version = b->format_version;
    s.ferry_version = b->ferry_version;
    s.profile = b->profile;
    s.files = b->files;
    s.platform_filter = b->platform_filter;
  }
  std::set<std::string> blobs;
  for (const BundleRoot& r : *roots) {
    const Manifest* top = contents.Find(r.descriptor.digest);
    s.images.push_back({r.source.String(), r.descriptor.digest, top ? top->media_type : r.descriptor.media_type,
                        contents.PlatformsOf(r.descriptor), contents.SizeOf(r.descriptor), ""});
    if (const auto& b = contents.bundle())
      for (const BundleImage& i : b->images)
        if (i.source == s.images.back().source) s.images.back().source_digest = i.source_digest;
    std::vector<const Manifest*> manifests;
    if (!contents.ManifestsOf(r.descriptor, &manifests)) continue;
    for (const Manifest* m : manifests)
      if (blobs.insert(m->digest).second) s.bytes += static_cast<int64_t>(m->bytes.size());
    for (const Descriptor& d : contents.BlobsOf(r.descriptor))
      if (blobs.insert(d.digest).second) {
        s.bytes += d.size;
        ++s.blobs;
      }
  }
  return s;
}

std::string BlobPath(const std::string& digest) { return bundle::kBlobsDir + digest.substr(7); }

}  // namespace

Result<BundleSummary> InspectBundle(BundleReader& reader) {
  BundleContents contents(reader.where());
  FERRY_RETURN_IF_ERROR(Scan(reader, contents, nullptr, nullptr));
  return Summarize(contents, reader.where());
}

Result<BundleVerifyReport> VerifyBundle(BundleReader& reader) {
  BundleContents contents(reader.where());
  std::map<std::string, SeenEntry> seen;
  BundleVerifyReport report;
  FERRY_RETURN_IF_ERROR(Scan(reader, contents, &seen, &report.entries));
  Result<BundleSummary> summary = Summarize(contents, reader.where());
  if (!summary.ok()) return summary.status();
  report.summary = std::move(*summary);
  auto problem = [&](const std::string& path, const std::string& message) {
    report.problems.push_back({path, message});
  };
  for (const auto& [path, entry] : seen) {
    report.bytes_read += entry.size;
    std::string digest = BlobDigestOf(path);
    if (!digest.empty() && entry.digest != digest) problem(path, "bytes hash to " + entry.digest + ", not " + digest);
  }
  auto expect = [&](const std::string& digest, int64_t size, const std::string& image) {
    auto it = seen.find(BlobPath(digest));
    if (it == seen.end()) return problem(BlobPath(digest), "missing (needed by " + image + ")");
    if (it->second.size != size)
      problem(BlobPath(digest), "has " + std::to_string(it->second.size) + " bytes, but " + image + " says " +
                                    std::to_string(size));
  };
  std::vector<BundleRoot> roots = *contents.Roots();  // Summarize succeeded, so these are known
  for (const BundleRoot& r : roots) {
    std::string image = r.source.String();
    if (!contents.ManifestsOf(r.descriptor, nullptr)) {
      std::string missing = contents.MissingManifest(r.descriptor);
      if (!seen.count(BlobPath(missing))) problem(BlobPath(missing), "missing manifest (needed by " + image + ")");
      continue;  // a corrupt manifest is already listed above
    }
    expect(r.descriptor.digest, r.descriptor.size, image);
    std::vector<const Manifest*> manifests;
    contents.ManifestsOf(r.descriptor, &manifests);
    for (const Manifest* m : manifests)
      for (const Descriptor& child : m->children) expect(child.digest, child.size, image);
    for (const Descriptor& b : contents.BlobsOf(r.descriptor)) expect(b.digest, b.size, image);
  }
  for (const BundleFile& f : report.summary.files) {
    auto it = seen.find(f.path);
    if (it == seen.end()) {
      problem(f.path, "missing (listed in ferry/bundle.json as " + f.name + ")");
    } else if (it->second.digest != "sha256:" + f.sha256) {
      problem(f.path, "bytes hash to " + it->second.digest + ", but ferry/bundle.json says sha256:" + f.sha256);
    } else if (f.size != 0 && it->second.size != f.size) {
      problem(f.path, "has " + std::to_string(it->second.size) + " bytes, but ferry/bundle.json says " +
                          std::to_string(f.size));
    }
  }
  return report;
}

}  // namespace ferry
