// BundleWriter: deterministic tar (and tar.zst) output, entry order and headers as written, split
// parts, and a failed entry leaving nothing behind. Archives are read back with libarchive.
#include "mirror/bundle_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "common/sha256.h"

using namespace ferry;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/ferry-bundle-writer-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { fs::remove_all(path); }
  std::vector<std::string> Names() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string RandomBytes(size_t size, unsigned seed) {
  std::mt19937 rng(seed);
  std::string bytes(size, '\0');
  for (char& c : bytes) c = static_cast<char>(rng());
  return bytes;
}

// Streams `bytes` in chunks of `chunk`.
StreamProducer Chunks(const std::string& bytes, size_t chunk = 1000) {
  return [&bytes, chunk](const ChunkSink& sink) -> Status {
    for (size_t at = 0; at < bytes.size(); at += chunk)
      FERRY_RETURN_IF_ERROR(sink(std::string_view(bytes).substr(at, chunk)));
    return Status::Ok();
  };
}

const std::string kLayer = RandomBytes(300000, 7);
const std::string kConfig = "{\"architecture\":\"amd64\"}";

// The same entries every time: two files from memory, then a streamed blob.
Result<BundleOutput> WriteSample(const std::string& path, const BundleWriterOptions& options) {
  Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(path, options);
  if (!w.ok()) return w.status();
  FERRY_RETURN_IF_ERROR((*w)->AddFile("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}\n"));
  FERRY_RETURN_IF_ERROR((*w)->AddFile("blobs/sha256/" + Sha256Digest(kConfig).substr(7), kConfig));
  FERRY_RETURN_IF_ERROR((*w)->AddStream("blobs/sha256/" + Sha256Digest(kLayer).substr(7),
                                        static_cast<int64_t>(kLayer.size()), Sha256Digest(kLayer), Chunks(kLayer)));
  return (*w)->Finish();
}

struct Entry {
  std::string name, content, uname, gname;
  int64_t mtime, uid, gid;
  int mode;
};

// Every entry of the archive in `bytes` (tar or tar.zst).
std::vector<Entry> ReadBack(const std::string& bytes) {
  archive* a = archive_read_new();
  archive_read_support_format_tar(a);
  archive_read_support_filter_zstd(a);
  REQUIRE(archive_read_open_memory(a, bytes.data(), bytes.size()) == ARCHIVE_OK);
  std::vector<Entry> entries;
  archive_entry* e = nullptr;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    std::string content(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (!content.empty()) REQUIRE(archive_read_data(a, content.data(), content.size()) == la_ssize_t(content.size()));
    entries.push_back({archive_entry_pathname(e), content, archive_entry_uname(e) ? archive_entry_uname(e) : "",
                       archive_entry_gname(e) ? archive_entry_gname(e) : "", archive_entry_mtime(e),
                       archive_entry_uid(e), archive_entry_gid(e), static_cast<int>(archive_entry_mode(e))});
  }
  archive_read_free(a);
  return entries;
}

}  // namespace

TEST_CASE("the same entries give a byte-identical archive") {
  TempDir dir;
  for (bool zstd : {false, true}) {
    BundleWriterOptions options{.zstd = zstd};
    Result<BundleOutput> first = WriteSample(dir.path + "/a.tar", options);
    Result<BundleOutput> second = WriteSample(dir.path + "/b.tar", options);
    REQUIRE(first.ok());
    REQUIRE(second.ok());
    CHECK(Slurp(dir.path + "/a.tar") == Slurp(dir.path + "/b.tar"));
    CHECK(first->sha256 == second->sha256);
    CHECK(first->sha256 == Sha256Digest(Slurp(dir.path + "/a.tar")).substr(7));
    CHECK(first->size == Slurp(dir.path + "/a.tar").size());
    REQUIRE(first->parts.size() == 1);
    CHECK(first->parts[0].path == dir.path + "/a.tar");
  }
}

TEST_CASE("zstd output does not depend on the number of threads") {
  TempDir dir;
  // Several of zstd's 2 MiB jobs, half compressible, so the workers really split the input.
  std::string big = RandomBytes(3 << 20, 11) + std::string(3 << 20, 'k') + RandomBytes(1 << 20, 12);
  std::vector<std::string> outputs;
  for (int threads : {1, 2, 4}) {
    std::string path = dir.path + "/t" + std::to_string(threads) + ".tar.zst";
    Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(path, {.zstd = true, .zstd_threads = threads});
    REQUIRE(w.ok());
    REQUIRE((*w)->AddStream("big", static_cast<int64_t>(big.size()), Sha256Digest(big), Chunks(big, 65536)).ok());
    REQUIRE((*w)->Finish().ok());
    outputs.push_back(Slurp(path));
  }
  CHECK(outputs[0].size() < big.size() * 3 / 4);  // compressed
  CHECK(outputs[0] == outputs[1]);
  CHECK(outputs[0] == outputs[2]);
  std::vector<Entry> entries = ReadBack(outputs[0]);
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].content == big);
}

TEST_CASE("entries come back in the order written, with fixed headers") {
  TempDir dir;
  for (bool zstd : {false, true}) {
    std::string path = dir.path + (zstd ? "/x.tar.zst" : "/x.tar");
    REQUIRE(WriteSample(path, {.zstd = zstd}).ok());
    std::string bytes = Slurp(path);
    if (zstd) CHECK(bytes.substr(0, 4) == std::string("\x28\xb5\x2f\xfd", 4));  // the zstd frame magic
    std::vector<Entry> entries = ReadBack(bytes);
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].name == "oci-layout");
    CHECK(entries[1].name == "blobs/sha256/" + Sha256Digest(kConfig).substr(7));
    CHECK(entries[1].content == kConfig);
    CHECK(entries[2].content == kLayer);
    for (const Entry& e : entries) {
      CHECK(e.mtime == 0);
      CHECK(e.uid == 0);
      CHECK(e.gid == 0);
      CHECK(e.uname.empty());
      CHECK(e.gname.empty());
      CHECK(e.mode == (AE_IFREG | 0644));
    }
  }
}

TEST_CASE("a split archive is numbered parts of exactly the split size that concatenate to the archive") {
  TempDir dir;
  for (bool zstd : {false, true}) {
    std::string whole = dir.path + (zstd ? "/w.tar.zst" : "/w.tar");
    std::string split = dir.path + (zstd ? "/s.tar.zst" : "/s.tar");
    REQUIRE(WriteSample(whole, {.zstd = zstd}).ok());
    // A stale part from an earlier, larger run must not survive.
    for (size_t i : {7, 8}) std::ofstream(BundlePartPath(split, i)) << "stale";
    Result<BundleOutput> out = WriteSample(split, {.zstd = zstd, .split_size = 40000});
    REQUIRE(out.ok());
    std::string expected = Slurp(whole);
    size_t count = (expected.size() + 39999) / 40000;
    REQUIRE(out->parts.size() == count);
    std::string joined;
    for (size_t i = 0; i < count; ++i) {
      std::string part = Slurp(BundlePartPath(split, i));
      CHECK(out->parts[i].path == BundlePartPath(split, i));
      CHECK(out->parts[i].sha256 == Sha256Digest(part).substr(7));
      if (i + 1 < count) CHECK(part.size() == 40000);
      joined += part;
    }
    CHECK(joined == expected);
    CHECK(out->sha256 == Sha256Digest(expected).substr(7));
    CHECK_FALSE(fs::exists(BundlePartPath(split, count)));
    CHECK_FALSE(fs::exists(BundlePartPath(split, 8)));
    CHECK_FALSE(fs::exists(split));
  }
  CHECK(BundlePartPath("k.tar.zst", 0) == "k.tar.zst.000");
  CHECK(BundlePartPath("k.tar.zst", 12) == "k.tar.zst.012");
}

TEST_CASE("a streamed entry whose bytes do not match its digest leaves no file behind") {
  TempDir dir;
  std::string path = dir.path + "/bad.tar";
  std::string lying = kLayer;
  lying[lying.size() / 2] ^= 0x01;
  for (uint64_t split : {uint64_t{0}, uint64_t{50000}}) {
    Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(path, {.split_size = split});
    REQUIRE(w.ok());
    REQUIRE((*w)->AddFile("oci-layout", "{}").ok());
    Status s = (*w)->AddStream("blobs/sha256/x", static_cast<int64_t>(lying.size()), Sha256Digest(kLayer),
                               Chunks(lying));
    CHECK(s.code() == StatusCode::kDataLoss);
    CHECK_THAT(s.message(), Catch::Contains(Sha256Digest(lying)) && Catch::Contains(Sha256Digest(kLayer)));
    CHECK((*w)->AddFile("later", "x").code() == StatusCode::kDataLoss);  // the writer stays failed
    CHECK_FALSE((*w)->Finish().ok());
    CHECK(dir.Names().empty());
  }
}

TEST_CASE("too few or too many bytes, or a producer error, fail the archive") {
  TempDir dir;
  std::string path = dir.path + "/bad.tar";
  std::string bytes = RandomBytes(5000, 3);
  std::string digest = Sha256Digest(bytes);
  auto attempt = [&](int64_t size, const StreamProducer& produce) {
    Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(path, {});
    REQUIRE(w.ok());
    std::vector<std::string> writing = dir.Names();  // a temporary file beside, not the archive yet
    CHECK(writing.size() == 1);
    CHECK(std::find(writing.begin(), writing.end(), "bad.tar") == writing.end());
    Status s = (*w)->AddStream("blob", size, digest, produce);
    CHECK(dir.Names().empty());
    return s;
  };
  CHECK(attempt(6000, Chunks(bytes)).code() == StatusCode::kDataLoss);
  CHECK(attempt(4000, Chunks(bytes)).code() == StatusCode::kDataLoss);
  Status cut = attempt(5000, [&](const ChunkSink& sink) {
    FERRY_RETURN_IF_ERROR(sink(std::string_view(bytes).substr(0, 100)));
    return Unavailable("connection reset");
  });
  CHECK(cut.code() == StatusCode::kUnavailable);
}

TEST_CASE("a writer dropped before Finish removes its temporary file") {
  TempDir dir;
  {
    Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(dir.path + "/x.tar.zst", {.zstd = true});
    REQUIRE(w.ok());
    REQUIRE((*w)->AddFile("oci-layout", "{}").ok());
  }
  CHECK(dir.Names().empty());
}

TEST_CASE("an archive's missing directory is made, like rewrite's output directory") {
  TempDir dir;
  Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(dir.path + "/new/sub/x.tar", {});
  REQUIRE(w.ok());
  REQUIRE((*w)->AddFile("oci-layout", "{}").ok());
  REQUIRE((*w)->Finish().ok());
  CHECK(std::filesystem::is_regular_file(dir.path + "/new/sub/x.tar"));
}

TEST_CASE("an archive whose directory cannot be made fails at once, naming the path") {
  TempDir dir;
  std::ofstream(dir.path + "/a-file") << "not a directory";
  Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(dir.path + "/a-file/x.tar", {});
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().code() == StatusCode::kIo);
  CHECK_THAT(w.status().message(), Catch::Contains(dir.path + "/a-file/x.tar"));
}

TEST_CASE("entry names are relative, unique and without '..'") {
  TempDir dir;
  for (const char* name : {"/etc/passwd", "a/../../b", ""}) {
    Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(dir.path + "/x.tar", {});
    REQUIRE(w.ok());
    CHECK_FALSE((*w)->AddFile(name, "x").ok());
  }
  Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(dir.path + "/x.tar", {});
  REQUIRE((*w)->AddFile("a", "x").ok());
  CHECK_FALSE((*w)->AddFile("a", "y").ok());
  CHECK(dir.Names().empty());
}

TEST_CASE("split sizes are decimal with K M G T, binary with KiB MiB GiB TiB") {
  CHECK(*ParseByteSize("4G") == 4000000000ULL);
  CHECK(*ParseByteSize("4GB") == 4000000000ULL);
  CHECK(*ParseByteSize("4GiB") == 4ULL << 30);
  CHECK(*ParseByteSize("650m") == 650000000ULL);
  CHECK(*ParseByteSize("100k") == 100000ULL);
  CHECK(*ParseByteSize("1T") == 1000000000000ULL);
  CHECK(*ParseByteSize("1048576") == 1048576ULL);
  for (const char* bad : {"", "G", "0", "4X", "4GiBs", "-1", "1.5G", "99999999999999999"})
    CHECK_FALSE(ParseByteSize(bad).ok());
}

TEST_CASE("a split size too large for 64 bits is refused, not wrapped around") {
  CHECK(*ParseByteSize("8388607TiB") == 8388607ULL << 40);  // the largest TiB count below 2^63
  for (const char* bad : {"999999999999999T", "8388608TiB", "18446744073709T", "999999999999999TiB"}) {
    INFO(bad);
    Result<uint64_t> size = ParseByteSize(bad);
    REQUIRE_FALSE(size.ok());
    CHECK_THAT(size.status().message(), Catch::Contains(bad) && Catch::Contains("64 bits"));
  }
}

TEST_CASE("a streamed entry can be a program: mode 0755, so it runs once tar extracts it") {
  TempDir dir;
  std::string path = dir.path + "/x.tar";
  Result<std::unique_ptr<BundleWriter>> w = BundleWriter::Create(path, {});
  REQUIRE(w.ok());
  REQUIRE((*w)->AddStream("ferry/ferry", static_cast<int64_t>(kLayer.size()), Sha256Digest(kLayer), Chunks(kLayer),
                          0755)
              .ok());
  REQUIRE((*w)->AddFile("ferry/bundle.json", "{}").ok());
  REQUIRE((*w)->Finish().ok());
  std::vector<Entry> entries = ReadBack(Slurp(path));
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].mode == (AE_IFREG | 0755));
  CHECK(entries[0].content == kLayer);
  CHECK(entries[1].mode == (AE_IFREG | 0644));
}
