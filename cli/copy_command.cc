// ferry copy SRC DST: one image, digest-exact, from one registry to another.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <unistd.h>

#include "cli/command.h"
#include "cli/registry_flags.h"
#include "mirror/image_copier.h"

namespace ferry::cli {
namespace {

struct CopyFlags {
  std::string source, destination, digest_file;
  RegistryFlags src{.prefix = "src"}, dest{.prefix = "dest"};
  OutputFormat output = OutputFormat::kText;
};

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::trunc);
    out << content;
    if (!out.flush()) return IoError("cannot write " + temp);
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return IoError("cannot write " + path + ": " + ec.message());
  }
  return Status::Ok();
}

nlohmann::json ToJson(const ImageReference& source, const CopyResult& r) {
  const CopyStats& s = r.stats;
  return {{"source", source.String()},
          {"destination", r.destination},
          {"digest", r.digest},
          {"mediaType", r.media_type},
          {"manifests", s.manifests},
          {"blobs", {{"copied", s.blobs_copied}, {"skipped", s.blobs_skipped}, {"mounted", s.blobs_mounted}}},
          {"bytes", {{"copied", s.bytes_copied}, {"skipped", s.bytes_skipped}, {"mounted", s.bytes_mounted}}}};
}

int RunCopy(const CopyFlags& flags) {
  Result<ImageReference> source = ImageReference::Parse(flags.source);
  if (!source.ok()) return ReportError(source.status().WithContext("source"));
  Result<ImageReference> destination = ImageReference::Parse(flags.destination);
  if (!destination.ok()) return ReportError(destination.status().WithContext("destination"));

  Result<RegistryOptions> src_options = MakeRegistryOptions(flags.src, *source, /*push=*/false);
  if (!src_options.ok()) return ReportError(src_options.status());
  Result<RegistryOptions> dest_options = MakeRegistryOptions(flags.dest, *destination, /*push=*/true);
  if (!dest_options.ok()) return ReportError(dest_options.status());

  RegistryClient src(source->registry, source->ApiHost(), *src_options);
  RegistryClient dest(destination->registry, destination->ApiHost(), *dest_options);
  BlobLocations locations(BlobLocations::DefaultPath());
  Result<CopyResult> result = CopyImage(src, *source, dest, *destination, &locations);
  (void)locations.Save();  // a cache: failing to save it costs only a later mount
  if (!result.ok()) return ReportError(result.status());

  if (!flags.digest_file.empty())
    if (Status s = WriteFileAtomically(flags.digest_file, result->digest + "\n"); !s.ok()) return ReportError(s);
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", ToJson(*source, *result).dump().c_str());
  } else {
    std::printf("%s -> %s@%s\n", source->String().c_str(), result->destination.c_str(), result->digest.c_str());
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
