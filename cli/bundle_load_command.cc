// ferry bundle load | inspect | verify: read an offline bundle (or another tool's OCI layout
// archive or directory) on the far side of the air gap.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>

#include "cli/bundle_package_output.h"
#include "cli/command.h"
#include "cli/mirror_progress.h"
#include "cli/naming_flags.h"
#include "cli/registry_flags.h"
#include "common/atomic_file.h"
#include "mirror/bundle_verify.h"
#include "mirror/copy_engine.h"
#include "mirror/image_lock.h"
#include "mirror/layout_source.h"
#include "mirror/registry_sink.h"

namespace ferry::cli {
namespace {

using nlohmann::json;

struct LoadFlags {
  std::string bundle, lock = "images.lock";
  NamingFlags naming;
  int jobs = 4;
  bool no_attachments = false;
  RegistryFlags dest{.prefix = "dest"};
  OutputFormat output = OutputFormat::kText;
};

struct ReadFlags {
  std::string bundle;
  OutputFormat output = OutputFormat::kText;
};

int RunLoad(const LoadFlags& flags) {
  Result<TargetNaming> naming = ParseNamingFlags(flags.naming);
  if (!naming.ok()) return ReportError(naming.status());
  Result<std::unique_ptr<LayoutSource>> source = LayoutSource::Open(flags.bundle);
  if (!source.ok()) return ReportError(source.status().WithContext("bundle load"));
  Result<std::vector<LayoutImage>> found = (*source)->Images();
  if (!found.ok()) return ReportError(found.status().WithContext("bundle load"));
  std::vector<ImageReference> names;
  for (const LayoutImage& image : *found) names.push_back(image.name);
  Result<std::vector<ImageReference>> targets = PlanTargets(names, naming->to, naming->options);
  if (!targets.ok()) return ReportError(targets.status());
  std::vector<CopyImage> images;
  for (size_t i = 0; i < found->size(); ++i)
    images.push_back({names[i].String(), (*found)[i].at, {(*targets)[i].Name(), (*targets)[i].tag, ""}});

  RegistryPool registries(CopyRegistryOptions(nullptr, &flags.dest));
  BlobLocations locations(BlobLocations::DefaultPath());
  ExplainSignal("images already complete at the target stay there, no tag names a partial image; run the same "
                "command again to load the rest");
  RegistrySink sink(registries, &locations);
  CopyReport report;
  {
    MirrorProgress progress(MirrorProgress::ModeFor(false), {.done = "loaded", .lines = stderr});
    report = RunCopy(**source, sink, images, {.jobs = std::max(1, flags.jobs), .attachments = !flags.no_attachments},
                     flags.output == OutputFormat::kJson ? nullptr : &progress);
  }
  (void)locations.Save();  // only a cache
  if (!report.stopped.ok()) return ReportError(report.stopped.WithContext("bundle load"));
  if (!flags.lock.empty())
    if (Status s = WriteFileAtomically(flags.lock, LockOf(report).Serialize()); !s.ok()) return ReportError(s);

  int loaded = 0, present = 0, failed = 0;
  json list = json::array();
  for (const ImageResult& i : report.images) {
    (i.status.ok() ? (i.already_present ? present : loaded) : failed)++;
    list.push_back({{"source", i.image.name}, {"target", i.image.to.String()}, {"digest", i.digest},
                    {"attachments", i.attachments.size()},
                    {"status", !i.status.ok() ? "failed" : i.already_present ? "present" : "loaded"}});
    if (!i.status.ok()) list.back()["error"] = i.status.message();
  }
  const CopyTotals& t = report.totals;
  // ferry itself, when the bundle carries it: where it is for machines that have no ferry yet.
  const std::optional<BundleManifest>& manifest = (*source)->index().bundle();
  const std::optional<BundlePackage> package = manifest ? manifest->ferry_package : std::nullopt;
  if (flags.output == OutputFormat::kJson) {
    json out = {{"bundle", (*source)->where()}, {"images", list}, {"passes", t.passes},
                {"blobs", {{"uploaded", t.blobs_copied}, {"mounted", t.blobs_mounted}, {"skipped", t.blobs_skipped}}},
                {"bytes", {{"uploaded", t.bytes_copied}, {"mounted", t.bytes_mounted}, {"skipped", t.bytes_skipped}}},
                {"attachments", t.attachments}};
    if (!flags.lock.empty()) out["lock"] = flags.lock;
    if (package) out["ferryPackage"] = PackageJson(*package, InstallCommandFor(*package, flags.bundle));
    std::printf("%s\n", out.dump().c_str());
  } else {
    for (const ImageResult& i : report.images)
      if (i.status.ok())
        std::printf("%s %s -> %s\n", i.already_present ? "present" : "loaded ", i.image.name.c_str(),
                    i.image.to.String().c_str());
    std::printf("%zu images: %d loaded, %d already present, %d failed; blobs: %d uploaded (%s), %d mounted, "
                "%d already there; %d pass%s over %s\n",
                report.images.size(), loaded, present, failed, t.blobs_copied, HumanBytes(t.bytes_copied).c_str(),
                t.blobs_mounted, t.blobs_skipped, t.passes, t.passes == 1 ? "" : "es", (*source)->where().c_str());
    if (t.attachments > 0)
      std::printf("with %d attachments (signatures, attestations, SBOMs, referrers)\n", t.attachments);
    if (!flags.lock.empty()) std::printf("lock file: %s\n", flags.lock.c_str());
    if (package) std::printf("%s\n", PackageLine(*package, InstallCommandFor(*package, flags.bundle)).c_str());
  }
  if (failed == 0) return kExitSuccess;
  for (const ImageResult& i : report.images)
    if (!i.status.ok()) std::fprintf(stderr, "ferry: error: %s: %s\n", i.image.name.c_str(), i.status.message().c_str());
  return kExitFailure;
}

json SummaryJson(const BundleSummary& s, const std::string& bundle_arg) {
  json images = json::array(), files = json::array();
  for (const BundleImage& i : s.images) {
    images.push_back({{"source", i.source}, {"digest", i.digest}, {"mediaType", i.media_type},
                      {"platforms", i.platforms}, {"size", i.size}, {"attachments", AttachmentsJson(i.attachments)}});
    if (!i.source_digest.empty()) images.back()["sourceDigest"] = i.source_digest;
  }
  for (const BundleFile& f : s.files)
    files.push_back({{"name", f.name}, {"path", f.path}, {"sha256", f.sha256}, {"size", f.size},
                     {"sample", f.path.starts_with(bundle::kSamplesDir)}});
  return {{"bundle", s.where}, {"ferryBundle", s.ferry_bundle}, {"formatVersion", s.format_version},
          {"ferryVersion", s.ferry_version}, {"profile", s.profile}, {"platformFilter", s.platform_filter},
          {"images", images}, {"files", files}, {"blobs", s.blobs}, {"bytes", s.bytes},
          {"ferryPackage", s.ferry_package ? PackageJson(*s.ferry_package, InstallCommandFor(*s.ferry_package, bundle_arg))
                                           : json()}};
}

void PrintSummary(const BundleSummary& s, const std::string& bundle_arg) {
  std::printf("bundle:  %s (%s)\n", s.where.c_str(),
              s.ferry_bundle ? ("ferry bundle, format " + std::to_string(s.format_version) +
                                (s.ferry_version.empty() ? "" : ", ferry " + s.ferry_version)).c_str()
                             : "OCI image layout");
  if (!s.profile.empty()) std::printf("profile: %s\n", s.profile.c_str());
  if (!s.platform_filter.empty()) {
    std::string kept;
    for (const std::string& p : s.platform_filter) kept += (kept.empty() ? "" : ",") + p;
    std::printf("platforms: only %s (multi-arch indexes rewritten: their digests differ from the source's)\n",
                kept.c_str());
  }
  std::printf("images:  %zu, %d blobs, %s\n", s.images.size(), s.blobs, HumanBytes(s.bytes).c_str());
  for (const BundleImage& i : s.images) {
    std::string platforms;
    for (const std::string& p : i.platforms) platforms += (platforms.empty() ? "" : ",") + p;
    std::string at = i.source.find('@') == std::string::npos || !i.source_digest.empty() ? "@" + i.digest : "";
    std::printf("  %s%s %s%s%s\n", i.source.c_str(), at.c_str(), HumanBytes(i.size).c_str(),
                platforms.empty() ? "" : ("  [" + platforms + "]").c_str(),
                i.source_digest.empty() ? "" : ("  (filtered from " + i.source_digest + ")").c_str());
    for (const AttachmentRecord& a : i.attachments)
      std::printf("    %-11s %s\n", a.kind.c_str(), (a.tag.empty() ? a.digest : a.tag + " " + a.digest).c_str());
  }
  size_t samples = 0;
  for (const BundleFile& f : s.files) samples += f.path.starts_with(bundle::kSamplesDir) ? 1 : 0;
  if (s.files.size() > samples) std::printf("files:   %zu\n", s.files.size() - samples);
  for (const BundleFile& f : s.files)
    if (!f.path.starts_with(bundle::kSamplesDir)) std::printf("  %s (%s)\n", f.path.c_str(), HumanBytes(f.size).c_str());
  if (samples > 0) std::printf("samples: %zu (the Services only: their images are not in the bundle)\n", samples);
  for (const BundleFile& f : s.files)
    if (f.path.starts_with(bundle::kSamplesDir)) std::printf("  %s (%s)\n", f.path.c_str(), HumanBytes(f.size).c_str());
  if (s.ferry_package)
    std::printf("%s\n", PackageLine(*s.ferry_package, InstallCommandFor(*s.ferry_package, bundle_arg)).c_str());
}

int RunInspect(const ReadFlags& flags) {
  Result<BundleSummary> summary = InspectBundle(flags.bundle);
  if (!summary.ok()) return ReportError(summary.status());
  if (flags.output == OutputFormat::kJson)
    std::printf("%s\n", SummaryJson(*summary, flags.bundle).dump().c_str());
  else
    PrintSummary(*summary, flags.bundle);
  return kExitSuccess;
}

int RunVerify(const ReadFlags& flags) {
  Result<BundleVerifyReport> report = VerifyBundle(flags.bundle);
  if (!report.ok()) return ReportError(report.status());
  const BundleVerifyReport& r = *report;
  if (flags.output == OutputFormat::kJson) {
    json problems = json::array();
    for (const BundleProblem& p : r.problems) problems.push_back({{"path", p.path}, {"problem", p.message}});
    json out = SummaryJson(r.summary, flags.bundle);
    out["ok"] = r.problems.empty();
    out["entries"] = r.entries;
    out["bytesRead"] = r.bytes_read;
    out["problems"] = problems;
    std::printf("%s\n", out.dump().c_str());
  } else {
    for (const BundleProblem& p : r.problems) std::printf("MISMATCH %s: %s\n", p.path.c_str(), p.message.c_str());
    std::printf("%s: %d entries, %s re-hashed, %zu images, %zu files%s: %s\n", r.summary.where.c_str(), r.entries,
                HumanBytes(r.bytes_read).c_str(), r.summary.images.size(), r.summary.files.size(),
                r.summary.ferry_package ? (", ferry's " + r.summary.ferry_package->kind).c_str() : "",
                r.problems.empty() ? "intact" : (std::to_string(r.problems.size()) + " problems").c_str());
  }
  return r.problems.empty() ? kExitSuccess : kExitFailure;
}

CLI::App* AddBundleArgument(CLI::App* app, std::string* bundle) {
  app->add_option("BUNDLE", *bundle, "The archive (NAME, NAME.000 for split parts) or an OCI layout directory")
      ->required();
  return app;
}

}  // namespace

Command AddBundleLoadCommand(CLI::App& root) {
  auto flags = std::make_shared<LoadFlags>();
  CLI::App* app = BundleParent(root)->add_subcommand("load", "Push a bundle's images into a registry you can reach");
  app->footer(
      "Blobs stream from the archive into the registry without extracting it, --jobs at once\n"
      "(at most 32 MiB buffered in all); blobs already there are skipped, each is checked against\n"
      "its digest before it is committed, and manifests are pushed only after the whole archive was\n"
      "read. Run it again after an interruption to finish. Signatures, attestations, SBOMs and\n"
      "referrers saved with the images are pushed into the same repositories, unless --no-attachments.\n"
      "Also reads OCI layout archives and directories made by other tools (skopeo's oci-archive:).\n"
      "When the bundle carries ferry itself (bundle save --include-ferry), the last line names it\n"
      "and the tar command that gets it out for machines that have no ferry yet.\n\n"
      "Example:\n"
      "  ferry bundle load knative.tar.zst --to registry.cn-hangzhou.aliyuncs.com/knative-mirror \\\n"
      "      --naming flatten --dest-creds \"$ACR_USER:$ACR_PASSWORD\" --lock images.lock");
  AddBundleArgument(app, &flags->bundle);
  AddNamingFlags(app, &flags->naming);
  app->add_option("-j,--jobs", flags->jobs, "Requests to the registry at once: blob checks, uploads, manifests (default 4)");
  app->add_option("--lock", flags->lock, "Where to write the lock file (default images.lock; '' for none)");
  app->add_flag("--no-attachments", flags->no_attachments,
                "Leave the signatures, attestations, SBOMs and referrers in the bundle behind");
  AddRegistryFlags(app, &flags->dest, "destination");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunLoad(*flags); }};
}

Command AddBundleInspectCommand(CLI::App& root) {
  auto flags = std::make_shared<ReadFlags>();
  CLI::App* app = BundleParent(root)->add_subcommand("inspect", "List a bundle's profile, images and release files");
  app->footer("Reads only the start of a ferry bundle. Each image's signatures, attestations, SBOMs and\n"
              "referrers are listed under it.\n\nExample:\n  ferry bundle inspect knative.tar.zst");
  AddBundleArgument(app, &flags->bundle);
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunInspect(*flags); }};
}

Command AddBundleVerifyCommand(CLI::App& root) {
  auto flags = std::make_shared<ReadFlags>();
  CLI::App* app = BundleParent(root)->add_subcommand("verify", "Re-hash every blob and file of a bundle");
  app->footer("Lists every mismatch with its path; exit code 1 when there is any.\n\nExample:\n"
              "  ferry bundle verify knative.tar.zst");
  AddBundleArgument(app, &flags->bundle);
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunVerify(*flags); }};
}

}  // namespace ferry::cli
