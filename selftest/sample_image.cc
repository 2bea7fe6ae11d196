// Building a sample app's image: see sample_image.h.
#include "selftest/sample_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <nlohmann/json.hpp>

#include <memory>

#include "common/sha256.h"

namespace ferry {
namespace {

constexpr const char* kLayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";
constexpr const char* kConfigMediaType = "application/vnd.oci.image.config.v1+json";
// The Unix epoch, as reproducible builds (ko, Bazel) write it: a date that never changes.
constexpr const char* kCreated = "1970-01-01T00:00:00Z";
// Not root: the apps need no privilege, and clusters that demand runAsNonRoot accept the image.
constexpr const char* kUser = "65532:65532";

using ArchivePtr = std::unique_ptr<struct archive, decltype(&archive_write_free)>;

la_ssize_t AppendToString(struct archive*, void* out, const void* buffer, size_t size) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buffer), size);
  return static_cast<la_ssize_t>(size);
}

Status ArchiveError(struct archive* a, const std::string& what) {
  const char* message = archive_error_string(a);
  return Internal(what + ": " + (message != nullptr ? message : "libarchive failed"));
}

// Writes one entry with fixed owner and time: only path, mode and bytes vary.
Status WriteEntry(struct archive* a, const std::string& path, mode_t type, mode_t mode, std::string_view bytes) {
  std::unique_ptr<archive_entry, decltype(&archive_entry_free)> entry(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(entry.get(), path.c_str());
  archive_entry_set_filetype(entry.get(), type);
  archive_entry_set_perm(entry.get(), mode);
  archive_entry_set_uid(entry.get(), 0);
  archive_entry_set_gid(entry.get(), 0);
  archive_entry_set_mtime(entry.get(), 0, 0);
  archive_entry_set_size(entry.get(), static_cast<la_int64_t>(bytes.size()));
  if (archive_write_header(a, entry.get()) != ARCHIVE_OK) return ArchiveError(a, "layer entry " + path);
  if (!bytes.empty() && archive_write_data(a, bytes.data(), bytes.size()) != static_cast<la_ssize_t>(bytes.size()))
    return ArchiveError(a, "layer entry " + path);
  return Status::Ok();
}

// The layer's tar: /app/ and /app/<name>.
Result<std::string> LayerTar(std::string_view name, std::string_view binary) {
  std::string tar;
  ArchivePtr a(archive_write_new(), archive_write_free);
  if (archive_write_set_format_ustar(a.get()) != ARCHIVE_OK ||
      archive_write_open(a.get(), &tar, nullptr, AppendToString, nullptr) != ARCHIVE_OK)
    return ArchiveError(a.get(), "layer tar");
  FERRY_RETURN_IF_ERROR(WriteEntry(a.get(), "app/", AE_IFDIR, 0755, {}));
  FERRY_RETURN_IF_ERROR(WriteEntry(a.get(), "app/" + std::string(name), AE_IFREG, 0755, binary));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "layer tar");
  return tar;
}

// gzip of `bytes` without a timestamp in its header, so the same bytes always compress alike.
Result<std::string> Gzip(std::string_view bytes) {
  std::string gz;
  ArchivePtr a(archive_write_new(), archive_write_free);
  if (archive_write_set_format_raw(a.get()) != ARCHIVE_OK || archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK ||
      archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr) != ARCHIVE_OK ||
      archive_write_set_filter_option(a.get(), "gzip", "compression-level", "9") != ARCHIVE_OK ||
      archive_write_set_bytes_per_block(a.get(), 0) != ARCHIVE_OK ||
      archive_write_open(a.get(), &gz, nullptr, AppendToString, nullptr) != ARCHIVE_OK)
    return ArchiveError(a.get(), "layer gzip");
  FERRY_RETURN_IF_ERROR(WriteEntry(a.get(), "layer.tar", AE_IFREG, 0644, bytes));
  if (archive_write_close(a.get()) != ARCHIVE_OK) return ArchiveError(a.get(), "layer gzip");
  return gz;
}

std::string Config(std::string_view name, const std::string& diff_id) {
  nlohmann::json config = {
      {"created", kCreated},
      {"architecture", BuildArchitecture()},
      {"os", "linux"},
      {"config",
       {{"Entrypoint", {"/app/" + std::string(name)}},
        {"Env", {"PORT=8080"}},
        {"ExposedPorts", {{"8080/tcp", nlohmann::json::object()}}},
        {"User", kUser},
        {"WorkingDir", "/app"},
        {"Labels",
         {{"org.opencontainers.image.title", name},
          {"org.opencontainers.image.version", FERRY_VERSION},
          {"org.opencontainers.image.description", "Knative " + std::string(name) + " sample, built by ferry"}}}}},
      {"rootfs", {{"type", "layers"}, {"diff_ids", {diff_id}}}},
      {"history", {{{"created", kCreated}, {"created_by", "ferry samples push"}}}},
  };
  return config.dump();  // nlohmann::json sorts keys: the same input gives the same bytes
}

}  // namespace

std::string_view BuildArchitecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#else
#error "unknown architecture: add its OCI name to BuildArchitecture()"
#endif
}

Result<SampleImage> BuildSampleImage(std::string_view name, std::string_view binary) {
  SampleImage image;
  image.name = std::string(name);
  Result<std::string> tar = LayerTar(name, binary);
  if (!tar.ok()) return tar.status().WithContext("sample " + image.name);
  image.diff_id = Sha256Digest(*tar);
  Result<std::string> layer = Gzip(*tar);
  if (!layer.ok()) return layer.status().WithContext("sample " + image.name);
  image.layer = std::move(*layer);
  image.config = Config(name, image.diff_id);

  nlohmann::json manifest = {
      {"schemaVersion", 2},
      {"mediaType", media_type::kOciManifest},
      {"config",
       {{"mediaType", kConfigMediaType}, {"digest", Sha256Digest(image.config)}, {"size", image.config.size()}}},
      {"layers",
       {{{"mediaType", kLayerMediaType}, {"digest", Sha256Digest(image.layer)}, {"size", image.layer.size()}}}},
  };
  Result<Manifest> parsed = ParseManifest(manifest.dump(), media_type::kOciManifest, "sample " + image.name);
  if (!parsed.ok()) return parsed.status();
  image.manifest = std::move(*parsed);
  return image;
}

}  // namespace ferry
