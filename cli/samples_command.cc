// ferry samples push --to REGISTRY/NS: the sample apps built into ferry, as images in a registry
// the cluster can reach, so an air-gapped site can run the self-test without the upstream images.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "cli/registry_flags.h"
#include "selftest/sample_push.h"

namespace ferry::cli {
namespace {

struct SamplesPushFlags {
  std::string to;
  std::string tag = "latest";
  RegistryFlags dest{.prefix = "dest"};
  OutputFormat output = OutputFormat::kText;
};

int RunSamplesPush(const SamplesPushFlags& flags) {
  Result<ImageReference> ns = ParseSampleNamespace(flags.to);
  if (!ns.ok()) return ReportError(ns.status().WithContext("--to"));
  RegistryPool registries(CopyRegistryOptions(nullptr, &flags.dest));
  Result<std::vector<PushedSample>> pushed = PushSampleImages(*ns, flags.tag, registries);
  if (!pushed.ok()) return ReportError(pushed.status());

  if (flags.output == OutputFormat::kJson) {
    nlohmann::json images = nlohmann::json::array();
    for (const PushedSample& sample : *pushed) {
      ImageReference tagged = sample.image;
      tagged.digest.clear();
      images.push_back({{"name", sample.name},
                        {"reference", tagged.String()},
                        {"digest", sample.image.digest},
                        {"pinned", sample.image.Name() + "@" + sample.image.digest},
                        {"size", sample.size}});
    }
    std::printf("%s\n", nlohmann::json{{"images", images}}.dump().c_str());
  } else {
    for (const PushedSample& sample : *pushed)
      std::printf("%-10s %s\n", sample.name.c_str(), sample.image.String().c_str());
  }
  return kExitSuccess;
}

}  // namespace

Command AddSamplesPushCommand(CLI::App& root) {
  auto flags = std::make_shared<SamplesPushFlags>();
  CLI::App* samples = root.add_subcommand("samples", "The sample apps built into ferry (helloworld, autoscale)");
  samples->require_subcommand(1);
  CLI::App* app = samples->add_subcommand("push", "Push the sample apps as images to REGISTRY/NS/<app>:TAG");
  app->footer(
      "Each app (a static executable inside ferry) becomes an OCI image with one layer, no base\n"
      "image, entrypoint /app/<app>, PORT=8080. The same ferry always makes the same digests.\n"
      "The Knative Services can then use REGISTRY/NS/helloworld and REGISTRY/NS/autoscale instead\n"
      "of the upstream sample images.\n\n"
      "Example:\n"
      "  ferry samples push --to registry.example.internal:5000/knative-samples --dest-creds \"$USER:$PASS\"");
  app->add_option("--to", flags->to, "REGISTRY/NAMESPACE to push under (the apps' repositories go inside it)")
      ->required();
  app->add_option("--tag", flags->tag, "Tag of each pushed image")->capture_default_str();
  AddRegistryFlags(app, &flags->dest, "destination");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunSamplesPush(*flags); }};
}

}  // namespace ferry::cli
