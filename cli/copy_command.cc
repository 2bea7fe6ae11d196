// ferry copy SRC DST: one image, digest-exact, between registries, OCI layouts and archives,
// named as skopeo names them (docker://, oci:, oci-archive:, docker-archive:).
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/registry_flags.h"
#include "common/atomic_file.h"
#include "mirror/image_location.h"

namespace ferry::cli {
namespace {

struct CopyFlags {
  std::string source, destination, digest_file;
  RegistryFlags src{.prefix = "src"}, dest{.prefix = "dest"};
  bool no_attachments = false;
  OutputFormat output = OutputFormat::kText;
};

nlohmann::json ToJson(const ImageResult& r, const CopyTotals& t, const std::string& source,
                      const std::string& destination) {
  std::vector<AttachmentRecord> attachments;
  for (const CopiedAttachment& a : r.attachments) attachments.push_back(a.Record());
  return {{"source", source},
          {"destination", destination},
          {"digest", r.digest},
          {"mediaType", r.media_type},
          {"attachments", AttachmentsJson(attachments)},
          {"blobs", {{"copied", t.blobs_copied}, {"skipped", t.blobs_skipped}, {"mounted", t.blobs_mounted}}},
          {"bytes", {{"copied", t.bytes_copied}, {"skipped", t.bytes_skipped}, {"mounted", t.bytes_mounted}}}};
}

int RunCopy(const CopyFlags& flags) {
  Result<ImageLocation> from = ParseImageLocation(flags.source);
  if (!from.ok()) return ReportError(from.status().WithContext("source"));
  Result<ImageLocation> to = ParseImageLocation(flags.destination);
  if (!to.ok()) return ReportError(to.status().WithContext("destination"));

  RegistryPool registries(CopyRegistryOptions(&flags.src, &flags.dest));
  BlobLocations locations(BlobLocations::DefaultPath());
  Result<OpenedSource> source = OpenSource(*from, registries);
  if (!source.ok()) return ReportError(source.status());
  Result<OpenedSink> sink = OpenSink(*to, source->image.tag.starts_with("@") ? "" : source->image.tag, registries,
                                     &locations);
  if (!sink.ok()) return ReportError(sink.status());
  CopyImage image{from->String(), source->image, sink->image};
  ExplainSignal("the destination does not name a partial image; run the same command again to finish");
  if (from->transport == Transport::kDocker) image.name = from->reference.String();
  CopyReport report = ferry::RunCopy(*source->source, *sink->sink, {image},
                                     {.jobs = 4, .attachments = !flags.no_attachments});
  (void)locations.Save();  // a cache: failing to save it costs only a later mount
  if (!report.stopped.ok()) return ReportError(report.stopped);
  const ImageResult& result = report.images.front();
  if (!result.status.ok()) return ReportError(result.status);

  if (!flags.digest_file.empty())
    if (Status s = WriteFileAtomically(flags.digest_file, result.digest + "\n"); !s.ok()) return ReportError(s);
  ImageLocation written = *to;
  if (written.transport == Transport::kDocker) {
    written.reference.digest.clear();
    if (written.reference.tag.empty()) written.reference.tag = sink->image.tag;
  } else if (written.name.empty()) {
    written.name = sink->image.tag;
  }
  std::string destination = written.transport == Transport::kDocker ? written.reference.String() : written.String();
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", ToJson(result, report.totals, image.name, destination).dump().c_str());
  } else {
    std::printf("%s -> %s@%s\n", image.name.c_str(), destination.c_str(), result.digest.c_str());
    if (!result.attachments.empty())
      std::printf("  with %zu attachments (signatures, attestations, SBOMs, referrers)\n", result.attachments.size());
  }
  return kExitSuccess;
}

}  // namespace

Command AddCopyCommand(CLI::App& root) {
  auto flags = std::make_shared<CopyFlags>();
  CLI::App* app = root.add_subcommand("copy", "Copy one image, digest-exact, between registries, layouts and archives");
  app->footer(
      "SRC and DST are named as skopeo names them: docker://REFERENCE (also a bare reference),\n"
      "oci:DIR[:NAME], oci-archive:FILE[:NAME] (a ferry bundle is one too) and, as a source only,\n"
      "docker-archive:FILE[:NAME|:@N] (what docker save writes). Every platform of a multi-arch image\n"
      "is copied and the manifests are written byte for byte, so the digest at DST equals the digest\n"
      "at SRC (a docker-archive has no registry manifest: ferry makes one, the same every time).\n"
      "Blobs already at DST are skipped; blobs in another repository of DST's registry are mounted.\n"
      "The image's signatures, attestations, SBOMs and OCI referrers come along unless\n"
      "--no-attachments.\n\n"
      "Examples:\n"
      "  ferry copy gcr.io/knative-releases/knative.dev/serving/cmd/queue@sha256:a3cc71ce80dbc6df8781f15eac2cf3531a4c9815271799afd8776bef9e6aeaf2 \\\n"
      "             registry.cn-hangzhou.aliyuncs.com/knative-mirror/queue:v1.23.0 --dest-creds \"$USER:$PASS\"\n"
      "  ferry copy docker-archive:app.tar docker://registry.example.internal:5000/team/app:1\n"
      "  ferry copy docker://gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0 oci:layout:queue");
  app->add_option("SRC", flags->source, "Source image ([docker://]REF, oci:DIR[:NAME], oci-archive:FILE[:NAME], "
                                         "docker-archive:FILE[:NAME])")
      ->required();
  app->add_option("DST", flags->destination, "Destination ([docker://]REF, oci:DIR[:NAME], oci-archive:FILE[:NAME]); "
                                             "without a tag or name it takes SRC's tag")
      ->required();
  AddRegistryFlags(app, &flags->src, "source");
  AddRegistryFlags(app, &flags->dest, "destination");
  app->add_flag("--no-attachments", flags->no_attachments,
                "Leave the image's signatures, attestations, SBOMs and referrers behind");
  app->add_option("--digestfile", flags->digest_file, "Write the copied manifest's digest to this file");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunCopy(*flags); }};
}

}  // namespace ferry::cli
