// ferry's own package in a bundle: bundle.json's ferryPackage (round trip, what a reader refuses, an
// old bundle without it), reading a .deb's control file, choosing what --include-ferry carries, and
// the tar command the far side is told.
#include "mirror/bundle_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "mirror/bundle_format.h"
#include "tests/mirror/test_images.h"

using namespace ferry;
namespace fs = std::filesystem;

namespace {

using test::TempDir;

void WriteFile(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

// Archive `members` ({name, bytes}) with libarchive's writer in `format`, compressed by `filter`.
std::string Archive(const std::vector<std::pair<std::string, std::string>>& members, int (*format)(archive*),
                    int filter) {
  archive* a = archive_write_new();
  REQUIRE(format(a) == ARCHIVE_OK);
  if (filter != ARCHIVE_FILTER_NONE) archive_write_add_filter(a, filter);
  std::string out(1 << 20, '\0');
  size_t used = 0;
  REQUIRE(archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK);
  for (const auto& [name, bytes] : members) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, static_cast<int64_t>(bytes.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    int r = archive_write_header(a, e);
    INFO(name << ": " << (archive_error_string(a) ? archive_error_string(a) : ""));
    REQUIRE(r == ARCHIVE_OK);
    REQUIRE(archive_write_data(a, bytes.data(), bytes.size()) == la_ssize_t(bytes.size()));
    archive_entry_free(e);
  }
  REQUIRE(archive_write_close(a) == ARCHIVE_OK);
  archive_write_free(a);
  out.resize(used);
  return out;
}

// A Debian package as dpkg-deb and CPack lay it out: debian-binary, control.tar.gz, data.tar.gz.
std::string Deb(const std::string& control, const std::string& first = "debian-binary") {
  std::string control_tar = Archive({{"./control", control}}, archive_write_set_format_ustar, ARCHIVE_FILTER_GZIP);
  std::string data_tar = Archive({{"./usr/bin/ferry", "#!/bin/sh\n"}}, archive_write_set_format_ustar, ARCHIVE_FILTER_GZIP);
  return Archive({{first, "2.0\n"}, {"control.tar.gz", control_tar}, {"data.tar.gz", data_tar}},
                 archive_write_set_format_ar_svr4, ARCHIVE_FILTER_NONE);
}

std::string Control(const std::string& package, const std::string& version, const std::string& arch) {
  return "Package: " + package + "\nVersion: " + version + "\nArchitecture: " + arch +
         "\nMaintainer: ferry maintainers <ferry@localhost>\nDescription: carries Knative\n over the gap\n";
}

std::string SelfPath() { return fs::read_symlink("/proc/self/exe").string(); }

const std::string kSum(64, 'a');

}  // namespace

TEST_CASE("bundle.json keeps ferry's package: kind, path, version, arch, sha256, size, libraries") {
  BundleManifest m;
  m.ferry_version = "0.1.0";
  m.ferry_package = BundlePackage{"binary", "ferry/ferry", "0.1.0", "amd64", kSum, 1234, {"libcurl.so.4", "libc.so.6"}};
  std::string text = m.Serialize();
  CHECK(text.find("\"ferryPackage\"") != std::string::npos);
  CHECK(text.find("\"formatVersion\": 1") != std::string::npos);  // older ferry reads it and skips the key
  Result<BundleManifest> back = BundleManifest::Parse(text, "b.tar");
  REQUIRE(back.ok());
  REQUIRE(back->ferry_package.has_value());
  const BundlePackage& p = *back->ferry_package;
  CHECK(p.kind == "binary");
  CHECK(p.path == "ferry/ferry");
  CHECK(p.version == "0.1.0");
  CHECK(p.arch == "amd64");
  CHECK(p.sha256 == kSum);
  CHECK(p.size == 1234);
  CHECK(p.libraries == std::vector<std::string>{"libcurl.so.4", "libc.so.6"});
}

TEST_CASE("a bundle.json without ferryPackage (an older bundle) reads as before") {
  BundleManifest m;
  std::string text = m.Serialize();
  CHECK(text.find("ferryPackage") == std::string::npos);
  Result<BundleManifest> back = BundleManifest::Parse(text, "b.tar");
  REQUIRE(back.ok());
  CHECK(!back->ferry_package.has_value());
}

TEST_CASE("a ferryPackage of a kind this ferry does not know is kept, so a newer bundle still loads") {
  Result<BundleManifest> m = BundleManifest::Parse(
      R"({"formatVersion":1,"images":[],"ferryPackage":{"kind":"rpm","path":"ferry/ferry-0.2.0.rpm","sha256":")" +
          kSum + "\"}}",
      "b.tar");
  REQUIRE(m.ok());
  CHECK(m->ferry_package->kind == "rpm");
}

TEST_CASE("a ferryPackage outside ferry/NAME, over the bundle's own files or without a sum is refused") {
  auto parse = [](const std::string& path, const std::string& sha256) {
    return BundleManifest::Parse(R"({"formatVersion":1,"images":[],"ferryPackage":{"kind":"deb","path":")" + path +
                                     R"(","sha256":")" + sha256 + "\"}}",
                                 "b.tar");
  };
  CHECK(parse("ferry/ferry_0.1.0_amd64.deb", kSum).ok());
  for (std::string path : {"ferry_0.1.0_amd64.deb", "ferry/../../etc/passwd", "ferry/bundle.json",
                                  "ferry/manifests/serving.yaml", "ferry/", "/ferry/ferry", "blobs/sha256/x"}) {
    Result<BundleManifest> m = parse(path, kSum);
    REQUIRE(!m.ok());
    CHECK(m.status().message().find("b.tar: ferry/bundle.json: ferryPackage: path") != std::string::npos);
  }
  Result<BundleManifest> bad = parse("ferry/ferry", "abc");
  REQUIRE(!bad.ok());
  CHECK(bad.status().message().find("sha256 is not 64 hex digits") != std::string::npos);
}

TEST_CASE("a .deb's control file gives its package, version and architecture") {
  TempDir dir;
  std::string deb = dir.path + "/x.deb";
  WriteFile(deb, Deb(Control("ferry", "0.1.0", "arm64")));
  Result<DebControl> c = ReadDebControl(deb);
  REQUIRE(c.ok());
  CHECK(c->package == "ferry");
  CHECK(c->version == "0.1.0");
  CHECK(c->architecture == "arm64");
}

TEST_CASE("a file that is not a Debian package is refused, naming it") {
  TempDir dir;
  std::string text = dir.path + "/notes.txt", ar = dir.path + "/lib.a", empty = dir.path + "/empty.deb";
  WriteFile(text, "hello\n");
  WriteFile(ar, Deb(Control("ferry", "0.1.0", "amd64"), "member.o"));
  WriteFile(empty, "");
  for (const std::string& path : {text, ar, empty}) {
    Result<DebControl> c = ReadDebControl(path);
    REQUIRE(!c.ok());
    CHECK(c.status().message().find(path + " is not a Debian package") != std::string::npos);
  }
  Result<DebControl> missing = ReadDebControl(dir.path + "/none.deb");
  REQUIRE(!missing.ok());
  CHECK(missing.status().message() == "cannot read " + dir.path + "/none.deb: No such file or directory");
}

TEST_CASE("ferry's own binary names the shared libraries it needs") {
  Result<std::vector<std::string>> needed = NeededLibraries(SelfPath());
  REQUIRE(needed.ok());
  CHECK(std::find(needed->begin(), needed->end(), "libarchive.so.13") != needed->end());
  CHECK(std::find(needed->begin(), needed->end(), "libc.so.6") != needed->end());
  TempDir dir;
  WriteFile(dir.path + "/script", "#!/bin/sh\n");
  CHECK(!NeededLibraries(dir.path + "/script").ok());
}

TEST_CASE("include-ferry finds make deb's package one directory above the binary") {
  TempDir dir;  // build/ferry_V_ARCH.deb beside build/cli/ferry
  std::string self = dir.path + "/cli/ferry";
  WriteFile(self, "binary");
  std::string deb = dir.path + "/" + FerryDebName("0.1.0", DebianArchitecture());
  WriteFile(deb, Deb(Control("ferry", "0.1.0", DebianArchitecture())));
  Result<FerryPackageChoice> c = ChooseFerryPackage("", self, "0.1.0");
  REQUIRE(c.ok());
  CHECK(c->file == deb);
  CHECK(c->notes.empty());
  CHECK(c->record.kind == "deb");
  CHECK(c->record.path == "ferry/ferry_0.1.0_" + DebianArchitecture() + ".deb");
  CHECK(c->record.version == "0.1.0");

  SECTION("and beside it first") {
    std::string beside = dir.path + "/cli/" + FerryDebName("0.1.0", DebianArchitecture());
    WriteFile(beside, Deb(Control("ferry", "0.1.0", DebianArchitecture())));
    CHECK(ChooseFerryPackage("", self, "0.1.0")->file == beside);
  }
  SECTION("one older than the binary is still taken, with a note to rebuild it") {
    fs::last_write_time(deb, fs::last_write_time(self) - std::chrono::hours(1));
    Result<FerryPackageChoice> stale = ChooseFerryPackage("", self, "0.1.0");
    REQUIRE(stale.ok());
    CHECK(stale->file == deb);
    REQUIRE(stale->notes.size() == 1);
    CHECK(stale->notes[0] == deb + " is older than the running " + self + "; if ferry changed since, run `make deb` again");
  }
  SECTION("a package of another version is not looked for") {
    Result<FerryPackageChoice> other = ChooseFerryPackage("", self, "0.2.0");
    REQUIRE(other.ok());
    CHECK(other->record.kind == "binary");
  }
}

TEST_CASE("without a package, --include-ferry carries the running binary and says what it needs") {
  TempDir dir;
  std::string self = dir.path + "/ferry";
  fs::copy_file(SelfPath(), self);
  Result<FerryPackageChoice> c = ChooseFerryPackage("", self, "0.1.0");
  REQUIRE(c.ok());
  CHECK(c->file == self);
  CHECK(c->record.kind == "binary");
  CHECK(c->record.path == "ferry/ferry");
  CHECK(c->record.arch == DebianArchitecture());
  CHECK(!c->record.libraries.empty());
  REQUIRE(c->notes.size() == 1);
  CHECK(c->notes[0].find("no ferry_0.1.0_" + DebianArchitecture() + ".deb beside " + self) != std::string::npos);
  CHECK(c->notes[0].find("libarchive.so.13") != std::string::npos);
}

TEST_CASE("include-ferry=FILE must be ferry's package of the same version, under any name") {
  TempDir dir;
  std::string self = dir.path + "/ferry";
  WriteFile(self, "binary");
  std::string mine = dir.path + "/renamed.deb";
  WriteFile(mine, Deb(Control("ferry", "1:0.1.0-3", "arm64")));
  Result<FerryPackageChoice> c = ChooseFerryPackage(mine, self, "0.1.0");
  REQUIRE(c.ok());
  CHECK(c->file == mine);
  CHECK(c->record.path == "ferry/ferry_0.1.0_arm64.deb");  // a stable path, whatever the file is called
  CHECK(c->record.arch == "arm64");

  std::string older = dir.path + "/older.deb", other = dir.path + "/curl.deb";
  WriteFile(older, Deb(Control("ferry", "0.0.9", "amd64")));
  WriteFile(other, Deb(Control("curl", "0.1.0", "amd64")));
  Result<FerryPackageChoice> wrong_version = ChooseFerryPackage(older, self, "0.1.0");
  REQUIRE(!wrong_version.ok());
  CHECK(wrong_version.status().message().find(older + " is ferry 0.0.9, but this is ferry 0.1.0") != std::string::npos);
  Result<FerryPackageChoice> wrong_package = ChooseFerryPackage(other, self, "0.1.0");
  REQUIRE(!wrong_package.ok());
  CHECK(wrong_package.status().message() == other + " is the Debian package \"curl\", not ferry");
}

TEST_CASE("the far side is told the tar command for one archive, split parts or a directory") {
  BundlePackage deb{"deb", "ferry/ferry_0.1.0_amd64.deb", "0.1.0", "amd64", kSum, 10, {}};
  BundlePackage bin{"binary", "ferry/ferry", "0.1.0", "amd64", kSum, 10, {}};
  CHECK(PackageInstallCommand(deb, "knative.tar.zst", {"knative.tar.zst"}, false) ==
        "tar --zstd -xf knative.tar.zst ferry/ferry_0.1.0_amd64.deb && apt install ./ferry/ferry_0.1.0_amd64.deb");
  CHECK(PackageInstallCommand(bin, "/mnt/usb/k.tar", {"/mnt/usb/k.tar"}, false) ==
        "tar -xf /mnt/usb/k.tar ferry/ferry && install -m 0755 ferry/ferry /usr/local/bin/ferry");
  CHECK(PackageInstallCommand(deb, "k.tar.zst", {"k.tar.zst.000", "k.tar.zst.001"}, false) ==
        "cat k.tar.zst.[0-9][0-9][0-9] | tar --zstd -xf - ferry/ferry_0.1.0_amd64.deb && "
        "apt install ./ferry/ferry_0.1.0_amd64.deb");
  CHECK(PackageInstallCommand(deb, "k.tar.gz", {"k.tar.gz"}, false).starts_with("tar -z -xf k.tar.gz "));
  CHECK(PackageInstallCommand(deb, "layout", {}, true) == "apt install ./layout/ferry/ferry_0.1.0_amd64.deb");
  CHECK(PackageInstallCommand(deb, "/srv/my bundle.tar", {"/srv/my bundle.tar"}, false) ==
        "tar -xf '/srv/my bundle.tar' ferry/ferry_0.1.0_amd64.deb && apt install ./ferry/ferry_0.1.0_amd64.deb");
}
