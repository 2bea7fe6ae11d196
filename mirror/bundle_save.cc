#include "mirror/bundle_save.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "common/retry.h"
#include "common/sha256.h"
#include "common/task_pool.h"
#include "mirror/image_tree.h"

namespace ferry {
namespace {

struct ResolvedImage {
  const BundleSaveImage* image = nullptr;
  RegistryClient* client = nullptr;
  ImageTree tree;
  std::string source_digest;  // the index before a platform filter rewrote it
  Status status;
};

// One blob entry of the archive and where its bytes come from.
struct BlobEntry {
  Descriptor blob;
  const std::string* bytes = nullptr;  // a manifest, held in memory; else read from the registry
  RegistryClient* client = nullptr;
  std::string repository;
  std::string what;
  bool metadata = false;  // a manifest or a config: written before the layers
};

struct FileEntry {
  const BundleSaveFile* file;
  BundleFile record;
};

Result<BundleFile> DescribeFile(const BundleSaveFile& file) {
  std::string dir = file.sample ? bundle::kSamplesDir : bundle::kManifestsDir;
  if (file.text)
    return BundleFile{file.name, dir + file.name, Sha256Digest(*file.text).substr(7),
                      static_cast<int64_t>(file.text->size())};
  std::ifstream in(file.path, std::ios::binary);
  if (!in) return IoError("cannot read " + file.path + ": " + std::strerror(errno));
  Sha256 hash;
  int64_t size = 0;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    hash.Update(std::string_view(buffer, static_cast<size_t>(in.gcount())));
    size += in.gcount();
  }
  if (in.bad()) return IoError("cannot read " + file.path);
  return BundleFile{file.name, dir + file.name, hash.Digest().substr(7), size};
}

StreamProducer FileProducer(const std::string& path) {
  return [path](const ChunkSink& sink) -> Status {
    std::ifstream in(path, std::ios::binary);
    if (!in) return IoError("cannot read " + path + ": " + std::strerror(errno));
    char buffer[1 << 16];
    while (in) {
      in.read(buffer, sizeof buffer);
      if (in.gcount() > 0) FERRY_RETURN_IF_ERROR(sink(std::string_view(buffer, static_cast<size_t>(in.gcount()))));
    }
    return in.bad() ? IoError("cannot read " + path) : Status::Ok();
  };
}

// Reads a blob into `sink`. A transfer that fails on the way (transient) is read again from the
// start, skipping the bytes already delivered; the sink's own errors end it at once.
StreamProducer BlobProducer(const BlobEntry& entry) {
  return [&entry](const ChunkSink& sink) -> Status {
    const RetryPolicy policy;
    int64_t delivered = 0;
    for (int attempt = 1;; ++attempt) {
      int64_t seen = 0;
      Status sink_status;
      Status s = entry.client->ReadBlob(entry.repository, entry.blob, [&](std::string_view chunk) -> Status {
        int64_t skip = std::clamp<int64_t>(delivered - seen, 0, static_cast<int64_t>(chunk.size()));
        seen += static_cast<int64_t>(chunk.size());
        chunk.remove_prefix(static_cast<size_t>(skip));
        if (chunk.empty()) return Status::Ok();
        sink_status = sink(chunk);
        if (sink_status.ok()) delivered += static_cast<int64_t>(chunk.size());
        return sink_status;
      });
      if (!sink_status.ok()) return sink_status;
      if (s.ok() || s.code() != StatusCode::kUnavailable || attempt >= policy.max_attempts) return s;
      std::this_thread::sleep_for(BackoffDelay(policy, attempt, RandomUnit()));
    }
  };
}

std::vector<ResolvedImage> ResolveAll(const BundleSaveRequest& request, RegistryPool& registries,
                                      BundleSaveObserver* observer) {
  std::vector<ResolvedImage> resolved(request.images.size());
  TaskPool pool(std::max(1, request.jobs));
  for (size_t i = 0; i < request.images.size(); ++i) {
    pool.Post([&, i] {
      ResolvedImage& r = resolved[i];
      r.image = &request.images[i];
      const ImageReference& fetch = r.image->fetch;
      Result<RegistryClient*> client = registries.For(fetch, false);
      if (!client.ok()) return void(r.status = client.status());
      r.client = *client;
      Result<ImageTree> tree = ResolveImageTree(*r.client, fetch.repository, fetch.ManifestIdentifier(),
                                                request.platforms, r.image->source.String());
      if (!tree.ok()) return void(r.status = tree.status());
      r.tree = std::move(*tree);
      if (!request.platforms.empty() && r.tree.top().kind == ManifestKind::kIndex) {
        // The filtered index is not the source's: record which one it was made from.
        r.source_digest = fetch.digest;
        if (r.source_digest.empty()) {
          Result<std::optional<std::string>> head = r.client->HeadManifest(fetch.repository, fetch.tag);
          if (!head.ok()) return void(r.status = head.status().WithContext(r.image->source.String()));
          r.source_digest = head->value_or("");
        }
      }
      if (observer)
        observer->OnResolved({r.image->source.String(), r.tree.top().digest, r.tree.top().media_type,
                              r.tree.platforms, r.tree.size});
    });
  }
  pool.Wait();
  return resolved;
}

// One descriptor per image, sorted by source, annotated with the source reference.
std::string IndexJson(std::vector<std::pair<std::string, Descriptor>> images) {
  std::sort(images.begin(), images.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  nlohmann::ordered_json index = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex}};
  index["manifests"] = nlohmann::ordered_json::array();
  for (const auto& [source, top] : images)
    index["manifests"].push_back({{"mediaType", top.media_type},
                                  {"digest", top.digest},
                                  {"size", top.size},
                                  {"annotations",
                                   {{bundle::kContainerdNameAnnotation, source}, {bundle::kRefNameAnnotation, source}}}});
  return index.dump(2) + "\n";
}

}  // namespace

Result<BundleSaveReport> SaveBundle(const BundleSaveRequest& request, const std::string& path,
                                    const BundleWriterOptions& options, RegistryPool& registries,
                                    BundleSaveObserver* observer) {
  if (request.images.empty()) return InvalidArgument("no images to save");
  BundleSaveReport report;
  BundleManifest& manifest = report.manifest;
  manifest.ferry_version = request.ferry_version;
  manifest.profile = request.profile;
  manifest.profile_json = request.profile_json;
  manifest.platform_filter = request.platforms;

  std::vector<FileEntry> files;
  std::map<std::string, const BundleSaveFile*> by_path;
  for (const BundleSaveFile& file : request.files) {
    Result<BundleFile> record = DescribeFile(file);
    if (!record.ok()) return record.status();
    if (auto [it, fresh] = by_path.emplace(record->path, &file); !fresh)
      return InvalidArgument(it->second->path + " and " + file.path + " would both be " + record->path +
                             " in the bundle; rename one");
    manifest.files.push_back(*record);
    files.push_back({&file, *record});
  }

  std::vector<ResolvedImage> resolved = ResolveAll(request, registries, observer);
  std::string failures;
  int failed = 0;
  for (const ResolvedImage& r : resolved)
    if (!r.status.ok()) ++failed, failures += "\n  " + r.image->source.String() + ": " + r.status.message();
  if (failed > 0)
    return Status(std::find_if(resolved.begin(), resolved.end(), [](auto& r) { return !r.status.ok(); })->status.code(),
                  std::to_string(failed) + " of " + std::to_string(resolved.size()) +
                      " images could not be read; nothing was written:" + failures);

  std::map<std::string, BlobEntry> blobs;  // by digest; the map order is the entry order in a group
  std::vector<std::pair<std::string, Descriptor>> tops;
  for (const ResolvedImage& r : resolved) {
    const std::string what = r.image->source.String();
    for (const Manifest& m : r.tree.manifests) {
      Descriptor d{m.media_type, m.digest, static_cast<int64_t>(m.bytes.size()), ""};
      blobs.try_emplace(m.digest, BlobEntry{d, &m.bytes, nullptr, "", what, true});
      for (size_t i = 0; i < m.blobs.size(); ++i) {
        auto [it, fresh] = blobs.try_emplace(m.blobs[i].digest,
                                             BlobEntry{m.blobs[i], nullptr, r.client, r.image->fetch.repository, what});
        if (i == 0 && m.kind == ManifestKind::kImage) it->second.metadata = true;  // the config
      }
    }
    const Manifest& top = r.tree.top();
    tops.push_back({what, {top.media_type, top.digest, static_cast<int64_t>(top.bytes.size()), ""}});
    manifest.images.push_back(
        {what, r.tree.top().digest, r.tree.top().media_type, r.tree.platforms, r.tree.size, r.source_digest});
  }
  std::sort(manifest.images.begin(), manifest.images.end(),
            [](const BundleImage& a, const BundleImage& b) { return a.source < b.source; });
  for (const auto& [digest, entry] : blobs) report.blob_bytes += entry.blob.size;
  report.blobs = static_cast<int>(blobs.size());
  if (observer) observer->OnPlanned(report.blobs, report.blob_bytes);

  Result<std::unique_ptr<BundleWriter>> writer = BundleWriter::Create(path, options);
  if (!writer.ok()) return writer.status();
  BundleWriter& w = **writer;
  FERRY_RETURN_IF_ERROR(w.AddFile(bundle::kLayoutFile, "{\"imageLayoutVersion\":\"1.0.0\"}\n"));
  FERRY_RETURN_IF_ERROR(w.AddFile(bundle::kIndexFile, IndexJson(std::move(tops))));
  FERRY_RETURN_IF_ERROR(w.AddFile(bundle::kBundleFile, manifest.Serialize()));
  std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) {
    return std::pair(a.file->sample, a.record.path) < std::pair(b.file->sample, b.record.path);
  });
  for (const FileEntry& f : files) {
    Status s = f.file->text ? w.AddFile(f.record.path, *f.file->text)
                            : w.AddStream(f.record.path, f.record.size, f.record.sha256, FileProducer(f.file->path));
    if (s.code() == StatusCode::kDataLoss) return s.WithContext(f.file->path + " changed while it was saved");
    FERRY_RETURN_IF_ERROR(s);
  }
  for (bool metadata : {true, false}) {
    for (const auto& [digest, entry] : blobs) {
      if (entry.metadata != metadata) continue;
      const std::string name = bundle::kBlobsDir + digest.substr(7);
      Status s = entry.bytes ? w.AddFile(name, *entry.bytes)
                             : w.AddStream(name, entry.blob.size, digest, BlobProducer(entry));
      if (!s.ok())
        return s.WithContext(entry.what + ": blob " + digest + " from registry " +
                             (entry.client ? entry.client->registry() : std::string("?")) + ", repository " +
                             entry.repository);
      if (observer) observer->OnBlobDone(entry.blob);
    }
  }
  Result<BundleOutput> out = w.Finish();
  if (!out.ok()) return out.status();
  report.archive = std::move(*out);
  return report;
}

}  // namespace ferry
