// ferry mirror: every image of a release to a registry the cluster can reach.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/manifest_flags.h"
#include "cli/naming_flags.h"
#include "cli/mirror_progress.h"
#include "cli/registry_flags.h"
#include "common/atomic_file.h"
#include "common/name_groups.h"
#include "mirror/image_list.h"
#include "mirror/image_lock.h"
#include "mirror/registry_failure.h"
#include "mirror/registry_sink.h"
#include "mirror/registry_source.h"
#include "mirror/source_mirror.h"
#include "mirror/target_naming.h"

namespace ferry::cli {
namespace {

struct MirrorFlags {
  ManifestFlags manifests;
  NamingFlags naming;
  std::string images_file, lock = "images.lock";
  std::vector<std::string> source_mirrors, platforms;
  int jobs = 8, per_registry = 0;
  bool dry_run = false, no_attachments = false;
  RegistryFlags src{.prefix = "src"}, dest{.prefix = "dest"};
  OutputFormat output = OutputFormat::kText;
};

// The images named by --images, or found in the release files (-f, --profile).
Result<std::vector<ImageReference>> Sources(const MirrorFlags& flags) {
  bool from_files = !flags.manifests.files.empty() || !flags.manifests.profile.empty();
  if (flags.images_file.empty() == !from_files)
    return InvalidArgument("name the images with exactly one of --images FILE, -f FILE|DIR or --profile NAME");
  if (!flags.images_file.empty()) return ReadImageList(flags.images_file);
  Result<ManifestSet> set = ResolveManifests(flags.manifests);
  if (!set.ok()) return set.status();
  Result<std::vector<ImageReference>> refs = DistinctImages(*set, flags.manifests.include_optional);
  if (refs.ok() && refs->empty()) return InvalidArgument("the release files name no images");
  return refs;
}

Result<std::vector<CopyImage>> Plan(const MirrorFlags& flags) {
  Result<std::vector<ImageReference>> sources = Sources(flags);
  if (!sources.ok()) return sources.status();
  Result<TargetNaming> naming = ParseNamingFlags(flags.naming);
  if (!naming.ok()) return naming.status();
  Result<std::vector<ImageReference>> targets = PlanTargets(*sources, naming->to, naming->options);
  if (!targets.ok()) return targets.status();
  SourceMirrors mirrors;
  for (const std::string& spec : flags.source_mirrors) {
    Result<SourceMirror> m = ParseSourceMirror(spec);
    if (!m.ok()) return m.status().WithContext("--source-mirror");
    FERRY_RETURN_IF_ERROR(mirrors.Add(*m).WithContext("--source-mirror"));
  }
  std::vector<CopyImage> images;
  for (size_t i = 0; i < sources->size(); ++i) {
    const ImageReference& source = (*sources)[i];
    ImageReference fetch = mirrors.Resolve(source);
    const ImageReference& target = (*targets)[i];  // pushed by tag; the digest is checked anyway
    images.push_back({source.String(), {fetch.Name(), fetch.ManifestIdentifier(), fetch.digest},
                      {target.Name(), target.tag, ""}});
    if (!fetch.digest.empty()) images.back().from.tag.clear();
  }
  return images;
}

std::string Summary(const CopyReport& report, bool dry_run) {
  const CopyTotals& t = report.totals;
  std::ostringstream out;
  int total = static_cast<int>(report.images.size());
  if (dry_run) {
    out << total << " images: " << t.images_present << " already at the target, "
        << total - t.images_present - t.images_failed << " to copy, " << t.images_failed << " failed to resolve; "
        << t.blobs << " distinct blobs, " << HumanBytes(t.bytes_missing) << " to transfer, "
        << HumanBytes(t.bytes_skipped) << " already present (dry run: nothing written)";
  } else {
    out << total << " images: " << t.images_copied << " copied, " << t.images_present << " already present, "
        << t.images_failed << " failed; " << HumanBytes(t.bytes_copied) << " transferred, "
        << HumanBytes(t.bytes_mounted) << " mounted, " << HumanBytes(t.bytes_skipped) << " skipped, in "
        << t.elapsed.count() / 1000.0 << " s";
    if (t.attachments > 0) out << "; " << t.attachments << " attachments (signatures, attestations, SBOMs, referrers) carried";
  }
  return out.str();
}

nlohmann::json SummaryJson(const CopyReport& report) {
  const CopyTotals& t = report.totals;
  nlohmann::json failed = nlohmann::json::array();
  for (const ImageResult& r : report.images)
    if (!r.status.ok()) failed.push_back({{"source", r.image.name}, {"error", r.status.message()}});
  return {{"event", "summary"},
          {"images", report.images.size()},
          {"copied", t.images_copied},
          {"present", t.images_present},
          {"failed", failed},
          {"blobs", {{"distinct", t.blobs}, {"copied", t.blobs_copied}, {"mounted", t.blobs_mounted},
                     {"skipped", t.blobs_skipped}}},
          {"bytes", {{"copied", t.bytes_copied}, {"mounted", t.bytes_mounted}, {"skipped", t.bytes_skipped},
                     {"missing", t.bytes_missing}}},
          {"attachments", t.attachments},
          {"elapsedMs", t.elapsed.count()}};
}

// The failed images, one line per cause: "N images at REG failed (a, b and N-2 more): MESSAGE"
// for the images one registry failed alike, "NAME: MESSAGE" for an image alone. Then, when a
// source registry could not be reached, what to use instead; -v names every image.
std::vector<std::string> FailureLines(const CopyReport& report, const MirrorFlags& flags) {
  NameGroups groups;
  std::vector<const ImageResult*> firsts;  // by group index
  std::vector<std::string> registries;
  for (const ImageResult& r : report.images) {
    if (r.status.ok()) continue;
    std::string registry = RegistryNamedIn(r.status.message());
    std::string name = !registry.empty() && r.image.name.starts_with(registry + "/")
                           ? r.image.name.substr(registry.size() + 1)
                           : r.image.name;
    if (groups.Add(FailureCauseKey(registry, r.status), name) == firsts.size()) {
      firsts.push_back(&r);
      registries.push_back(registry);
    }
  }
  std::vector<std::string> out, unreachable;
  bool left_out = false;
  for (size_t i = 0; i < firsts.size(); ++i) {
    const ImageResult& r = *firsts[i];
    const std::vector<std::string>& names = groups.groups()[i].names;
    // A source registry out of reach (not the target's): named as the images name it, so that
    // --source-mirror can point it elsewhere.
    bool source = r.image.from.repository.starts_with(registries[i] + "/") &&
                  !r.image.to.repository.starts_with(registries[i] + "/");
    Result<ImageReference> named = ImageReference::Parse(r.image.name);
    if (source && r.status.code() == StatusCode::kUnavailable && named.ok() &&
        std::find(unreachable.begin(), unreachable.end(), named->registry) == unreachable.end())
      unreachable.push_back(named->registry);
    if (names.size() == 1) {
      out.push_back(r.image.name + ": " + r.status.message());
      continue;
    }
    left_out = left_out || names.size() > NamesShown(2);
    out.push_back(Counted(names.size(), "image", "images") +
                  (registries[i].empty() ? "" : " at " + registries[i]) + " failed (" +
                  NameFirstFew(names, NamesShown(2)) + "): " + r.status.message());
  }
  for (const std::string& registry : unreachable)
    out.push_back("instead: --source-mirror " + registry + "=HOST[/PREFIX] (a reachable copy of " + registry +
                  "), or ferry bundle save where " + registry + " can be reached and ferry bundle load FILE --to " +
                  (flags.naming.to.empty() ? std::string("REGISTRY/NAMESPACE") : flags.naming.to) + " here");
  if (left_out) out.push_back("-v lists every image; --output json has each image's error");
  return out;
}

int RunMirrorCommand(const MirrorFlags& flags) {
  Result<std::vector<CopyImage>> images = Plan(flags);
  if (!images.ok()) return ReportError(images.status());
  if (!flags.platforms.empty())
    std::fprintf(stderr,
                 "ferry: warning: --platform rewrites multi-arch indexes, so their digests at the target differ "
                 "from the source's; the lock file records the new digests\n");

  RegistryPool registries(CopyRegistryOptions(&flags.src, &flags.dest));
  BlobLocations locations(flags.dry_run ? "" : BlobLocations::DefaultPath());
  if (!flags.dry_run)
    ExplainSignal("images already complete at the target stay there, no tag names a partial image" +
                  std::string(flags.lock.empty() ? "" : " and the lock file was not written") +
                  "; run the same command again to copy the rest");
  RegistrySource source(registries, flags.per_registry);
  RegistrySink sink(registries, &locations);
  CopyOptions options{.jobs = std::max(1, flags.jobs),
                      .platforms = flags.platforms,
                      .attachments = !flags.no_attachments,
                      .dry_run = flags.dry_run};
  CopyReport report;
  {
    MirrorProgress progress(MirrorProgress::ModeFor(flags.output == OutputFormat::kJson), {.dry_run = flags.dry_run});
    report = RunCopy(source, sink, *images, options, &progress);
  }
  if (!flags.dry_run) {
    (void)locations.Save();
    if (!flags.lock.empty())
      if (Status s = WriteFileAtomically(flags.lock, LockOf(report).Serialize()); !s.ok()) return ReportError(s);
  }
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", SummaryJson(report).dump().c_str());
  } else {
    if (flags.dry_run)
      for (const ImageResult& r : report.images)
        if (r.status.ok())
          std::printf("%s %s -> %s (%s)\n", r.already_present ? "present" : "copy   ", r.image.name.c_str(),
                      r.image.to.String().c_str(), HumanBytes(r.size).c_str());
    std::printf("%s\n", Summary(report, flags.dry_run).c_str());
    if (!flags.dry_run && !flags.lock.empty()) std::printf("lock file: %s\n", flags.lock.c_str());
  }
  if (report.totals.images_failed == 0) return kExitSuccess;
  std::fprintf(stderr, "ferry: error: %d of %zu images failed:\n", report.totals.images_failed, report.images.size());
  for (const std::string& line : FailureLines(report, flags)) std::fprintf(stderr, "  %s\n", line.c_str());
  return kExitFailure;
}

}  // namespace

Command AddMirrorCommand(CLI::App& root) {
  auto flags = std::make_shared<MirrorFlags>();
  CLI::App* app = root.add_subcommand("mirror", "Copy every image of a release to a registry you can reach");
  app->footer(
      "All images and blobs share one scheduler: each distinct blob is transferred once per run and\n"
      "mounted into the other repositories that need it; blobs already at the target are skipped,\n"
      "so re-running after an interruption transfers only what is missing. Manifests are pushed\n"
      "only after their blobs are verified, byte for byte, so digests stay the same. Signatures,\n"
      "attestations and SBOMs (cosign's sha256-<digest>.sig/.att/.sbom tags) and OCI referrers of\n"
      "each image come along into the same repository, unless --no-attachments.\n\n"
      "Example:\n"
      "  ferry mirror --profile knative-1.23-kourier \\\n"
      "      --to registry.cn-hangzhou.aliyuncs.com/knative-mirror --naming flatten \\\n"
      "      --dest-creds \"$ACR_USER:$ACR_PASSWORD\" --lock images.lock");
  app->add_option("--images", flags->images_file, "File with one image reference per line ('-' for stdin)");
  AddManifestFlags(app, &flags->manifests);
  AddNamingFlags(app, &flags->naming);
  app->add_option("--source-mirror", flags->source_mirrors,
                  "REGISTRY=HOST[/PREFIX]: read REGISTRY's images from HOST (repeatable)");
  app->add_option("--platform", flags->platforms, "Only these platforms of multi-arch images (os/arch[,...])")
      ->delimiter(',');
  app->add_option("-j,--jobs", flags->jobs, "Transfers at once (default 8)");
  app->add_option("--max-per-registry", flags->per_registry, "Blob reads at once per source registry (default: no limit)");
  app->add_flag("--no-attachments", flags->no_attachments,
                "Leave signatures, attestations, SBOMs and referrers of the images behind");
  app->add_flag("--dry-run", flags->dry_run, "Resolve every digest and print the plan; write nothing");
  app->add_option("--lock", flags->lock, "Where to write the lock file (default images.lock; '' for none)");
  AddRegistryFlags(app, &flags->src, "source");
  AddRegistryFlags(app, &flags->dest, "destination");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunMirrorCommand(*flags); }};
}

}  // namespace ferry::cli
