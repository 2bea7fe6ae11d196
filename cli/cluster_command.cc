// ferry cluster info: which cluster, which version, who we are there, and whether Knative Serving,
// Istio and Kourier are already installed. The first thing to run when an install fails.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/kube_flags.h"
#include "common/strings.h"
#include "installer/cluster_info.h"

namespace ferry::cli {
namespace {

struct ClusterInfoFlags {
  KubeFlags kube;
  OutputFormat output = OutputFormat::kText;
};

const char* DisplayName(const std::string& component) {
  if (component == "knative-serving") return "Knative Serving";
  if (component == "istio") return "Istio";
  if (component == "kourier") return "Kourier";
  return component.c_str();
}

void PrintText(const installer::ClusterInfo& info) {
  std::string version = info.git_version.empty() ? "version unknown" : "Kubernetes " + info.git_version;
  if (!info.platform.empty()) version += ", " + info.platform;
  std::printf("%-17s %s (%s)\n", "Server:", info.server.c_str(), version.c_str());
  std::printf("%-17s %s\n", "Context:", info.context.empty() ? "(in-cluster)" : info.context.c_str());
  if (!info.source.empty()) std::printf("%-17s %s\n", "Config:", info.source.c_str());
  if (info.identity.served) {
    std::string groups = info.identity.groups.empty() ? "" : " (groups: " + Join(info.identity.groups, ", ") + ")";
    std::printf("%-17s %s%s\n", "Identity:", info.identity.username.c_str(), groups.c_str());
  } else {
    std::printf("%-17s %s\n", "Identity:", info.identity.note.c_str());
  }
  std::printf("%-17s %s\n", "Namespace:", info.default_namespace.c_str());
  for (const installer::ComponentInfo& c : info.components) {
    std::string line = installer::ComponentStateName(c.state);
    if (!c.version.empty()) line += " " + c.version;
    if (!c.found.empty()) line += " (" + Join(c.found, ", ") + ")";
    if (!c.note.empty()) line += " (" + c.note + ")";
    std::printf("%-17s %s\n", (std::string(DisplayName(c.name)) + ":").c_str(), line.c_str());
  }
}

int RunClusterInfo(const ClusterInfoFlags& flags) {
  Result<installer::ClusterConfig> config = LoadKubeFlags(flags.kube);
  if (!config.ok()) return ReportError(config.status());
  installer::KubeClientOptions options;
  options.default_timeout = std::chrono::seconds(30);
  options.retry.max_attempts = 3;  // a diagnosis should answer quickly, not retry for minutes
  std::unique_ptr<installer::KubeClient> client = installer::MakeKubeClient(*config, options);
  installer::KubeResult<installer::ClusterInfo> info = installer::GatherClusterInfo(*client);
  if (!info.ok()) {
    Status failure = info.error().ToStatus();
    return ReportError(Status(failure.code(), installer::ClusterFailureReason(info.error(), *config)));
  }
  if (flags.output == OutputFormat::kJson) {
    std::printf("%s\n", installer::ClusterInfoJson(*info).dump(2).c_str());
  } else {
    PrintText(*info);
  }
  return kExitSuccess;
}

}  // namespace

Command AddClusterInfoCommand(CLI::App& root) {
  auto flags = std::make_shared<ClusterInfoFlags>();
  std::vector<CLI::App*> existing = root.get_subcommands([](CLI::App* app) { return app->get_name() == "cluster"; });
  CLI::App* cluster = existing.empty() ? root.add_subcommand("cluster", "Look at the cluster ferry installs into")
                                       : existing.front();
  cluster->require_subcommand(1);
  CLI::App* app = cluster->add_subcommand("info", "Show the server, its version, who you are there, and what is installed");
  app->footer(
      "Talks to the Kubernetes API the way kubectl does (kubeconfig, context, namespace). Reports\n"
      "the server's version, the identity it sees (SelfSubjectReview), the default namespace, and\n"
      "whether Knative Serving, Istio and Kourier are installed. Exits non-zero with a one-line\n"
      "reason when the server is unreachable, its certificate does not verify, or it refuses us.\n\n"
      "Example:\n"
      "  ferry cluster info --context kind-knative --output json");
  AddKubeFlags(app, &flags->kube);
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunClusterInfo(*flags); }};
}

}  // namespace ferry::cli
