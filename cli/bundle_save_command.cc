// ferry bundle save: a release's images and files in one archive for an air-gapped site.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli/bundle_package_output.h"
#include "cli/command.h"
#include "cli/manifest_flags.h"
#include "cli/mirror_progress.h"
#include "cli/registry_flags.h"
#include "common/atomic_file.h"
#include "mirror/archive_sink.h"
#include "mirror/bundle_package.h"
#include "mirror/copy_engine.h"
#include "mirror/image_list.h"
#include "mirror/registry_source.h"
#include "mirror/source_mirror.h"
#include "rewrite/manifest_fetch.h"
#include "rewrite/release_profile.h"
#include "samples/builtin_samples.h"

namespace ferry::cli {
namespace {

struct BundleSaveFlags {
  ManifestFlags manifests;
  std::string images_file, archive, split_size;
  std::vector<std::string> source_mirrors, platforms;
  int jobs = 8, threads = 0, level = 3;
  bool no_attachments = false;
  // --include-ferry[=FILE]: FILE, or "" to look for make deb's package beside the binary.
  bool include_ferry = false;
  std::string ferry_file;
  RegistryFlags src{.prefix = "src"};
  OutputFormat output = OutputFormat::kText;
};

// The profile's samples, in its serviceApiVersion's shape, as ferry/samples/NAME.yaml. Only the
// files: the sample images are built on the far side, not carried.
Status AddSamples(const ReleaseProfile& profile, BundleInfo* bundle) {
  for (const std::string& name : profile.samples) {
    const EmbeddedSample* sample = FindSample(name, profile.service_api_version);
    if (!sample)
      return NotFound("profile " + profile.name + " names sample \"" + name + "\", which this ferry has not in the " +
                      (profile.service_api_version.empty() ? "(unset)" : profile.service_api_version) +
                      " shape (its samples: " + SampleNames() + "; shapes: serving.knative.dev/v1, v1alpha1)");
    bundle->files.push_back({name + ".yaml", "samples/" + std::string(sample->path) + ".yaml (built in)", true,
                             sample->text});
  }
  return Status::Ok();
}

// The images to save (from --images, -f or --profile), with the files and profile they come with.
Status Describe(const BundleSaveFlags& flags, std::vector<CopyImage>* images, BundleInfo* bundle) {
  bool from_files = !flags.manifests.files.empty() || !flags.manifests.profile.empty();
  if (flags.images_file.empty() == !from_files)
    return InvalidArgument("name the images with exactly one of --images FILE, -f FILE|DIR or --profile NAME");
  std::vector<ImageReference> refs;
  if (!flags.images_file.empty()) {
    Result<std::vector<ImageReference>> list = ReadImageList(flags.images_file);
    if (!list.ok()) return list.status();
    refs = std::move(*list);
  } else {
    Result<ManifestSet> set = ResolveManifests(flags.manifests);
    if (!set.ok()) return set.status();
    Result<std::vector<ImageReference>> found = DistinctImages(*set, flags.manifests.include_optional);
    if (!found.ok()) return found.status();
    refs = std::move(*found);
    for (const ManifestInput& file : set->files) bundle->files.push_back({file.relative, file.path, false});
    if (!flags.manifests.profile.empty() && !set->files.empty()) {
      // The files are now in one directory, checked; the sums recorded there complete the profile.
      Result<ReleaseProfile> profile = LoadReleaseProfile(flags.manifests.profile);
      if (!profile.ok()) return profile.status();
      std::string dir = std::filesystem::path(set->files.front().path).parent_path().string();
      ManifestsReport verified = VerifyManifestsDir(*profile, dir);
      if (!verified.ok()) return verified.status;
      FERRY_RETURN_IF_ERROR(AddSamples(*profile, bundle));
      bundle->profile = profile->name;
      bundle->profile_json = verified.locked.ToJson();
    }
  }
  if (refs.empty()) return InvalidArgument("no images to save: the release files name none");
  SourceMirrors mirrors;
  for (const std::string& spec : flags.source_mirrors) {
    Result<SourceMirror> m = ParseSourceMirror(spec);
    if (!m.ok()) return m.status().WithContext("--source-mirror");
    FERRY_RETURN_IF_ERROR(mirrors.Add(*m).WithContext("--source-mirror"));
  }
  for (const ImageReference& ref : refs) {
    // In the bundle each image is named as the release files name it (ref.Name():TAG, by digest).
    ImageReference fetch = mirrors.Resolve(ref);
    images->push_back({ref.String(), {fetch.Name(), fetch.digest.empty() ? fetch.ManifestIdentifier() : "", fetch.digest},
                       {ref.Name(), ref.tag, ""}});
  }
  return Status::Ok();
}

// ferry itself for the far side: the .deb `make deb` built, else the running binary (with a note).
Status ChoosePackage(const BundleSaveFlags& flags, BundleInfo* bundle) {
  if (!flags.include_ferry) return Status::Ok();
  std::error_code ec;
  std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return IoError("cannot find the running ferry binary (/proc/self/exe): " + ec.message());
  Result<FerryPackageChoice> choice = ChooseFerryPackage(flags.ferry_file, self, FERRY_VERSION);
  if (!choice.ok()) return choice.status().WithContext("--include-ferry");
  for (const std::string& note : choice->notes) std::fprintf(stderr, "ferry: note: %s\n", note.c_str());
  bundle->ferry_package = BundleSavePackage{choice->file, choice->record};
  return Status::Ok();
}

// How the far side gets ferry out of the archive just written (one file or its split parts).
std::string InstallCommand(const ArchiveSink& archive, const std::string& path) {
  std::vector<std::string> parts;
  for (const BundlePart& p : archive.output().parts) parts.push_back(p.path);
  return PackageInstallCommand(*archive.manifest().ferry_package, path, parts, false);
}

nlohmann::json ReportJson(const ArchiveSink& archive, const std::string& path) {
  const BundleManifest& manifest = archive.manifest();
  nlohmann::json parts = nlohmann::json::array();
  for (const BundlePart& p : archive.output().parts)
    parts.push_back({{"path", p.path}, {"size", p.size}, {"sha256", p.sha256}});
  nlohmann::json images = nlohmann::json::array();
  for (const BundleImage& i : manifest.images) {
    images.push_back({{"source", i.source}, {"digest", i.digest}, {"mediaType", i.media_type},
                      {"platforms", i.platforms}, {"size", i.size}, {"attachments", i.attachments.size()}});
    if (!i.source_digest.empty()) images.back()["sourceDigest"] = i.source_digest;
  }
  nlohmann::json files = nlohmann::json::array();
  for (const BundleFile& f : manifest.files) files.push_back({{"path", f.path}, {"sha256", f.sha256}});
  return {{"archive", path},       {"sha256", archive.output().sha256}, {"size", archive.output().size},
          {"parts", parts},        {"profile", manifest.profile},        {"images", images},
          {"files", files},        {"blobs", archive.blobs()},           {"blobBytes", archive.blob_bytes()},
          {"platformFilter", manifest.platform_filter}, {"ferryPackage", manifest.ferry_package ? PackageJson(*manifest.ferry_package, InstallCommand(archive, path))
                                                 : nlohmann::json()}};
}

int RunBundleSave(const BundleSaveFlags& flags) {
  BundleWriterOptions options{.zstd = flags.archive.ends_with(".zst"), .zstd_level = flags.level,
                              .zstd_threads = flags.threads > 0 ? flags.threads
                                                 : static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 4u))};
  if (!flags.split_size.empty()) {
    Result<uint64_t> size = ParseByteSize(flags.split_size);
    if (!size.ok()) return ReportError(size.status().WithContext("--split-size"));
    options.split_size = *size;
  }
  std::vector<CopyImage> images;
  BundleInfo bundle{.ferry_version = FERRY_VERSION, .platform_filter = flags.platforms};
  if (Status s = Describe(flags, &images, &bundle); !s.ok()) return ReportError(s);
  if (Status s = ChoosePackage(flags, &bundle); !s.ok()) return ReportError(s.WithContext("no bundle written"));
  if (!flags.platforms.empty() && flags.output != OutputFormat::kJson)
    std::fprintf(stderr,
                 "ferry: warning: --platform rewrites multi-arch indexes, so their digests in the bundle differ "
                 "from the source's (bundle.json records both); the lock file of `bundle load` has the new ones\n");
  Result<std::unique_ptr<ArchiveSink>> archive = ArchiveSink::Create(flags.archive, options, std::move(bundle));
  ExplainSignal("no bundle was written (its temporary file is removed); run the same command again");
  if (!archive.ok()) return ReportError(archive.status().WithContext("no bundle written"));
  RegistryPool registries(CopyRegistryOptions(&flags.src, nullptr));
  RegistrySource source(registries, 0);
  CopyReport report;
  {
    MirrorProgress progress(flags.output == OutputFormat::kJson ? MirrorProgress::Mode::kLines
                                                                : MirrorProgress::ModeFor(false),
                            {.done = "saved", .show_target = false, .lines = stderr});
    report = RunCopy(source, **archive, images,
                     {.jobs = std::max(1, flags.jobs), .platforms = flags.platforms,
                      .attachments = !flags.no_attachments},
                     flags.output == OutputFormat::kJson ? nullptr : &progress);
  }
  Status failed = report.stopped;
  for (const ImageResult& r : report.images)
    if (failed.ok() && !r.status.ok()) failed = r.status.WithContext(r.image.name);
  if (!failed.ok()) return ReportError(failed.WithContext("no bundle written"));
  const BundleOutput& out = (*archive)->output();
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", ReportJson(**archive, flags.archive).dump().c_str());
    return kExitSuccess;
  }
  const BundleManifest& manifest = (*archive)->manifest();
  std::printf("%zu images, %zu files, %d blobs (%s) saved in %s\n", manifest.images.size(), manifest.files.size(),
              (*archive)->blobs(), HumanBytes((*archive)->blob_bytes()).c_str(),
              HumanBytes(static_cast<int64_t>(out.size)).c_str());
  if (report.totals.attachments > 0)
    std::printf("with %d attachments (signatures, attestations, SBOMs, referrers)\n", report.totals.attachments);
  if (manifest.ferry_package)
    std::printf("%s\n", PackageLine(*manifest.ferry_package, InstallCommand(**archive, flags.archive)).c_str());
  if (options.split_size == 0) {
    std::printf("%s  %s\n", out.sha256.c_str(), flags.archive.c_str());
  } else {
    for (const BundlePart& p : out.parts) std::printf("%s  %s\n", p.sha256.c_str(), p.path.c_str());
    std::printf("%s  %s (the %zu parts concatenated)\n", out.sha256.c_str(), flags.archive.c_str(), out.parts.size());
  }
  return kExitSuccess;
}

}  // namespace

Command AddBundleSaveCommand(CLI::App& root) {
  auto flags = std::make_shared<BundleSaveFlags>();
  CLI::App* app = BundleParent(root)->add_subcommand("save", "Save a release's images and files in one archive");
  app->footer(
      "The archive is an OCI image layout (skopeo copy oci-archive:FILE:REFERENCE ... reads its\n"
      "OCI-format images; skopeo 1.9 cannot read Docker schema 2 images from a layout)\n"
      "plus ferry/bundle.json and the release files. Blobs stream from the registry into it;\n"
      "metadata comes before the layers; the same inputs give a byte-identical archive, whose\n"
      "sha256 is printed. Names ending in .zst are compressed with zstd. --split-size cuts the\n"
      "final file into NAME.000, NAME.001, ... (K, M, G are powers of 1000: 4G fits FAT32).\n"
      "On any error nothing is left behind. With --profile the profile's sample Services (hello world,\n"
      "autoscale) come along under ferry/samples/, in its serviceApiVersion; their images do not.\n"
      "--platform keeps only those platforms of multi-arch images, as ferry mirror --platform does:\n"
      "such an index is rewritten, so its digest differs from the source's (bundle.json keeps both).\n"
      "Signatures, attestations, SBOMs and OCI referrers of each image come along (bundle load\n"
      "pushes them too) unless --no-attachments.\n"
      "--include-ferry carries ferry itself for a site where none runs yet, as a plain tar member:\n"
      "ferry/ferry_VERSION_ARCH.deb, the package `make deb` wrote beside this binary or one directory\n"
      "up (--include-ferry=FILE names one: a ferry .deb of this version), else this binary as\n"
      "ferry/ferry (a note names the shared libraries it needs). bundle.json records it with its\n"
      "sha256; bundle load, inspect and verify name it and the tar command that gets it out.\n\n"
      "Example:\n"
      "  ferry bundle save --profile knative-1.23-kourier -o knative.tar.zst --split-size 4G \\\n"
      "      --platform linux/amd64 --include-ferry");
  app->add_option("--images", flags->images_file, "File with one image reference per line ('-' for stdin)");
  AddManifestFlags(app, &flags->manifests);
  app->add_option("-o,--archive", flags->archive, "The archive to write: NAME.tar or NAME.tar.zst")->required();
  app->add_option("--split-size", flags->split_size, "Cut the archive into parts of this size (e.g. 4G, 650M)");
  app->add_option("--source-mirror", flags->source_mirrors,
                  "REGISTRY=HOST[/PREFIX]: read REGISTRY's images from HOST (repeatable)");
  app->add_option("--platform", flags->platforms, "Only these platforms of multi-arch images (os/arch[,...])")
      ->delimiter(',');
  app->add_option("-j,--jobs", flags->jobs, "Images resolved at once (default 8)");
  app->add_flag("--no-attachments", flags->no_attachments,
                "Leave signatures, attestations, SBOMs and referrers of the images out");
  CLI::Option* include_ferry =
      app->add_option("--include-ferry", flags->ferry_file,
                      "Carry ferry itself: make deb's package beside this binary (else the binary), or =FILE.deb")
          ->expected(0, 1);
  app->add_option("--zstd-threads", flags->threads, "zstd worker threads (default: cores, at most 4; same output for any number)");
  app->add_option("--zstd-level", flags->level, "zstd compression level (default 3)");
  AddRegistryFlags(app, &flags->src, "source");
  AddOutputFlag(app, &flags->output);
  return {app, [flags, include_ferry] {
            flags->include_ferry = include_ferry->count() > 0;
            return RunBundleSave(*flags);
          }};
}

}  // namespace ferry::cli
