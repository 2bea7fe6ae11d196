#include "cli/manifest_flags.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <set>

#include "cli/command.h"
#include "rewrite/manifest_fetch.h"
#include "rewrite/manifest_rewriter.h"
#include "rewrite/release_profile.h"

namespace ferry::cli {
namespace {

std::string CacheDir(const std::string& profile) {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  std::string base = xdg && *xdg ? xdg : std::string(home ? home : "/tmp") + "/.cache";
  return base + "/ferry/manifests/" + profile;
}

// Standard input is read twice (find, then rewrite), so it is spooled to a file first.
Status SpoolStandardInput(ManifestInput* input) {
  static std::string spooled;  // one per process; removed at exit
  if (spooled.empty()) {
    FERRY_RETURN_IF_ERROR(ClaimStandardInput("-f -"));
    char name[] = "/tmp/ferry-stdin-XXXXXX";
    int fd = mkstemp(name);
    if (fd < 0) return IoError("cannot create a temporary file for standard input");
    char buffer[1 << 16];
    for (ssize_t n; (n = read(STDIN_FILENO, buffer, sizeof buffer)) > 0;)
      if (write(fd, buffer, static_cast<size_t>(n)) != n) {
        close(fd);
        unlink(name);
        return IoError("cannot spool standard input to " + std::string(name));
      }
    close(fd);
    spooled = name;
    std::atexit([] { unlink(spooled.c_str()); });
  }
  input->path = spooled;
  return Status::Ok();
}

}  // namespace

void AddManifestFlags(CLI::App* command, ManifestFlags* flags) {
  command->add_option("-f,--filename", flags->files, "Release file, directory of them, or - (repeatable)");
  command->add_option("--profile", flags->profile, "Release profile: a built-in name (ferry manifests list) or a file");
  command->add_option("--manifests-dir", flags->manifests_dir,
                      "Use the profile's files already in this directory (checked against their sha256)");
  command->add_option("--base-url", flags->base_url, "Download the profile's files from BASE_URL/NAME instead");
  command->add_flag("--include-optional", flags->include_optional,
                    "Also use references found only in commented examples");
}

// The line after a download that could not reach its servers (not after wrong bytes).
Status WithAlternatives(const Status& failed, const ReleaseProfile& profile, const std::string& also) {
  if (failed.code() == StatusCode::kDataLoss || failed.code() == StatusCode::kIo) return failed;
  return Status(failed.code(), failed.message() + "\n  instead: --manifests-dir DIR (ferry manifests fetch --profile " +
                                   profile.name + " -o DIR, run where they can be reached), --base-url URL (a web "
                                   "server inside that has them)" + also);
}

Result<ManifestSet> ResolveManifests(const ManifestFlags& flags, const std::string& also) {
  if (flags.profile.empty()) {
    if (flags.files.empty()) return InvalidArgument("name the release files with -f FILE|DIR|- or --profile NAME");
    Result<ManifestSet> set = CollectManifests(flags.files);
    if (!set.ok()) return set;
    for (const std::string& skipped : set->skipped)
      std::fprintf(stderr, "ferry: skipped %s (not a .yaml, .yml or .json file)\n", skipped.c_str());
    for (ManifestInput& file : set->files)
      if (file.path == "-") FERRY_RETURN_IF_ERROR(SpoolStandardInput(&file));
    return set;
  }
  if (!flags.files.empty()) return InvalidArgument("-f and --profile exclude each other");
  Result<ReleaseProfile> profile = LoadReleaseProfile(flags.profile);
  if (!profile.ok()) return profile.status();
  std::string dir = flags.manifests_dir;
  ManifestsReport report;
  if (dir.empty()) {
    dir = CacheDir(profile->name);
    report = FetchManifests(*profile, dir, {.base_url = flags.base_url});
    if (!report.ok()) return WithAlternatives(report.status, *profile, also);
  } else {
    report = VerifyManifestsDir(*profile, dir);
  }
  if (!report.ok()) return report.status;
  ManifestSet set;
  for (const auto& file : report.files) set.files.push_back({file.path, file.path, file.name});
  return set;
}

Status ForEachImage(const ManifestSet& set, bool include_optional,
                    const std::function<void(const ImageOccurrence&)>& each) {
  for (const ManifestInput& file : set.files) {
    FERRY_RETURN_IF_ERROR(ScanManifest(file, [&](const ImageOccurrence& o) {
      if (include_optional || o.confidence != Confidence::kOptional) each(o);
    }));
  }
  return Status::Ok();
}

void WarnTemplated(const ImageOccurrence& o, const char* what) {
  std::fprintf(stderr, "ferry: warning: %s:%d:%d: templated reference, %s: %s\n", o.file.c_str(), o.line, o.column,
               what, o.text.c_str());
}

Result<std::vector<ImageReference>> DistinctImages(const ManifestSet& set, bool include_optional,
                                                   const std::function<bool(const ImageOccurrence&)>& keep) {
  std::vector<ImageReference> refs;
  std::set<std::string> seen;
  Status s = ForEachImage(set, include_optional, [&](const ImageOccurrence& o) {
    if (o.templated) return WarnTemplated(o, "left out");  // no reference to plan with: never guess
    if (keep(o) && seen.insert(o.ref.String()).second) refs.push_back(o.ref);
  });
  if (!s.ok()) return s;
  return refs;
}

}  // namespace ferry::cli
