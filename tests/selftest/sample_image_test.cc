// Sample images: the layer holds exactly the executable at /app/<name>, the config runs it on
// port 8080, the digests are reproducible, and the embedded apps are static executables.
#include "selftest/sample_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <elf.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <vector>

#include "common/sha256.h"
#include "selftest/embedded_samples.h"
#include "selftest/sample_push.h"

using namespace ferry;

namespace {

struct TarEntry {
  std::string path;
  unsigned type = 0;
  unsigned mode = 0;
  int64_t uid = -1, gid = -1, mtime = -1;
  std::string data;
};

// Reads every entry of a (possibly compressed) tar in memory.
std::vector<TarEntry> ReadTar(const std::string& bytes) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_all(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  std::vector<TarEntry> entries;
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    TarEntry t{archive_entry_pathname(e), archive_entry_filetype(e), archive_entry_perm(e),
               archive_entry_uid(e),      archive_entry_gid(e),      archive_entry_mtime(e)};
    char buffer[1 << 16];
    la_ssize_t n;
    while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) t.data.append(buffer, static_cast<size_t>(n));
    entries.push_back(t);
  }
  archive_read_free(a);
  return entries;
}

// The layer decompressed: the bytes the diff_id names.
std::string Gunzip(const std::string& gz) {
  archive* a = archive_read_new();
  archive_read_support_format_raw(a);
  archive_read_support_filter_gzip(a);
  REQUIRE(archive_read_open_memory(a, gz.data(), gz.size()) == ARCHIVE_OK);
  archive_entry* e = nullptr;
  REQUIRE(archive_read_next_header(a, &e) == ARCHIVE_OK);
  std::string out;
  char buffer[1 << 16];
  la_ssize_t n;
  while ((n = archive_read_data(a, buffer, sizeof buffer)) > 0) out.append(buffer, static_cast<size_t>(n));
  archive_read_free(a);
  return out;
}

const std::string kFakeBinary = "\x7f" "ELF pretend this is an executable";

}  // namespace

TEST_CASE("a sample image's layer holds the executable at /app/<name>, owned by root, mode 0755") {
  Result<SampleImage> image = BuildSampleImage("helloworld", kFakeBinary);
  REQUIRE(image.ok());
  std::vector<TarEntry> entries = ReadTar(image->layer);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].path == "app/");
  CHECK(entries[0].type == AE_IFDIR);
  CHECK(entries[1].path == "app/helloworld");
  CHECK(entries[1].type == AE_IFREG);
  CHECK(entries[1].mode == 0755);
  CHECK(entries[1].data == kFakeBinary);
  for (const TarEntry& e : entries) {
    CHECK(e.uid == 0);
    CHECK(e.gid == 0);
    CHECK(e.mtime == 0);
  }
}

TEST_CASE("a sample image's layer is gzip with no timestamp, so it compresses alike at any time") {
  Result<SampleImage> image = BuildSampleImage("autoscale", kFakeBinary);
  REQUIRE(image.ok());
  REQUIRE(image->layer.size() > 10);
  CHECK(static_cast<unsigned char>(image->layer[0]) == 0x1f);
  CHECK(static_cast<unsigned char>(image->layer[1]) == 0x8b);
  CHECK(image->layer.substr(4, 4) == std::string(4, '\0'));  // MTIME
}

TEST_CASE("a sample image's config runs the app on port 8080 and names its layer") {
  Result<SampleImage> image = BuildSampleImage("autoscale", kFakeBinary);
  REQUIRE(image.ok());
  nlohmann::json config = nlohmann::json::parse(image->config);
  CHECK(config["os"] == "linux");
  CHECK(config["architecture"] == std::string(BuildArchitecture()));
  CHECK(config["config"]["Entrypoint"] == nlohmann::json::array({"/app/autoscale"}));
  CHECK(config["config"]["Env"] == nlohmann::json::array({"PORT=8080"}));
  CHECK(config["config"]["ExposedPorts"].contains("8080/tcp"));
  CHECK(config["config"]["User"] != "");
  CHECK(config["rootfs"]["type"] == "layers");
  CHECK(config["rootfs"]["diff_ids"] == nlohmann::json::array({Sha256Digest(Gunzip(image->layer))}));
  CHECK(image->diff_id == Sha256Digest(Gunzip(image->layer)));
}

TEST_CASE("a sample image's manifest is an OCI image manifest over its config and one layer") {
  Result<SampleImage> image = BuildSampleImage("helloworld", kFakeBinary);
  REQUIRE(image.ok());
  CHECK(image->manifest.media_type == "application/vnd.oci.image.manifest.v1+json");
  CHECK(image->manifest.digest == Sha256Digest(image->manifest.bytes));
  REQUIRE(image->manifest.blobs.size() == 2);
  CHECK(image->manifest.blobs[0].media_type == "application/vnd.oci.image.config.v1+json");
  CHECK(image->manifest.blobs[0].digest == Sha256Digest(image->config));
  CHECK(image->manifest.blobs[0].size == static_cast<int64_t>(image->config.size()));
  CHECK(image->manifest.blobs[1].media_type == "application/vnd.oci.image.layer.v1.tar+gzip");
  CHECK(image->manifest.blobs[1].digest == Sha256Digest(image->layer));
  CHECK(image->manifest.blobs[1].size == static_cast<int64_t>(image->layer.size()));
}

TEST_CASE("the same executable always gives the same image digest, another one a different digest") {
  Result<SampleImage> a = BuildSampleImage("helloworld", kFakeBinary);
  Result<SampleImage> b = BuildSampleImage("helloworld", kFakeBinary);
  Result<SampleImage> c = BuildSampleImage("helloworld", kFakeBinary + "!");
  Result<SampleImage> d = BuildSampleImage("autoscale", kFakeBinary);
  REQUIRE((a.ok() && b.ok() && c.ok() && d.ok()));
  CHECK(a->manifest.bytes == b->manifest.bytes);
  CHECK(a->layer == b->layer);
  CHECK(a->manifest.digest != c->manifest.digest);
  CHECK(a->manifest.digest != d->manifest.digest);
}

TEST_CASE("ferry embeds helloworld and autoscale as static executables for this architecture") {
  REQUIRE(EmbeddedSampleApps().size() == 2);
  for (std::string_view name : {"helloworld", "autoscale"}) {
    const EmbeddedSampleApp* app = FindEmbeddedSampleApp(name);
    REQUIRE(app != nullptr);
    REQUIRE(app->binary.size() > sizeof(Elf64_Ehdr));
    Elf64_Ehdr header;
    std::memcpy(&header, app->binary.data(), sizeof header);
    CHECK(std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0);
    CHECK(header.e_type == ET_EXEC);  // not ET_DYN: no loader, no shared libraries
    // No PT_INTERP (dynamic loader) and no PT_DYNAMIC segment: runs in an image with nothing else.
    for (size_t i = 0; i < header.e_phnum; ++i) {
      Elf64_Phdr program;
      REQUIRE(header.e_phoff + (i + 1) * sizeof program <= app->binary.size());
      std::memcpy(&program, app->binary.data() + header.e_phoff + i * sizeof program, sizeof program);
      INFO(name << " program header " << i);
      CHECK(program.p_type != PT_INTERP);
      CHECK(program.p_type != PT_DYNAMIC);
    }
  }
  CHECK(FindEmbeddedSampleApp("nginx") == nullptr);
}

TEST_CASE("`samples push --to` takes REGISTRY or REGISTRY/NAMESPACE, without tag or digest") {
  Result<ImageReference> ns = ParseSampleNamespace("localhost:5000/knative-samples");
  REQUIRE(ns.ok());
  CHECK(ns->registry == "localhost:5000");
  CHECK(ns->repository == "knative-samples");
  ns = ParseSampleNamespace("registry.example.internal/a/b");
  REQUIRE(ns.ok());
  CHECK(ns->registry == "registry.example.internal");
  CHECK(ns->repository == "a/b");
  ns = ParseSampleNamespace("localhost:5000");
  REQUIRE(ns.ok());
  CHECK(ns->registry == "localhost:5000");
  CHECK(ns->repository.empty());
  for (std::string bad : {"localhost:5000/ns:v1", "localhost:5000/ns@sha256:0123", "localhost:5000/NS", ""}) {
    INFO(bad);
    Result<ImageReference> r = ParseSampleNamespace(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(r.status().message().find("REGISTRY/NAMESPACE") != std::string::npos);
  }
}
