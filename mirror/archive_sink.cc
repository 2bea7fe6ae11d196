#include "mirror/archive_sink.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>

#include "common/sha256.h"
#include "mirror/attachments.h"
#include "mirror/layout_index.h"

namespace ferry {
namespace {

struct FileSum {
  std::string sha256;  // 64 hex
  int64_t size = 0;
};

Result<FileSum> HashFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path + ": " + std::strerror(errno));
  Sha256 hash;
  int64_t size = 0;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    hash.Update(std::string_view(buffer, static_cast<size_t>(in.gcount())));
    size += in.gcount();
  }
  if (in.bad()) return IoError("cannot read " + path);
  return FileSum{hash.Digest().substr(7), size};
}

Result<BundleFile> DescribeFile(const BundleSaveFile& file) {
  std::string dir = file.sample ? bundle::kSamplesDir : bundle::kManifestsDir;
  if (file.text)
    return BundleFile{file.name, dir + file.name, Sha256Digest(*file.text).substr(7),
                      static_cast<int64_t>(file.text->size())};
  Result<FileSum> sum = HashFile(file.path);
  if (!sum.ok()) return sum.status();
  return BundleFile{file.name, dir + file.name, sum->sha256, sum->size};
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

}  // namespace

ArchiveSink::ArchiveSink(std::string path, BundleWriterOptions options, std::optional<BundleInfo> bundle)
    : path_(std::move(path)), options_(options), bundle_(std::move(bundle)) {}

Result<std::unique_ptr<ArchiveSink>> ArchiveSink::Create(const std::string& path, const BundleWriterOptions& options,
                                                        std::optional<BundleInfo> bundle) {
  std::unique_ptr<ArchiveSink> sink(new ArchiveSink(path, options, std::move(bundle)));
  if (sink->bundle_) {
    std::map<std::string, const BundleSaveFile*> by_path;
    for (const BundleSaveFile& file : sink->bundle_->files) {
      Result<BundleFile> record = DescribeFile(file);
      if (!record.ok()) return record.status();
      if (auto [it, fresh] = by_path.emplace(record->path, &file); !fresh)
        return InvalidArgument(it->second->path + " and " + file.path + " would both be " + record->path +
                               " in the bundle; rename one");
      sink->files_.push_back(*record);
    }
    if (const std::optional<BundleSavePackage>& package = sink->bundle_->ferry_package) {
      Result<FileSum> sum = HashFile(package->path);
      if (!sum.ok()) return sum.status();
      sink->package_ = package->record;
      sink->package_->sha256 = sum->sha256;
      sink->package_->size = sum->size;
    }
  }
  return sink;
}

std::string ArchiveSink::Where(const std::string& repository) const {
  return path_ + (repository.empty() ? "" : " (" + repository + ")");
}

Status ArchiveSink::Begin(const CopyPlan& plan) {
  if (bundle_) {
    manifest_.ferry_version = bundle_->ferry_version;
    manifest_.profile = bundle_->profile;
    manifest_.profile_json = bundle_->profile_json;
    manifest_.platform_filter = bundle_->platform_filter;
    manifest_.files = files_;
    manifest_.ferry_package = package_;
  }
  // index.json names each image and each tagged attachment; referrers are found through the
  // fallback index of their subject (OCI 1.1 tag schema), made here.
  std::vector<LayoutEntry> entries;
  std::map<std::string, const Manifest*> manifests;  // by digest: every manifest to write
  std::map<std::string, std::optional<Manifest>> fallback;  // ref name -> referrers index
  std::map<const PlannedImage*, size_t> image_of;
  for (const PlannedImage& p : plan.images) {
    const ResolvedImage& image = *p.image;
    for (const Manifest& m : image.manifests) {
      manifests.emplace(m.digest, &m);
      for (size_t i = 0; i < m.blobs.size(); ++i)
        if (i == 0 && m.kind == ManifestKind::kImage) configs_.insert(m.blobs[i].digest);
    }
    if (!p.subject) {
      image_of[&p] = manifest_.images.size();
      manifest_.images.push_back({p.name, image.top().digest, image.top().media_type, image.platforms, image.size,
                                  image.source_digest, {}});
      // A bundle names its images as the release files do (what skopeo's oci-archive:B.tar:NAME
      // asks for); a plain oci-archive as the destination said.
      entries.push_back({bundle_ ? p.name : RefName(p.to), DescriptorOf(image.top()), true});
      planned_[{p.to.repository, p.to.tag.empty() ? image.top().digest : p.to.tag}] = image.top().digest;
      continue;
    }
    const PlannedImage* root = p.subject;
    while (root->subject) root = root->subject;
    manifest_.images[image_of[root]].attachments.push_back({std::string(AttachmentKindName(p.attachment.kind)),
                                                            p.attachment.tag, image.top().digest,
                                                            image.top().media_type});
    if (!p.attachment.tag.empty()) {
      entries.push_back({RefName({p.to.repository, p.attachment.tag, ""}), DescriptorOf(image.top()), false});
      planned_[{p.to.repository, p.attachment.tag}] = image.top().digest;
    } else if (image.top().subject) {
      std::string name = RefName({p.to.repository, ReferrersTag(image.top().subject->digest), ""});
      Result<std::optional<Manifest>> added = AddReferrer(fallback[name], image.top());
      if (!added.ok()) return added.status();
      if (added->has_value()) fallback[name] = std::move(**added);
    }
  }
  for (auto& [name, index] : fallback) {
    entries.push_back({name, DescriptorOf(*index), false});
    manifests.emplace(index->digest, &*index);
  }
  std::sort(entries.begin(), entries.end(), [](const LayoutEntry& a, const LayoutEntry& b) { return a.name < b.name; });
  std::sort(manifest_.images.begin(), manifest_.images.end(),
            [](const BundleImage& a, const BundleImage& b) { return a.source < b.source; });

  Result<std::unique_ptr<BundleWriter>> writer = BundleWriter::Create(path_, options_);
  if (!writer.ok()) return writer.status();
  writer_ = std::move(*writer);
  FERRY_RETURN_IF_ERROR(writer_->AddFile(bundle::kLayoutFile, "{\"imageLayoutVersion\":\"1.0.0\"}\n"));
  FERRY_RETURN_IF_ERROR(writer_->AddFile(bundle::kIndexFile, LayoutIndexJson(entries)));
  if (bundle_) {
    FERRY_RETURN_IF_ERROR(writer_->AddFile(bundle::kBundleFile, manifest_.Serialize()));
    std::vector<std::pair<const BundleSaveFile*, const BundleFile*>> files;
    for (size_t i = 0; i < files_.size(); ++i) files.push_back({&bundle_->files[i], &files_[i]});
    std::sort(files.begin(), files.end(), [](const auto& a, const auto& b) {
      return std::pair(a.first->sample, a.second->path) < std::pair(b.first->sample, b.second->path);
    });
    for (const auto& [file, record] : files) {
      Status s = file->text ? writer_->AddFile(record->path, *file->text)
                            : writer_->AddStream(record->path, record->size, record->sha256, FileProducer(file->path));
      if (s.code() == StatusCode::kDataLoss) return s.WithContext(file->path + " changed while it was saved");
      FERRY_RETURN_IF_ERROR(s);
    }
    if (package_) {
      const std::string& from = bundle_->ferry_package->path;
      Status s = writer_->AddStream(package_->path, package_->size, package_->sha256, FileProducer(from),
                                    package_->kind == bundle::kPackageBinary ? 0755 : 0644);
      if (s.code() == StatusCode::kDataLoss) return s.WithContext(from + " changed while it was saved");
      FERRY_RETURN_IF_ERROR(s);
    }
  }
  // The manifests go with the configs, in one group sorted by digest (PutBlob interleaves them).
  for (const auto& [digest, m] : manifests) pending_[digest] = m->bytes;
  return Status::Ok();
}

Status ArchiveSink::WriteManifestsBefore(const std::string& digest) {
  for (auto it = pending_.begin(); it != pending_.end() && (digest.empty() || it->first < digest);) {
    FERRY_RETURN_IF_ERROR(AddBlob({"", it->first, static_cast<int64_t>(it->second.size()), ""}, it->second));
    it = pending_.erase(it);
  }
  return Status::Ok();
}

Status ArchiveSink::AddBlob(const Descriptor& blob, std::string_view bytes) {
  if (!written_.insert(blob.digest).second) return Status::Ok();
  blob_bytes_ += blob.size;
  return writer_->AddFile(bundle::BlobEntry(blob.digest), bytes);
}

std::vector<Descriptor> ArchiveSink::BlobOrder(const std::vector<Descriptor>& blobs) const {
  std::vector<Descriptor> order = blobs;
  std::sort(order.begin(), order.end(), [&](const Descriptor& a, const Descriptor& b) {
    return std::pair(!configs_.count(a.digest), a.digest) < std::pair(!configs_.count(b.digest), b.digest);
  });
  return order;
}

Result<bool> ArchiveSink::HasBlob(const std::string& /*repository*/, const Descriptor& blob) {
  return written_.count(blob.digest) > 0;
}

Status ArchiveSink::PutBlob(const std::string& /*repository*/, const Descriptor& blob, const BodyReader& reader) {
  if (!writer_) return Internal(path_ + ": a blob before the plan");
  // Before a config: the manifests sorted before it; before the first layer: all of them.
  FERRY_RETURN_IF_ERROR(WriteManifestsBefore(configs_.count(blob.digest) ? blob.digest : ""));
  Status s = writer_->AddStream(bundle::BlobEntry(blob.digest), blob.size, blob.digest, [&](const ChunkSink& sink) -> Status {
    char buffer[256 << 10];
    for (;;) {
      Result<size_t> n = reader(buffer, sizeof buffer);
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Ok();
      FERRY_RETURN_IF_ERROR(sink(std::string_view(buffer, *n)));
    }
  });
  if (!s.ok()) return s;
  written_.insert(blob.digest);
  blob_bytes_ += blob.size;
  return Status::Ok();
}

Result<std::optional<std::string>> ArchiveSink::ManifestDigest(const std::string& repository,
                                                              const std::string& identifier) {
  if (IsValidDigest(identifier))
    return written_.count(identifier) ? std::optional<std::string>(identifier) : std::nullopt;
  auto it = planned_.find({repository, identifier});
  if (it == planned_.end() || !written_.count(it->second)) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

Status ArchiveSink::PutManifest(const std::string& repository, const std::string& identifier,
                                const Manifest& manifest) {
  // Laid out by Begin already; only make sure the plan and the push agree.
  FERRY_RETURN_IF_ERROR(WriteManifestsBefore(""));
  if (!written_.count(manifest.digest))
    return Internal(Where(repository) + ": manifest " + manifest.digest + " for " + identifier + " was not planned");
  return Status::Ok();
}

Status ArchiveSink::Finish() {
  if (!writer_) return Internal(path_ + ": nothing was planned");
  FERRY_RETURN_IF_ERROR(WriteManifestsBefore(""));
  Result<BundleOutput> out = writer_->Finish();
  if (!out.ok()) return out.status();
  output_ = std::move(*out);
  return Status::Ok();
}

}  // namespace ferry
