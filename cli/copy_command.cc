// ferry copy SRC DST: one image, digest-exact, from one registry to another.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/registry_flags.h"
#include "mirror/mirror_engine.h"

namespace ferry::cli {
namespace {

struct CopyFlags {
  std::string source, destination, digest_file;
  RegistryFlags src{.prefix = "src"}, dest{.prefix = "dest"};
  OutputFormat output = OutputFormat::kText;
};

nlohmann::json ToJson(const ImageResult& r, const MirrorTotals& t) {
  return {{"source", r.image.source.String()},
          {"destination", r.image.target.String()},
          {"digest", r.digest},
          {"mediaType", r.media_type},
          {"blobs", {{"copied", t.blobs_copied}, {"skipped", t.blobs_skipped}, {"mounted", t.blobs_mounted}}},
          {"bytes", {{"copied", t.bytes_copied}, {"skipped", t.bytes_skipped}, {"mounted", t.bytes_mounted}}}};
}

int RunCopy(const CopyFlags& flags) {
  Result<ImageReference> source = ImageReference::Parse(flags.source);
  if (!source.ok()) return ReportError(source.status().WithContext("source"));
  Result<ImageReference> target = ImageReference::Parse(flags.destination);
  if (!target.ok()) return ReportError(target.status().WithContext("destination"));
  // Like docker: a destination without tag or digest takes the source's tag.
  if (target->tag.empty() && target->digest.empty()) target->tag = source->tag;

  RegistryPool registries([&](const ImageReference& ref, bool push) {
    return MakeRegistryOptions(push ? flags.dest : flags.src, ref, push);
  });
  BlobLocations locations(BlobLocations::DefaultPath());
  MirrorOptions options{.jobs = 4};
  MirrorReport report = RunMirror({{*source, *source, *target}}, options, registries, &locations, nullptr);
  (void)locations.Save();  // a cache: failing to save it costs only a later mount
  const ImageResult& result = report.images.front();
  if (!result.status.ok()) return ReportError(result.status);

  if (!flags.digest_file.empty())
    if (Status s = WriteFileAtomically(flags.digest_file, result.digest + "\n"); !s.ok()) return ReportError(s);
  ImageReference written = *target;
  written.digest.clear();
  if (flags.output == OutputFormat::kJson) {
    nlohmann::json j = ToJson(result, report.totals);
    j["destination"] = written.String();
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s -> %s@%s\n", source->String().c_str(), written.String().c_str(), result.digest.c_str());
  }
  return kExitSuccess;
}

}  // namespace

Command AddCopyCommand(CLI::App& root) {
  auto flags = std::make_shared<CopyFlags>();
  CLI::App* app = root.add_subcommand("copy", "Copy one image, digest-exact, between registries");
  app->footer(
      "Every platform of a multi-arch image is copied, and the manifests are pushed byte for byte,\n"
      "so the digest at DST equals the digest at SRC. Blobs already at DST are skipped; blobs in\n"
      "another repository of DST's registry are mounted.\n\n"
      "Example:\n"
      "  ferry copy gcr.io/knative-releases/knative.dev/serving/cmd/queue@sha256:a3cc71ce80dbc6df8781f15eac2cf3531a4c9815271799afd8776bef9e6aeaf2 \\\n"
      "             registry.cn-hangzhou.aliyuncs.com/knative-mirror/queue:v1.23.0 --dest-creds \"$USER:$PASS\"");
  app->add_option("SRC", flags->source, "Source image ([docker://]registry/repository[:tag][@digest])")->required();
  app->add_option("DST", flags->destination, "Destination image; without a tag it takes SRC's tag")->required();
  AddRegistryFlags(app, &flags->src, "source");
  AddRegistryFlags(app, &flags->dest, "destination");
  app->add_option("--digestfile", flags->digest_file, "Write the copied manifest's digest to this file");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunCopy(*flags); }};
}

}  // namespace ferry::cli
