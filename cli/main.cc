// ferry: carries Knative Serving into networks that cannot reach gcr.io.
// Parses the command line and hands each subcommand to its library; nothing else lives here.
#include <CLI/CLI.hpp>

#include <vector>

#include "cli/command.h"
#include "common/log.h"

int main(int argc, char** argv) {
  using namespace ferry::cli;
  CLI::App root{"ferry: mirror Knative's images to a registry you can reach, and install from it"};
  root.set_version_flag("--version", std::string("ferry ") + FERRY_VERSION);
  root.require_subcommand(1);

  std::vector<Command> commands = {AddCopyCommand(root),   AddMirrorCommand(root),  AddImagesCommand(root),
                                   AddRewriteCommand(root), AddManifestsCommand(root),
                                   AddBundleSaveCommand(root), AddBundleLoadCommand(root), AddBundleInspectCommand(root), AddBundleVerifyCommand(root),
                                   AddClusterInfoCommand(root), AddInstallCommand(root), AddUninstallCommand(root), AddSamplesPushCommand(root),
                                   AddLoadCommand(root), AddSelftestCommand(root), AddCompletionCommand(root)};
  GlobalFlags global(root);
  const Command* chosen = nullptr;
  try {
    SpellHeyFlags(argc, argv);
    root.parse(argc, argv);
    for (const Command& command : commands)
      if (command.app->parsed()) chosen = &command;
    if (chosen == nullptr) return kExitUsage;
    global.ApplyTo(root);
  } catch (const CLI::ParseError& e) {
    int code = root.exit(e);
    return code == 0 ? kExitSuccess : kExitUsage;
  }
  if (int v = global.verbosity(); v > 0) ferry::SetLogLevel(v > 1 ? ferry::LogLevel::kDebug : ferry::LogLevel::kInfo);
  return chosen->run();
}
