#include "mirror/bundle_package.h"

#include <archive.h>
#include <archive_entry.h>
#include <elf.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

namespace ferry {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxControlTar = 16 << 20;

using ArchivePtr = std::unique_ptr<struct archive, decltype(&archive_read_free)>;

std::string ArchiveError(struct archive* a) {
  const char* e = archive_error_string(a);
  return e != nullptr ? e : "unreadable";
}

Result<std::string> ReadEntry(struct archive* a, size_t limit, const std::string& what) {
  std::string out;
  char buffer[64 << 10];
  for (;;) {
    la_ssize_t n = archive_read_data(a, buffer, sizeof buffer);
    if (n < 0) return IoError(what + ": " + ArchiveError(a));
    if (n == 0) return out;
    out.append(buffer, static_cast<size_t>(n));
    if (out.size() > limit) return InvalidArgument(what + " is over " + std::to_string(limit >> 20) + " MiB");
  }
}

// The first-level fields of a deb822 paragraph ("Key: value"; continuation lines start with blanks).
std::string ControlField(const std::string& text, const std::string& key) {
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    std::string line = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end == std::string::npos ? text.size() : end + 1;
    if (line.size() > key.size() && line.compare(0, key.size(), key) == 0 && line[key.size()] == ':') {
      size_t first = line.find_first_not_of(" \t", key.size() + 1);
      size_t last = line.find_last_not_of(" \t\r");
      return first == std::string::npos ? "" : line.substr(first, last - first + 1);
    }
  }
  return "";
}

// "1:0.1.0-2" -> "0.1.0": the version without epoch and Debian revision.
std::string UpstreamVersion(std::string version) {
  if (size_t colon = version.find(':'); colon != std::string::npos) version = version.substr(colon + 1);
  if (size_t dash = version.rfind('-'); dash != std::string::npos) version = version.substr(0, dash);
  return version;
}

Result<DebControl> ParseControlTar(const std::string& bytes, const std::string& where) {
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK)
    return InvalidArgument(where + ": " + ArchiveError(a.get()));
  archive_entry* entry = nullptr;
  for (int r; (r = archive_read_next_header(a.get(), &entry)) != ARCHIVE_EOF;) {
    if (r != ARCHIVE_OK) return InvalidArgument(where + ": " + ArchiveError(a.get()));
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    if (name != "./control" && name != "control") continue;
    Result<std::string> text = ReadEntry(a.get(), 1 << 20, where + ": control");
    if (!text.ok()) return text.status();
    return DebControl{ControlField(*text, "Package"), ControlField(*text, "Version"),
                      ControlField(*text, "Architecture")};
  }
  return InvalidArgument(where + " holds no control file");
}

// DT_NEEDED of a 64- or 32-bit ELF file in this machine's byte order (ferry's own binary).
template <typename Ehdr, typename Shdr, typename Dyn>
Result<std::vector<std::string>> ReadNeeded(std::ifstream& in, const std::string& path) {
  auto read = [&](uint64_t offset, void* out, size_t size) {
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
    in.read(static_cast<char*>(out), static_cast<std::streamsize>(size));
    return static_cast<size_t>(in.gcount()) == size;
  };
  const Status bad = InvalidArgument(path + ": not a complete ELF program");
  Ehdr header;
  if (!read(0, &header, sizeof header) || header.e_shentsize != sizeof(Shdr) || header.e_shnum == 0) return bad;
  std::vector<Shdr> sections(header.e_shnum);
  if (!read(header.e_shoff, sections.data(), sizeof(Shdr) * sections.size())) return bad;
  std::vector<std::string> needed;
  for (const Shdr& s : sections) {
    if (s.sh_type != SHT_DYNAMIC || s.sh_link >= sections.size()) continue;
    const Shdr& strtab = sections[s.sh_link];
    std::string strings(strtab.sh_size, '\0');
    std::vector<Dyn> entries(s.sh_size / sizeof(Dyn));
    if (!read(strtab.sh_offset, strings.data(), strings.size()) ||
        !read(s.sh_offset, entries.data(), sizeof(Dyn) * entries.size()))
      return bad;
    for (const Dyn& d : entries) {
      if (d.d_tag == DT_NULL) break;
      if (d.d_tag == DT_NEEDED && d.d_un.d_val < strings.size()) needed.push_back(strings.c_str() + d.d_un.d_val);
    }
  }
  return needed;
}

bool IsRegularFile(const fs::path& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);
}

std::string ShellQuote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/+-=:,@%") ==
                           std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string TarFilter(const std::string& name) {
  if (name.ends_with(".zst") || name.ends_with(".zstd")) return "--zstd ";
  if (name.ends_with(".gz") || name.ends_with(".tgz")) return "-z ";
  return "";
}

// A path apt reads as a file, not a package name: it must hold a '/'.
std::string LocalPath(const std::string& path) {
  return path.starts_with("/") || path.starts_with("./") || path.starts_with("../") ? path : "./" + path;
}

}  // namespace

Result<DebControl> ReadDebControl(const std::string& path) {
  const std::string not_deb = path + " is not a Debian package";
  std::ifstream probe(path, std::ios::binary);
  if (!probe) return IoError("cannot read " + path + ": " + std::strerror(errno));
  if (!IsRegularFile(path)) return InvalidArgument(path + " is not a regular file");
  char magic[8] = {};
  probe.read(magic, sizeof magic);
  if (probe.gcount() != 8 || std::memcmp(magic, "!<arch>\n", 8) != 0) return InvalidArgument(not_deb + " (not an ar archive)");
  ArchivePtr a(archive_read_new(), archive_read_free);
  archive_read_support_format_ar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 64 << 10) != ARCHIVE_OK)
    return IoError("cannot read " + path + ": " + ArchiveError(a.get()));
  archive_entry* entry = nullptr;
  bool first = true;
  for (int r; (r = archive_read_next_header(a.get(), &entry)) != ARCHIVE_EOF; first = false) {
    if (r != ARCHIVE_OK) return InvalidArgument(not_deb + ": " + ArchiveError(a.get()));
    std::string name = archive_entry_pathname(entry) ? archive_entry_pathname(entry) : "";
    if (first && name != "debian-binary") return InvalidArgument(not_deb + " (its first member is not debian-binary)");
    if (!name.starts_with("control.tar")) continue;
    Result<std::string> bytes = ReadEntry(a.get(), kMaxControlTar, path + ": " + name);
    if (!bytes.ok()) return bytes.status();
    Result<DebControl> control = ParseControlTar(*bytes, path + ": " + name);
    if (control.ok() && (control->package.empty() || control->version.empty()))
      return InvalidArgument(path + ": its control file has no Package or Version");
    return control;
  }
  return InvalidArgument(not_deb + " (no control.tar member)");
}

Result<std::vector<std::string>> NeededLibraries(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read " + path + ": " + std::strerror(errno));
  unsigned char ident[EI_NIDENT] = {};
  in.read(reinterpret_cast<char*>(ident), sizeof ident);
  if (in.gcount() != EI_NIDENT || std::memcmp(ident, ELFMAG, SELFMAG) != 0)
    return InvalidArgument(path + " is not an ELF program");
  if (ident[EI_CLASS] == ELFCLASS64) return ReadNeeded<Elf64_Ehdr, Elf64_Shdr, Elf64_Dyn>(in, path);
  if (ident[EI_CLASS] == ELFCLASS32) return ReadNeeded<Elf32_Ehdr, Elf32_Shdr, Elf32_Dyn>(in, path);
  return InvalidArgument(path + ": unknown ELF class");
}

std::string DebianArchitecture() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "i386";
#elif defined(__arm__)
  return "armhf";
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return "ppc64el";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#elif defined(__mips__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && defined(__LP64__)
  return "mips64el";
#else
  return "unknown";
#endif
}

std::string FerryDebName(const std::string& version, const std::string& arch) {
  return "ferry_" + version + "_" + arch + ".deb";
}

Result<FerryPackageChoice> ChooseFerryPackage(const std::string& file, const std::string& self,
                                              const std::string& version) {
  FerryPackageChoice choice;
  std::string deb = file;
  if (deb.empty()) {
    std::string name = FerryDebName(version, DebianArchitecture());
    fs::path dir = fs::path(self).parent_path();
    for (const fs::path& candidate : {dir / name, dir.parent_path() / name})
      if (deb.empty() && IsRegularFile(candidate)) deb = candidate.string();
    if (deb.empty()) {
      choice.file = self;
      choice.record = {bundle::kPackageBinary, kFerryBinaryEntry, version, DebianArchitecture(), "", 0, {}};
      Result<std::vector<std::string>> libraries = NeededLibraries(self);
      std::string needs;
      if (libraries.ok()) {
        choice.record.libraries = *libraries;
        for (const std::string& l : *libraries) needs += (needs.empty() ? "" : ", ") + l;
      }
      choice.notes.push_back("no " + name + " beside " + self + " (`make deb` builds it, or name one with " +
                             "--include-ferry=FILE): carrying the bare binary as " + kFerryBinaryEntry + "; " +
                             (libraries.ok() ? "the other side needs its shared libraries: " + needs
                                             : "its shared libraries could not be listed: " +
                                                   libraries.status().message()));
      return choice;
    }
  }
  Result<DebControl> control = ReadDebControl(deb);
  if (!control.ok()) return control.status();
  if (control->package != "ferry")
    return InvalidArgument(deb + " is the Debian package \"" + control->package + "\", not ferry");
  if (UpstreamVersion(control->version) != version)
    return InvalidArgument(deb + " is ferry " + control->version + ", but this is ferry " + version +
                           ": carry the package of the same version (`make deb` in this ferry's source)");
  if (control->architecture.empty()) return InvalidArgument(deb + ": its control file has no Architecture");
  choice.file = deb;
  choice.record = {bundle::kPackageDeb, bundle::kFerryDir + FerryDebName(UpstreamVersion(control->version),
                                                                          control->architecture),
                   UpstreamVersion(control->version), control->architecture, "", 0, {}};
  std::error_code ec1, ec2;
  fs::file_time_type built = fs::last_write_time(deb, ec1), running = fs::last_write_time(self, ec2);
  if (file.empty() && !ec1 && !ec2 && built < running)
    choice.notes.push_back(deb + " is older than the running " + self +
                           "; if ferry changed since, run `make deb` again");
  return choice;
}

std::string PackageInstallCommand(const BundlePackage& package, const std::string& where,
                                  const std::vector<std::string>& parts, bool directory) {
  std::string at = package.path;
  std::string out;
  if (directory) {
    at = (fs::path(where) / package.path).string();
  } else if (parts.size() == 1 && parts.front() == where) {
    out = "tar " + TarFilter(where) + "-xf " + ShellQuote(where) + " " + package.path + " && ";
  } else {
    out = "cat " + ShellQuote(where) + ".[0-9][0-9][0-9] | tar " + TarFilter(where) + "-xf - " + package.path + " && ";
  }
  if (package.kind == bundle::kPackageDeb) return out + "apt install " + ShellQuote(LocalPath(at));
  if (package.kind == bundle::kPackageBinary) return out + "install -m 0755 " + ShellQuote(at) + " /usr/local/bin/ferry";
  return out.empty() ? ShellQuote(at) : out.substr(0, out.size() - 4);
}

}  // namespace ferry
