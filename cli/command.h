// What every ferry subcommand shares: exit codes, error printing, output format.
#pragma once

#include <CLI/CLI.hpp>

#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "common/atomic_file.h"
#include "common/status.h"

namespace ferry::cli {

enum ExitCode { kExitSuccess = 0, kExitFailure = 1, kExitUsage = 2 };

enum class OutputFormat { kText, kJson };

// "ferry bundle save": the command as the user types it.
std::string CommandPath(const CLI::App* command);

// Registers --output text|json on `command`.
void AddOutputFlag(CLI::App* command, OutputFormat* format);

// Prints "ferry: error: <message>" to stderr and returns kExitFailure (kExitUsage for bad input
// that came from the command line itself).
int ReportError(const Status& status);

// Marks standard input as taken by `what` ("-f -", "--dest-password-stdin"): InvalidArgument
// naming both when something else took it already. Files are written with WriteFileAtomically
// (common/atomic_file.h).
Status ClaimStandardInput(const std::string& what);

// Each subcommand registers itself and sets `run` to the function that executes it.
struct Command {
  CLI::App* app;
  std::function<int()> run;
};

// The flags every command takes, before or after its name (`ferry -v install` and `ferry install
// -v`), as kubectl, skopeo and docker take theirs: -v/-vv (more detail on stderr) and --output
// (given to the command's own --output; a command without one refuses it).
class GlobalFlags {
 public:
  // Registers the flags on `root` and on every command below it; call once all are added.
  explicit GlobalFlags(CLI::App& root);
  // After parsing: hands a --output given before the command to it. Throws CLI::ParseError.
  void ApplyTo(CLI::App& root) const;
  int verbosity() const;

 private:
  std::deque<int> verbosity_;  // one per command (and the root): only those parsed count
  std::string output_;
};

Command AddCopyCommand(CLI::App& root);
Command AddMirrorCommand(CLI::App& root);
Command AddManifestsCommand(CLI::App& root);
Command AddImagesCommand(CLI::App& root);
Command AddRewriteCommand(CLI::App& root);

// The `bundle` parent command: the existing one, or made on first use (cli/bundle_command.cc).
CLI::App* BundleParent(CLI::App& root);
Command AddBundleSaveCommand(CLI::App& root);
Command AddBundleLoadCommand(CLI::App& root);  // and inspect, verify: cli/bundle_load_command.cc
Command AddBundleInspectCommand(CLI::App& root);
Command AddBundleVerifyCommand(CLI::App& root);
Command AddClusterInfoCommand(CLI::App& root);  // `cluster info`: cli/cluster_command.cc
Command AddInstallCommand(CLI::App& root);      // cli/install_command.cc
Command AddUninstallCommand(CLI::App& root);    // cli/uninstall_command.cc
Command AddSamplesPushCommand(CLI::App& root);  // `samples push`: cli/samples_command.cc
Command AddLoadCommand(CLI::App& root);         // cli/load_command.cc
Command AddSelftestCommand(CLI::App& root);     // cli/selftest_command.cc
Command AddCompletionCommand(CLI::App& root);   // `completion bash|zsh`: cli/completion_command.cc
// Rewrites hey's single-dash long flags after `load` (-host, -disable-keepalive, -disable-redirects)
// to the double-dash spelling CLI11 parses; call before parsing. cli/load_command.cc
void SpellHeyFlags(int argc, char** argv);

}  // namespace ferry::cli
