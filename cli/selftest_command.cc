// ferry selftest: after an install, deploy the two classic samples and prove serving works:
// through the gateway, scale to zero, cold start, autoscaling. Prints a summary; --report DIR
// also writes report.json and a self-contained report.html.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/selftest_command.h"

#include "cli/command.h"
#include "cli/duration_flag.h"
#include "cli/kube_flags.h"
#include "selftest/report_html.h"
#include "selftest/report_text.h"

namespace ferry::cli {
namespace {

struct SelftestFlags {
  KubeFlags kube;
  selftest::SelftestOptions options;
  std::string report_dir;
  std::string duration = "30s";
  std::string ready_timeout = "5m";
  std::string scale_to_zero_timeout = "120s";
};

Status ParseDurations(SelftestFlags& flags) {
  struct {
    const std::string& text;
    const char* flag;
    std::chrono::milliseconds* out;
  } durations[] = {{flags.duration, "--duration", &flags.options.duration},
                   {flags.ready_timeout, "--ready-timeout", &flags.options.ready_timeout},
                   {flags.scale_to_zero_timeout, "--scale-to-zero-timeout", &flags.options.scale_to_zero_timeout}};
  for (auto& d : durations) {
    Result<std::chrono::milliseconds> parsed = ParseDuration(d.text, d.flag);
    if (!parsed.ok()) return parsed.status();
    *d.out = *parsed;
  }
  if (flags.options.concurrency < 1) return InvalidArgument("--concurrency: must be at least 1");
  return Status::Ok();
}

Status WriteReport(const std::string& dir, const selftest::SelftestReport& report) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return IoError("create report directory " + dir + ": " + error.message());
  FERRY_RETURN_IF_ERROR(WriteFileAtomically(dir + "/report.json", selftest::ToJson(report).dump(2) + "\n"));
  return WriteFileAtomically(dir + "/report.html", selftest::RenderHtml(report));
}

int RunSelftestCommand(SelftestFlags& flags) {
  if (Status parsed = ParseDurations(flags); !parsed.ok()) return ReportError(parsed);
  Result<installer::ClusterConfig> config = LoadKubeFlags(flags.kube);
  if (!config.ok()) return ReportError(config.status());
  if (!flags.kube.namespace_name.empty()) flags.options.ns = flags.kube.namespace_name;
  installer::KubeClientOptions client_options;
  client_options.default_timeout = std::chrono::seconds(30);
  std::unique_ptr<installer::KubeClient> client = installer::MakeKubeClient(*config, client_options);

  SelftestOutcome outcome = RunSelftestWithReport(*client, flags.options, flags.report_dir);
  std::fputs(selftest::FormatReportText(outcome.report).c_str(), stdout);
  if (!outcome.written.ok()) return ReportError(outcome.written);
  if (!flags.report_dir.empty()) std::printf("report:          %s/report.html\n", flags.report_dir.c_str());
  return outcome.report.Passed() ? kExitSuccess : kExitFailure;
}

}  // namespace

SelftestOutcome RunSelftestWithReport(installer::KubeClient& client, const selftest::SelftestOptions& options,
                                      const std::string& report_dir) {
  SelftestOutcome outcome;
  outcome.report = selftest::RunSelftest(
      client, options, [](const std::string& line) { std::fprintf(stderr, "selftest: %s\n", line.c_str()); });
  if (!report_dir.empty()) outcome.written = WriteReport(report_dir, outcome.report);
  return outcome;
}

Command AddSelftestCommand(CLI::App& root) {
  auto flags = std::make_shared<SelftestFlags>();
  CLI::App* app = root.add_subcommand("selftest", "Deploy the sample apps and check serving, scale to zero and autoscaling");
  app->footer(
      "Deploys the helloworld and autoscale samples into --namespace (default ferry-selftest), finds\n"
      "the ingress gateway (Kourier or Istio LoadBalancer, else a NodePort, else --gateway), checks\n"
      "helloworld answers through it, waits for it to scale to zero, times the cold start, then\n"
      "loads autoscale and helloworld while counting pods. Cleans up unless --keep. Exits 0 only if\n"
      "every check passed; a failed check says what was expected, what was seen, what to look at.\n\n"
      "Example:\n"
      "  ferry selftest --hello-image registry.local/samples/helloworld:latest \\\n"
      "      --autoscale-image registry.local/samples/autoscale:latest --report ./selftest");
  AddKubeFlags(app, &flags->kube);
  selftest::SelftestOptions& o = flags->options;
  app->add_option("--gateway", o.gateway, "Send requests to this HOST:PORT instead of the discovered gateway");
  app->add_option("--hello-image", o.hello_image, "Image of the helloworld sample (default: the upstream one)");
  app->add_option("--autoscale-image", o.autoscale_image, "Image of the autoscale sample (default: the upstream one)");
  app->add_flag("--keep", o.keep, "Leave the samples in place afterwards");
  app->add_option("--report", flags->report_dir, "Write report.json and report.html into this directory");
  app->add_option("--concurrency", o.concurrency, "Concurrent requests in the load phases (default 50)");
  app->add_option("--duration", flags->duration, "Length of each load phase (default 30s)");
  app->add_option("--ready-timeout", flags->ready_timeout, "How long a sample may take to be Ready (default 5m)");
  app->add_option("--scale-to-zero-timeout", flags->scale_to_zero_timeout,
                  "How long pods may take to go away after the last request (default 120s)");
  return {app, [flags] { return RunSelftestCommand(*flags); }};
}

}  // namespace ferry::cli
