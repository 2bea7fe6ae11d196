// ferry manifests fetch|verify|list: a release profile's files onto disk, checked against their sha256.
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/mirror_progress.h"
#include "rewrite/manifest_fetch.h"
#include "rewrite/release_profile.h"

namespace ferry::cli {
namespace {

struct ManifestsFlags {
  std::string profile, dir, base_url, ca_cert;
  bool tls_verify = true;
  OutputFormat output = OutputFormat::kText;
};

nlohmann::ordered_json FileJson(const ManifestFile& f) {
  nlohmann::ordered_json j = {{"name", f.name},
                              {"url", f.url},
                              {"path", f.path},
                              {"sha256", f.sha256},
                              {"sha256Origin", Sha256OriginName(f.origin)},
                              {"size", f.size},
                              {"downloaded", f.downloaded}};
  if (!f.fetched_from.empty()) j["from"] = f.fetched_from;
  if (!f.status.ok()) j["error"] = f.status.message();
  return j;
}

nlohmann::ordered_json ReportJson(const ReleaseProfile& profile, const std::string& dir, const ManifestsReport& report) {
  nlohmann::ordered_json j = {{"profile", profile.name}, {"dir", dir}, {"files", nlohmann::ordered_json::array()}};
  for (const ManifestFile& f : report.files) j["files"].push_back(FileJson(f));
  j["lock"] = report.lock_path.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(report.lock_path);
  if (!report.ok()) j["error"] = report.status.message();
  return j;
}

// One line per file on stdout (failures go to stderr with the summary error).
void PrintFiles(const ManifestsReport& report, bool fetch) {
  int width = 0;
  for (const ManifestFile& f : report.files) width = std::max(width, static_cast<int>(f.name.size()));
  for (const ManifestFile& f : report.files) {
    if (!f.status.ok()) continue;
    const char* verb = !fetch ? "ok        " : f.downloaded ? "downloaded" : "present   ";
    std::string how = f.origin == Sha256Origin::kProfile ? "matches the profile"
                      : f.origin == Sha256Origin::kLock  ? "matches the sum recorded at first download"
                                                         : "not known in advance: recorded";
    std::printf("%s %-*s %9s  sha256:%s (%s)\n", verb, width, f.name.c_str(),
                HumanBytes(static_cast<int64_t>(f.size)).c_str(), f.sha256.c_str(), how.c_str());
  }
}

int RunFetch(const ManifestsFlags& flags) {
  Result<ReleaseProfile> profile = LoadReleaseProfile(flags.profile);
  if (!profile.ok()) return ReportError(profile.status().WithContext("--profile"));
  ManifestFetchOptions options{.base_url = flags.base_url};
  options.http.tls.verify = flags.tls_verify;
  if (!flags.ca_cert.empty()) {
    if (access(flags.ca_cert.c_str(), R_OK) != 0)
      return ReportError(InvalidArgument("--ca-cert " + flags.ca_cert + ": cannot read the file"));
    options.http.tls.ca_file = flags.ca_cert;
  }
  ManifestsReport report = FetchManifests(*profile, flags.dir, options);
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", ReportJson(*profile, flags.dir, report).dump().c_str());
  } else {
    PrintFiles(report, true);
  }
  size_t downloaded = 0, present = 0, recorded = 0, failed = 0;
  for (const ManifestFile& f : report.files) {
    if (!f.status.ok()) {
      ++failed;
      continue;
    }
    (f.downloaded ? downloaded : present)++;
    if (f.origin == Sha256Origin::kRecorded) ++recorded;
  }
  if (!report.ok()) {
    if (failed == 0 || report.status.code() == StatusCode::kDataLoss || report.status.code() == StatusCode::kIo)
      return ReportError(report.status);
    std::string instead = "fetch them where they can be reached and bring the directory (the other commands take "
                          "it as --manifests-dir DIR)";
    if (flags.base_url.empty()) instead = "--base-url URL (a web server inside that has them), or " + instead;
    return ReportError(Status(report.status.code(), report.status.message() + "\n  instead: " + instead));
  }
  if (flags.output == OutputFormat::kText) {
    std::printf("%zu files of %s in %s: %zu downloaded, %zu already present; sums recorded in %s", report.files.size(),
                profile->name.c_str(), flags.dir.c_str(), downloaded, present, report.lock_path.c_str());
    if (recorded > 0) std::printf(" (%zu not known in advance, recorded now)", recorded);
    std::printf("\n");
  }
  return kExitSuccess;
}

int RunVerify(const ManifestsFlags& flags) {
  Result<ReleaseProfile> profile = LoadReleaseProfile(flags.profile);
  if (!profile.ok()) return ReportError(profile.status().WithContext("--profile"));
  ManifestsReport report = VerifyManifestsDir(*profile, flags.dir);
  if (flags.output == OutputFormat::kJson)
    std::printf("%s\n", ReportJson(*profile, flags.dir, report).dump().c_str());
  else
    PrintFiles(report, false);
  if (!report.ok()) return ReportError(report.status);
  if (flags.output == OutputFormat::kText)
    std::printf("%zu files of %s in %s: all present and matching\n", report.files.size(), profile->name.c_str(),
                flags.dir.c_str());
  return kExitSuccess;
}

int RunList(const ManifestsFlags& flags) {
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  for (const std::string& name : BuiltinProfileNames()) {
    Result<ReleaseProfile> p = BuiltinReleaseProfile(name);
    if (!p.ok()) return ReportError(p.status());
    if (flags.output == OutputFormat::kJson) {
      all.push_back(nlohmann::ordered_json::parse(p->ToJson()));
      continue;
    }
    std::printf("%s\n  %s\n  networking: %s%s; samples: ", p->name.c_str(), p->description.c_str(),
                p->networking_layer.c_str(), p->networking_preinstalled ? " (must already run on the cluster)" : "");
    for (size_t i = 0; i < p->samples.size(); ++i) std::printf("%s%s", i ? ", " : "", p->samples[i].c_str());
    std::printf(" (%s)\n", p->service_api_version.c_str());
    for (const ProfileFile& f : p->files)
      std::printf("    %s\n      %s\n      sha256: %s\n", f.name.c_str(), f.url.c_str(),
                  f.sha256_known() ? f.sha256.c_str() : "(not known in advance: recorded at first download)");
  }
  if (flags.output == OutputFormat::kJson) std::printf("%s\n", nlohmann::ordered_json({{"profiles", all}}).dump().c_str());
  return kExitSuccess;
}

}  // namespace

Command AddManifestsCommand(CLI::App& root) {
  auto flags = std::make_shared<ManifestsFlags>();
  CLI::App* app = root.add_subcommand("manifests", "Fetch and check a release's manifest files (release profiles)");
  app->require_subcommand(1);
  app->footer(
      "A release profile names the upstream release files that make one install, in install order,\n"
      "each with its URL and sha256. Built-in profiles: see `ferry manifests list`; --profile also\n"
      "takes the path of your own profile file.\n\n"
      "Example:\n"
      "  ferry manifests fetch --profile knative-1.23-kourier -o ./knative-1.23");

  CLI::App* fetch = app->add_subcommand("fetch", "Download every file of a profile into a directory, checking its sha256");
  fetch->footer(
      "Each file streams into a temporary file in DIR and replaces DIR/NAME only when its sha256\n"
      "matches; files already in DIR with the right sum are kept. A file whose sha256 the profile\n"
      "does not know has the sum of its first download recorded in DIR/profile.lock.json (the\n"
      "profile with every sum filled in, itself usable as --profile) and checked from then on.\n"
      "Transient failures are retried; HTTPS_PROXY and NO_PROXY are honoured.\n\n"
      "Examples:\n"
      "  ferry manifests fetch --profile knative-1.23-kourier -o ./knative-1.23\n"
      "  ferry manifests fetch --profile knative-0.6-full -o ./knative-0.6 \\\n"
      "      --base-url https://files.example.internal/knative-0.6   # files as BASE/NAME");
  fetch->add_option("--profile", flags->profile, "Built-in profile name (ferry manifests list) or path of a profile file")
      ->required();
  fetch->add_option("-o,--output-dir,-d,--dir", flags->dir, "Directory to write the files into (created if needed)")->required();
  fetch->add_option("--base-url", flags->base_url,
                    "Fetch each file from BASE_URL/NAME instead of its upstream URL (a mirror of the files)");
  fetch->add_option("--ca-cert", flags->ca_cert, "PEM file of a CA to trust for the HTTPS servers");
  fetch->add_flag("--tls-verify{true}", flags->tls_verify, "Verify HTTPS certificates (default true; =false to skip)");
  AddOutputFlag(fetch, &flags->output);

  CLI::App* verify = app->add_subcommand("verify", "Check that a directory holds every file of a profile, sha256-exact");
  verify->footer(
      "What --manifests-dir DIR checks: every file present and matching its sha256 (from the profile,\n"
      "else from DIR/profile.lock.json). Every missing or differing file is listed.\n\n"
      "Example:\n"
      "  ferry manifests verify --profile knative-1.23-kourier --dir ./knative-1.23");
  verify->add_option("--profile", flags->profile, "Built-in profile name or path of a profile file")->required();
  verify->add_option("-d,--dir", flags->dir, "Directory holding the files")->required();
  AddOutputFlag(verify, &flags->output);

  CLI::App* list = app->add_subcommand("list", "Show the built-in release profiles and their files");
  list->footer("Example:\n  ferry manifests list --output json");
  AddOutputFlag(list, &flags->output);

  return {app, [flags, fetch, verify] {
            if (fetch->parsed()) return RunFetch(*flags);
            if (verify->parsed()) return RunVerify(*flags);
            return RunList(*flags);
          }};
}

}  // namespace ferry::cli
