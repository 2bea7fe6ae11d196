// BundleReader: archives built here with libarchive's writer, read back entry by entry; every
// unsafe entry refused naming it; truncation, split parts and compression.
#include "mirror/bundle_reader.h"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <filesystem>
#include <fstream>

using namespace ferry;
namespace fs = std::filesystem;

namespace {

struct TestEntry {
  std::string name;
  std::string data;
  unsigned type = AE_IFREG;
  std::string link;  // symlink target, or hard link target when type is 0
};

std::string TempDir() {
  static int n = 0;
  fs::path dir = fs::temp_directory_path() / ("ferry-bundle-reader-" + std::to_string(getpid()) + "-" + std::to_string(n++));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir.string();
}

std::string WriteArchive(const std::string& path, const std::vector<TestEntry>& entries, int filter = ARCHIVE_FILTER_NONE) {
  archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  if (filter != ARCHIVE_FILTER_NONE) archive_write_add_filter(a, filter);
  REQUIRE(archive_write_open_filename(a, path.c_str()) == ARCHIVE_OK);
  for (const TestEntry& t : entries) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, t.name.c_str());
    archive_entry_set_perm(e, 0644);
    if (t.type == 0) {
      archive_entry_set_filetype(e, AE_IFREG);
      archive_entry_set_hardlink(e, t.link.c_str());
    } else {
      archive_entry_set_filetype(e, t.type);
      if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.link.c_str());
      if (t.type == AE_IFREG) archive_entry_set_size(e, static_cast<la_int64_t>(t.data.size()));
    }
    archive_write_header(a, e);
    if (t.type == AE_IFREG && !t.data.empty()) archive_write_data(a, t.data.data(), t.data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

std::vector<TestEntry> Layout() {
  return {{"oci-layout", R"({"imageLayoutVersion": "1.0.0"})"},
          {"index.json", R"({"schemaVersion": 2, "manifests": []})"},
          {"blobs/", "", AE_IFDIR},
          {"blobs/sha256/" + std::string(64, 'a'), std::string(300000, 'x')}};
}

// Every entry as "path:size", or the error.
std::string ReadEverything(const std::string& path) {
  Result<std::unique_ptr<BundleReader>> reader = BundleReader::Open(path);
  if (!reader.ok()) return "error: " + reader.status().message();
  std::string out;
  BundleEntry e;
  for (;;) {
    Result<bool> more = (*reader)->Next(&e);
    if (!more.ok()) return out + "error: " + more.status().message();
    if (!*more) return out;
    Result<std::string> data = (*reader)->ReadAll(8 << 20);
    if (!data.ok()) return out + "error: " + data.status().message();
    out += e.path + ":" + std::to_string(data->size()) + " ";
  }
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Spit(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("a bundle reader lists regular files in archive order and skips directories") {
  std::string dir = TempDir();
  std::string tar = WriteArchive(dir + "/b.tar", Layout());
  CHECK(ReadEverything(tar) == "oci-layout:31 index.json:37 blobs/sha256/" + std::string(64, 'a') + ":300000 ");
}

TEST_CASE("a bundle reader reads zstd and gzip archives as a stream") {
  std::string dir = TempDir();
  std::string expected = ReadEverything(WriteArchive(dir + "/b.tar", Layout()));
  CHECK(ReadEverything(WriteArchive(dir + "/b.tar.zst", Layout(), ARCHIVE_FILTER_ZSTD)) == expected);
  CHECK(ReadEverything(WriteArchive(dir + "/b.tar.gz", Layout(), ARCHIVE_FILTER_GZIP)) == expected);
}

TEST_CASE("a bundle reader decodes only tar, gzip and zstd: no other filter reaches an untrusted archive") {
  // libarchive's other filters include ones that run external programs (lrzip, lzop, grzip...).
  std::string dir = TempDir();
  for (int filter : {ARCHIVE_FILTER_BZIP2, ARCHIVE_FILTER_XZ, ARCHIVE_FILTER_LZMA, ARCHIVE_FILTER_COMPRESS,
                     ARCHIVE_FILTER_UU}) {
    INFO("filter " << filter);
    std::string path = WriteArchive(dir + "/b." + std::to_string(filter), Layout(), filter);
    std::string read = ReadEverything(path);
    CHECK_THAT(read, Catch::StartsWith("error: ") && Catch::Contains(path) && Catch::Contains("tar, tar.gz or tar.zst"));
  }
}

TEST_CASE("a bundle reader refuses unsafe entries, naming them") {
  std::string dir = TempDir();
  auto refused = [&](TestEntry bad) {
    std::vector<TestEntry> entries = Layout();
    entries.insert(entries.begin() + 1, bad);
    return ReadEverything(WriteArchive(dir + "/bad.tar", entries));
  };
  CHECK_THAT(refused({"/etc/passwd", "x"}), Catch::Contains("\"/etc/passwd\" has an absolute path"));
  CHECK_THAT(refused({"blobs/../../evil", "x"}), Catch::Contains("\"blobs/../../evil\" has a '..' component"));
  CHECK_THAT(refused({"blobs/link", "", AE_IFLNK, "/etc/shadow"}), Catch::Contains("\"blobs/link\" is a symbolic link"));
  CHECK_THAT(refused({"blobs/hard", "", 0, "oci-layout"}), Catch::Contains("\"blobs/hard\" is a hard link"));
  CHECK_THAT(refused({"blobs/dev", "", AE_IFCHR}), Catch::Contains("\"blobs/dev\" is a device file"));
  CHECK_THAT(refused({"blobs/fifo", "", AE_IFIFO}), Catch::Contains("\"blobs/fifo\" is not a regular file"));
}

TEST_CASE("entry paths are normalised; empty and dot-only names are refused") {
  CHECK(*CheckEntryPath("./blobs//sha256/./x", "b.tar") == "blobs/sha256/x");
  CHECK_FALSE(CheckEntryPath("./", "b.tar").ok());
  CHECK_FALSE(CheckEntryPath("a/..", "b.tar").ok());
}

TEST_CASE("a truncated archive names the entry and its offset") {
  std::string dir = TempDir();
  std::string tar = WriteArchive(dir + "/b.tar", Layout());
  std::string bytes = Slurp(tar);
  Spit(tar, bytes.substr(0, 4096 + 100000));  // in the middle of the big blob
  std::string out = ReadEverything(tar);
  CHECK_THAT(out, Catch::Contains("truncated archive: entry \"blobs/sha256/" + std::string(64, 'a')));
  CHECK_THAT(out, Catch::Contains("header at byte"));
  CHECK_THAT(out, Catch::Contains("of its 300000 bytes"));
  SECTION("also when compressed") {
    std::string zst = WriteArchive(dir + "/b.tar.zst", Layout(), ARCHIVE_FILTER_ZSTD);
    std::string z = Slurp(zst);
    Spit(zst, z.substr(0, z.size() / 2));
    CHECK_THAT(ReadEverything(zst), Catch::Contains("error: "));
  }
}

TEST_CASE("split parts are read in order, given NAME.000 or NAME") {
  std::string dir = TempDir();
  std::string bytes = Slurp(WriteArchive(dir + "/whole.tar", Layout()));
  std::string expected = ReadEverything(dir + "/whole.tar");
  size_t part = 100000;
  for (size_t i = 0, n = 0; i < bytes.size(); i += part, ++n)
    Spit(dir + "/b.tar.00" + std::to_string(n), bytes.substr(i, part));
  CHECK(ReadEverything(dir + "/b.tar.000") == expected);
  CHECK(ReadEverything(dir + "/b.tar") == expected);

  SECTION("a missing middle part is named") {
    fs::remove(dir + "/b.tar.001");
    CHECK_THAT(ReadEverything(dir + "/b.tar"), Catch::Contains("split part " + dir + "/b.tar.001 is missing"));
  }
  SECTION("a short middle part is named") {
    Spit(dir + "/b.tar.001", bytes.substr(part, 5000));
    CHECK_THAT(ReadEverything(dir + "/b.tar.000"), Catch::Contains("split part " + dir + "/b.tar.001 has 5000 bytes"));
  }
  SECTION("a missing last part is a truncated archive") {
    fs::remove(dir + "/b.tar.003");
    CHECK_THAT(ReadEverything(dir + "/b.tar"), Catch::Contains("truncated archive"));
  }
}

TEST_CASE("a zstd archive split into parts is read across the part boundaries") {
  std::string dir = TempDir();
  std::string expected = ReadEverything(WriteArchive(dir + "/whole.tar", Layout()));
  std::string bytes = Slurp(WriteArchive(dir + "/whole.tar.zst", Layout(), ARCHIVE_FILTER_ZSTD));
  size_t part = 200;
  for (size_t i = 0, n = 0; i < bytes.size(); i += part, ++n) {
    std::string suffix = std::to_string(n);
    Spit(dir + "/b.tar.zst." + std::string(3 - suffix.size(), '0') + suffix, bytes.substr(i, part));
  }
  CHECK(ReadEverything(dir + "/b.tar.zst.000") == expected);
}

TEST_CASE("a missing archive says so") {
  CHECK_THAT(ReadEverything("/nonexistent/b.tar"), Catch::Contains("no such file"));
}

TEST_CASE("an OCI layout directory yields metadata first, then small blobs, and refuses symlinks") {
  std::string dir = TempDir();
  fs::create_directories(dir + "/blobs/sha256");
  Spit(dir + "/blobs/sha256/" + std::string(64, 'b'), std::string(5 << 20, 'y'));
  Spit(dir + "/blobs/sha256/" + std::string(64, 'c'), "{}");
  Spit(dir + "/index.json", "{}");
  Spit(dir + "/oci-layout", "{}");
  CHECK(ReadEverything(dir) == "oci-layout:2 index.json:2 blobs/sha256/" + std::string(64, 'c') + ":2 blobs/sha256/" +
                                   std::string(64, 'b') + ":5242880 ");
  fs::create_symlink("/etc/passwd", dir + "/blobs/sha256/" + std::string(64, 'd'));
  CHECK_THAT(ReadEverything(dir), Catch::Contains("is a symbolic link"));
}
