// ferry uninstall: deletes what `ferry install` recorded in ferry-system, in reverse order, and
// waits until it is gone. CRDs only with --delete-crds.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/duration_flag.h"
#include "cli/install_printer.h"
#include "cli/kube_flags.h"
#include "installer/uninstall.h"

namespace ferry::cli {
namespace {

struct UninstallFlags {
  KubeFlags kube;
  std::string timeout = "10m";
  bool delete_crds = false, dry_run = false, force = false;
  OutputFormat output = OutputFormat::kText;
};

int RunUninstallCommand(const UninstallFlags& flags) {
  Result<std::chrono::milliseconds> timeout = ParseDuration(flags.timeout, "--timeout");
  if (!timeout.ok()) return ReportError(timeout.status());
  Result<installer::ClusterConfig> config = LoadKubeFlags(flags.kube);
  if (!config.ok()) return ReportError(config.status());
  installer::KubeClientOptions client_options;
  client_options.default_timeout = std::chrono::seconds(30);
  std::unique_ptr<installer::KubeClient> client = installer::MakeKubeClient(*config, client_options);
  InstallPrinter printer(flags.output);
  if (flags.force)
    std::fprintf(stderr,
                 "warning: --force: pods still in a terminating namespace are deleted with grace period 0, without "
                 "waiting for them to stop; their containers may run on for a while on their nodes\n");
  installer::UninstallOptions options{
      .delete_crds = flags.delete_crds, .dry_run = flags.dry_run, .force = flags.force, .timeout = *timeout};
  Result<installer::UninstallSummary> summary = installer::RunUninstall(*client, options, printer);
  if (!summary.ok()) return ReportError(summary.status());
  std::string text = std::string(flags.dry_run ? "dry run: would delete " : "uninstalled ") + summary->profile + " " +
                     summary->version + ": " + std::to_string(summary->deleted) + " objects deleted";
  if (!summary->kept_crds.empty())
    text += "; " + std::to_string(summary->kept_crds.size()) +
            " CRDs kept (they hold your Knative Services; --delete-crds deletes them too)";
  printer.Emit({"done", text,
                {{"ok", true}, {"profile", summary->profile}, {"version", summary->version},
                 {"deleted", summary->deleted}, {"keptCrds", summary->kept_crds}}});
  return kExitSuccess;
}

}  // namespace

Command AddUninstallCommand(CLI::App& root) {
  auto flags = std::make_shared<UninstallFlags>();
  CLI::App* app = root.add_subcommand("uninstall", "Delete what ferry install installed");
  app->footer(
      "Reads the inventory ferry install keeps in the ferry-system namespace and deletes those\n"
      "objects in reverse order: custom resources and webhook configurations first, then workloads,\n"
      "then configuration, then the namespaces (waiting until they finish terminating, and saying\n"
      "which pods hold one and how long their grace period runs), then the\n"
      "inventory. CRDs stay unless --delete-crds: deleting a CRD deletes every object of its kind,\n"
      "your Knative Services included.\n\n"
      "Examples:\n"
      "  ferry uninstall\n"
      "  ferry uninstall --context kind-knative --delete-crds\n"
      "  ferry uninstall --force    # do not wait out the pods' termination grace periods");
  AddKubeFlags(app, &flags->kube);
  app->add_flag("--delete-crds", flags->delete_crds, "Also delete the CRDs (and every custom resource of their kinds)");
  app->add_flag("--dry-run", flags->dry_run, "Send the deletes with dryRun=All: nothing is deleted");
  app->add_flag("--force", flags->force,
                "Delete the pods that keep a namespace terminating with grace period 0 (Knative's activator asks "
                "for 600 s)");
  app->add_option("--timeout", flags->timeout, "Give up after this long (default 10m)");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunUninstallCommand(*flags); }};
}

}  // namespace ferry::cli
