// `ferry bundle`: the parent of the commands that make and read offline bundles (save, load,
// inspect, verify). Each of them registers under it through BundleParent().
#include <vector>

#include "cli/command.h"

namespace ferry::cli {

CLI::App* BundleParent(CLI::App& root) {
  std::vector<CLI::App*> existing = root.get_subcommands([](CLI::App* app) { return app->get_name() == "bundle"; });
  if (!existing.empty()) return existing.front();
  CLI::App* bundle = root.add_subcommand("bundle", "Carry a release across an air gap in one archive");
  bundle->require_subcommand(1);
  bundle->footer(
      "A bundle is an OCI image layout in one tar (optionally .zst, optionally split into parts)\n"
      "plus ferry/bundle.json and the release files, so skopeo and containerd can read it too.\n\n"
      "Example:\n"
      "  ferry bundle save --profile knative-1.23-kourier -o knative.tar.zst");
  return bundle;
}

}  // namespace ferry::cli
