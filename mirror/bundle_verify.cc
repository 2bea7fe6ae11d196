#include "mirror/bundle_verify.h"

#include <set>

#include "common/sha256.h"
#include "mirror/attachments.h"
#include "mirror/layout_source.h"
#include "mirror/resolved_image.h"

namespace ferry {
namespace {

struct SeenEntry {
  std::string digest;  // sha256:<hex> of its bytes
  int64_t size = 0;
};

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
    if (e.size <= bundle::kSmallEntry) small->append(buffer, *n);
    total += static_cast<int64_t>(*n);
  }
  return SeenEntry{hash.Digest(), total};
}

// What each image holds, resolved as the copy engine would, with its attachments.
// `source` serves the manifests `index` knows (the index itself, or a LayoutSource over it).
Result<BundleSummary> Summarize(ImageSource& source, const LayoutIndex& index, const std::string& where,
                                std::map<std::string, std::vector<ResolvedImage>>* graphs) {
  Result<std::vector<LayoutImage>> images = index.Images();
  if (!images.ok()) return images.status();
  BundleSummary s;
  s.where = where;
  if (const auto& b = index.bundle()) {
    s.ferry_bundle = true;
    s.format_version = b->format_version;
    s.ferry_version = b->ferry_version;
    s.profile = b->profile;
    s.files = b->files;
    s.platform_filter = b->platform_filter;
    s.ferry_package = b->ferry_package;
  }
  std::set<std::string> counted;
  auto count = [&](const ResolvedImage& r) {
    for (const Manifest& m : r.manifests)
      if (counted.insert(m.digest).second) s.bytes += static_cast<int64_t>(m.bytes.size());
    for (const Descriptor& d : r.blobs)
      if (counted.insert(d.digest).second) s.bytes += d.size, ++s.blobs;
  };
  for (const LayoutImage& image : *images) {
    std::string name = image.name.String();
    BundleImage out{name, image.descriptor.digest, image.descriptor.media_type, {}, 0, "", {}};
    if (const auto& b = index.bundle())
      for (const BundleImage& i : b->images)
        if (i.source == name) out.source_digest = i.source_digest;
    s.images.push_back(out);
    Result<ResolvedImage> r = ResolveImage(source, image.at.repository, image.at.identifier(), {}, name);
    if (!r.ok()) {
      if (graphs) continue;  // verify names what is missing
      return r.status();
    }
    BundleImage& listed = s.images.back();
    listed.media_type = r->top().media_type;
    listed.platforms = r->platforms;
    listed.size = r->size;
    count(*r);
    std::vector<std::string> subjects;
    for (const Manifest& m : r->manifests) subjects.push_back(m.digest);
    if (graphs) (*graphs)[name].push_back(std::move(*r));
    Result<std::vector<std::string>> tags = source.ListTags(image.at.repository);
    Result<std::vector<Attachment>> found =
        tags.ok() ? FindAttachments(source, image.at.repository, *tags, subjects) : tags.status();
    if (!found.ok()) return found.status().WithContext(name + ": attachments");
    for (const Attachment& a : *found) {
      Result<ResolvedImage> ra =
          ResolveImage(source, image.at.repository, a.tag.empty() ? a.digest : a.tag, {}, name + " attachment");
      if (!ra.ok()) {
        if (graphs) continue;
        return ra.status();
      }
      listed.attachments.push_back({std::string(AttachmentKindName(a.kind)), a.tag, ra->top().digest,
                                    ra->top().media_type});
      count(*ra);
      if (graphs) (*graphs)[name].push_back(std::move(*ra));
    }
  }
  return s;
}

}  // namespace

Result<BundleSummary> InspectBundle(const std::string& path) {
  Result<std::unique_ptr<LayoutSource>> source = LayoutSource::Open(path);
  if (!source.ok()) return source.status();
  return Summarize(**source, (*source)->index(), (*source)->where(), nullptr);
}

Result<BundleVerifyReport> VerifyBundle(const std::string& path) {
  Result<std::unique_ptr<BundleReader>> opened = BundleReader::Open(path);
  if (!opened.ok()) return opened.status();
  BundleReader& reader = **opened;
  LayoutIndex index(reader.where());
  std::map<std::string, SeenEntry> seen;
  BundleVerifyReport report;
  FERRY_RETURN_IF_ERROR(reader.Rewind());
  BundleEntry e;
  for (;;) {
    Result<bool> more = reader.Next(&e);
    if (!more.ok()) return more.status();
    if (!*more) break;
    ++report.entries;
    std::string small;
    Result<SeenEntry> hashed = HashEntry(reader, e, &small);
    if (!hashed.ok()) return hashed.status();
    seen[e.path] = *hashed;
    if (bundle::IsMetadataEntry(e.path)) FERRY_RETURN_IF_ERROR(index.AddMetadata(e.path, small).WithContext(e.path));
    std::string digest = LayoutBlobDigest(e.path);
    if (!digest.empty() && hashed->digest == digest && !small.empty()) index.AddBlob(digest, small);
  }
  std::map<std::string, std::vector<ResolvedImage>> graphs;
  Result<BundleSummary> summary = Summarize(index, index, reader.where(), &graphs);
  if (!summary.ok()) return summary.status();
  report.summary = std::move(*summary);
  auto problem = [&](const std::string& path, const std::string& message) {
    report.problems.push_back({path, message});
  };
  for (const auto& [entry_path, entry] : seen) {
    report.bytes_read += entry.size;
    std::string digest = LayoutBlobDigest(entry_path);
    if (!digest.empty() && entry.digest != digest)
      problem(entry_path, "bytes hash to " + entry.digest + ", not " + digest);
  }
  auto expect = [&](const std::string& digest, int64_t size, const std::string& image) {
    auto it = seen.find(bundle::BlobEntry(digest));
    if (it == seen.end()) return problem(bundle::BlobEntry(digest), "missing (needed by " + image + ")");
    if (it->second.size != size)
      problem(bundle::BlobEntry(digest), "has " + std::to_string(it->second.size) + " bytes, but " + image + " says " +
                                    std::to_string(size));
  };
  Result<std::vector<LayoutImage>> images = index.Images();  // Summarize read them, so they are known
  for (const LayoutImage& image : *images) {
    std::string name = image.name.String();
    if (!graphs.count(name)) {
      // A manifest is missing, or corrupt (then it is listed above already).
      std::string digest = index.MissingManifest(image.descriptor.digest).value_or(image.descriptor.digest);
      if (!seen.count(bundle::BlobEntry(digest))) problem(bundle::BlobEntry(digest), "missing manifest (needed by " + name + ")");
      continue;
    }
    expect(image.descriptor.digest, image.descriptor.size, name);
    for (const ResolvedImage& r : graphs[name]) {
      for (const Manifest& m : r.manifests)
        for (const Descriptor& child : m.children) expect(child.digest, child.size, name);
      for (const Descriptor& b : r.blobs) expect(b.digest, b.size, name);
    }
  }
  auto listed = [&](const std::string& path, const std::string& as, const std::string& sha256, int64_t size) {
    auto it = seen.find(path);
    if (it == seen.end()) {
      problem(path, "missing (listed in ferry/bundle.json as " + as + ")");
    } else if (it->second.digest != "sha256:" + sha256) {
      problem(path, "bytes hash to " + it->second.digest + ", but ferry/bundle.json says sha256:" + sha256);
    } else if (size != 0 && it->second.size != size) {
      problem(path, "has " + std::to_string(it->second.size) + " bytes, but ferry/bundle.json says " +
                        std::to_string(size));
    }
  };
  for (const BundleFile& f : report.summary.files) listed(f.path, f.name, f.sha256, f.size);
  if (const std::optional<BundlePackage>& p = report.summary.ferry_package)
    listed(p->path, "ferry " + p->version + " (" + p->kind + ")", p->sha256, p->size);
  return report;
}

}  // namespace ferry
