// ferry install: Knative Serving from the mirror in one command. Rewrites the profile's release
// files to the mirror, checks before touching the cluster, applies in dependency waves with
// retries, waits for readiness, records an inventory, and says exactly what is wrong when it
// cannot finish.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "cli/duration_flag.h"
#include "cli/install_printer.h"
#include "cli/install_release.h"
#include "cli/kube_flags.h"
#include "cli/selftest_command.h"
#include "installer/install_run.h"
#include "installer/preflight.h"
#include "mirror/registry_pool.h"
#include "selftest/report_text.h"
#include "selftest/sample_push.h"

namespace ferry::cli {
namespace {

struct InstallFlags {
  ReleaseFlags release;
  KubeFlags kube;
  std::string timeout = "10m";
  bool dry_run = false, plan = false, skip_preflight = false, no_wait_load_balancer = false;
  bool selftest = false;
  std::string report_dir, samples_to, selftest_duration = "30s";
  int concurrency = 8;
  OutputFormat output = OutputFormat::kText;
};

int PrintPlan(const InstallFlags& flags, const PreparedRelease& release) {
  if (flags.output == OutputFormat::kJson) {
    nlohmann::json plan = installer::RenderPlanJson(release.plan);
    plan["profile"] = release.name;
    plan["version"] = release.version;
    plan["notes"] = release.notes;
    std::printf("%s\n", plan.dump(2).c_str());
  } else {
    std::printf("%s %s: %zu waves\n", release.name.c_str(), release.version.c_str(), release.plan.waves.size());
    for (const std::string& note : release.notes) std::printf("air-gap: %s\n", note.c_str());
    std::printf("%s", installer::RenderPlanText(release.plan).c_str());
  }
  return kExitSuccess;
}

installer::KubeClientOptions ClientOptions() {
  installer::KubeClientOptions options;
  // The installer retries around each apply within the install's deadline; a single call
  // gives up sooner so that a webhook that is not up yet is asked again promptly.
  options.retry.max_attempts = 4;
  options.retry.base_delay = std::chrono::milliseconds(200);
  options.retry.max_delay = std::chrono::milliseconds(2000);
  options.default_timeout = std::chrono::seconds(30);
  return options;
}

Status CheckSelftestFlags(const InstallFlags& flags) {
  if (!flags.selftest) {
    if (!flags.report_dir.empty() || !flags.samples_to.empty())
      return InvalidArgument(std::string(flags.report_dir.empty() ? "--samples-to" : "--report") + " needs --selftest");
    return Status::Ok();
  }
  if (flags.plan || flags.dry_run)
    return InvalidArgument(std::string("--selftest needs a real install, not ") + (flags.plan ? "--plan" : "--dry-run"));
  return ParseDuration(flags.selftest_duration, "--selftest-duration").status();
}

// Where the sample images go: --samples-to, else the mirror's namespace (--to, or the lock's).
Result<ImageReference> SamplesNamespace(const InstallFlags& flags, const PreparedRelease& release) {
  const std::string& text = flags.samples_to.empty() ? release.mirror_namespace : flags.samples_to;
  if (text.empty())
    return InvalidArgument("--selftest: the lock's images share no registry namespace to push the sample images "
                           "under; say where with --samples-to REGISTRY/NAMESPACE");
  Result<ImageReference> ns = ParseSampleNamespace(text);
  if (!ns.ok()) return ns.status().WithContext(flags.samples_to.empty() ? "--selftest" : "--samples-to");
  return ns;
}

// After a successful install: the sample images ferry carries, pushed to the mirror and pinned by
// digest, then the self-test with them. Its exit code is the command's.
int RunSelftestAfterInstall(const InstallFlags& flags, const PreparedRelease& release, const ImageReference& ns,
                            installer::KubeClient& client, InstallPrinter& printer) {
  // The copy engine retries each step itself; its clients must not retry again inside (36 tries).
  RegistryPool registries(CopyRegistryOptions(nullptr, &release.registry_flags));
  Result<std::vector<PushedSample>> pushed = PushSampleImages(ns, "latest", registries);
  if (!pushed.ok()) return ReportError(pushed.status().WithContext("pushing the sample images for the self-test"));
  selftest::SelftestOptions options;
  options.pull_secret = release.pull_secret;
  options.duration = *ParseDuration(flags.selftest_duration, "--selftest-duration");  // checked before the install
  for (const PushedSample& sample : *pushed) {
    std::string pinned = sample.image.Name() + "@" + sample.image.digest;
    (sample.name == "helloworld" ? options.hello_image : options.autoscale_image) = pinned;
    printer.Emit({"sample", "sample image " + pinned, {{"name", sample.name}, {"image", pinned}}});
  }
  SelftestOutcome outcome = RunSelftestWithReport(client, options, flags.report_dir);
  if (flags.output == OutputFormat::kJson) {
    nlohmann::json report = selftest::ToJson(outcome.report);
    report["ok"] = outcome.report.Passed();
    printer.Emit({"selftest", outcome.report.Passed() ? "self-test passed" : "self-test failed", report});
  } else {
    std::fputs(selftest::FormatReportText(outcome.report).c_str(), stdout);
  }
  if (!outcome.written.ok()) return ReportError(outcome.written);
  if (!flags.report_dir.empty() && flags.output == OutputFormat::kText)
    std::printf("report:          %s/report.html\n", flags.report_dir.c_str());
  return outcome.report.Passed() ? kExitSuccess : kExitFailure;
}

// How the release came to the mirror, as `ferry mirror` and `ferry bundle load` would be told it.
installer::MirrorHint MirrorHintOf(const ReleaseFlags& flags, const PreparedRelease& release) {
  installer::MirrorHint hint{.ns = release.mirror_namespace};
  if (!flags.manifests.profile.empty()) {
    hint.release = "--profile " + flags.manifests.profile;
  } else {
    for (const std::string& file : flags.manifests.files) hint.release += (hint.release.empty() ? "-f " : " -f ") + file;
  }
  if (flags.naming.naming != NamingFlags{}.naming) hint.naming = " --naming " + flags.naming.naming;
  if (!flags.naming.pattern.empty()) hint.naming += " --template '" + flags.naming.pattern + "'";
  return hint;
}

int RunInstallCommand(const InstallFlags& flags) {
  Result<std::chrono::milliseconds> timeout = ParseDuration(flags.timeout, "--timeout");
  if (!timeout.ok()) return ReportError(timeout.status());
  if (flags.concurrency < 1) return ReportError(InvalidArgument("--concurrency must be at least 1"));
  if (Status s = CheckSelftestFlags(flags); !s.ok()) return ReportError(s);
  Result<PreparedRelease> release = PrepareRelease(flags.release, /*need_mirror=*/!flags.plan);
  if (!release.ok()) return ReportError(release.status());
  if (flags.plan) return PrintPlan(flags, *release);
  Result<ImageReference> samples_ns = ImageReference{};
  if (flags.selftest) samples_ns = SamplesNamespace(flags, *release);
  if (!samples_ns.ok()) return ReportError(samples_ns.status());

  Result<installer::ClusterConfig> config = LoadKubeFlags(flags.kube);
  if (!config.ok()) return ReportError(config.status());
  std::unique_ptr<installer::KubeClient> client = installer::MakeKubeClient(*config, ClientOptions());
  InstallPrinter printer(flags.output);
  const auto start = std::chrono::steady_clock::now();
  printer.Emit({"start",
                "installing " + release->name + " " + release->version + " into " + config->server +
                    (flags.dry_run ? " (dry run: nothing is stored)" : ""),
                {{"profile", release->name}, {"version", release->version}, {"server", config->server},
                 {"dryRun", flags.dry_run}}});
  for (const std::string& note : release->notes) printer.Emit({"note", "air-gap: " + note, {{"note", note}}});

  if (!flags.skip_preflight) {
    TaskPool pool(flags.concurrency);
    std::vector<installer::ManifestObject> objects;
    for (const installer::ApplyWave& wave : release->plan.waves)
      objects.insert(objects.end(), wave.objects.begin(), wave.objects.end());
    installer::PreflightOptions options{
        .images = release->images,
        .hint = MirrorHintOf(flags.release, *release),
        .registry = release->registry_options,
        .networking_layer = release->profile ? release->profile->networking_layer : "",
        .networking_preinstalled = release->profile && release->profile->networking_preinstalled,
        .deadline = std::chrono::steady_clock::now() + std::min(*timeout, std::chrono::milliseconds(120000))};
    installer::PreflightReport report = installer::RunPreflight(*client, pool, objects, options, printer);
    if (!report.ok()) {
      for (const std::string& problem : report.problems) std::fprintf(stderr, "ferry: preflight: %s\n", problem.c_str());
      if (!report.advice.empty()) std::fprintf(stderr, "ferry: preflight: %s\n", report.advice.c_str());
      return ReportError(InvalidArgument("preflight found " + std::to_string(report.problems.size()) +
                                         " problem(s); nothing was applied"));
    }
  }

  installer::InstallOptions options{.profile = release->name, .version = release->version, .timeout = *timeout,
                                    .dry_run = flags.dry_run, .concurrency = flags.concurrency,
                                    .wait_for_load_balancer = !flags.no_wait_load_balancer};
  Result<installer::InstallSummary> summary = installer::RunInstall(*client, release->plan, options, printer);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!summary.ok()) {
    printer.Emit({"done", "install failed after " + std::to_string(static_cast<int>(seconds)) + "s",
                  {{"ok", false}, {"error", summary.status().message()}, {"seconds", seconds}}});
    return ReportError(summary.status());
  }
  char counts[200];
  std::snprintf(counts, sizeof counts, "%d created, %d configured, %d unchanged, %d pruned%s", summary->created,
                summary->configured, summary->unchanged, summary->pruned,
                summary->skipped ? (", " + std::to_string(summary->skipped) + " skipped").c_str() : "");
  std::string text = summary->changed() || flags.dry_run
                         ? std::string(flags.dry_run ? "dry run of " : "installed ") + release->name + " " +
                               release->version + " in " + std::to_string(static_cast<int>(seconds + 0.5)) + "s: " + counts
                         : release->name + " " + release->version + " unchanged: all " +
                               std::to_string(summary->unchanged) + " objects already as wanted, everything ready";
  printer.Emit({"done", text,
                {{"ok", true}, {"created", summary->created}, {"configured", summary->configured},
                 {"unchanged", summary->unchanged}, {"pruned", summary->pruned}, {"skipped", summary->skipped},
                 {"changed", summary->changed()}, {"seconds", seconds}}});
  if (flags.selftest) return RunSelftestAfterInstall(flags, *release, *samples_ns, *client, printer);
  return kExitSuccess;
}

}  // namespace

Command AddInstallCommand(CLI::App& root) {
  auto flags = std::make_shared<InstallFlags>();
  CLI::App* app = root.add_subcommand("install", "Install Knative Serving from the mirror into a cluster");
  app->footer(
      "Rewrites the profile's release files to the mirror in memory, checks the cluster, your\n"
      "access and every image at the mirror (preflight), then applies in waves: namespaces and\n"
      "CRDs; configuration and RBAC; workloads; webhooks and custom resources; the rest. It waits\n"
      "for CRDs, the webhook Deployments and finally everything, retrying what fails only for a\n"
      "moment (webhooks starting, kinds just created, 429, 5xx, cut connections). Air-gap fixes:\n"
      "an image pull secret in every namespace, the mirror skipping tag resolution (or its CA with\n"
      "--registry-ca), --domain, the ingress class. What was applied is recorded in ferry-system;\n"
      "running install again reports \"unchanged\", a newer profile prunes what it no longer has.\n"
      "On a timeout it prints why each workload is not ready (ImagePullBackOff with the image,\n"
      "CrashLoopBackOff with its last log lines, Pending) and recent Warning events.\n"
      "The gateway's LoadBalancer Service is ready once it has an address; on a cluster with no\n"
      "load-balancer controller (kind, bare metal) pass --no-wait-load-balancer and reach the\n"
      "gateway through its NodePort (ferry selftest finds it).\n"
      "--selftest then pushes the sample apps ferry carries to the mirror (under --to's namespace, the\n"
      "lock's, or --samples-to) and runs ferry selftest with them: one command, one exit code.\n\n"
      "Examples:\n"
      "  ferry install --profile knative-1.23-kourier --manifests-dir release/ --lock images.lock\n"
      "  ferry install --profile knative-1.23-kourier --bundle knative.tar --to harbor.local/knative --domain example.com\n"
      "  ferry install --profile knative-1.23-kourier --manifests-dir release/ --lock images.lock --no-wait-load-balancer\n"
      "  ferry install --profile knative-1.23-kourier --manifests-dir release/ --plan\n"
      "  ferry install --profile knative-1.23-kourier --bundle knative.tar.zst --to harbor.local/knative --selftest --report ./selftest");
  AddReleaseFlags(app, &flags->release);
  AddKubeFlags(app, &flags->kube);
  app->add_option("--timeout", flags->timeout, "Give up after this long, waits included (default 10m)");
  app->add_flag("--dry-run", flags->dry_run, "Send every apply with dryRun=All: validated and admitted, nothing stored");
  app->add_flag("--plan", flags->plan, "Print the waves and what is waited for; no cluster needed");
  app->add_flag("--skip-preflight", flags->skip_preflight, "Apply without the checks (access, kinds, images at the mirror)");
  app->add_flag("--no-wait-load-balancer", flags->no_wait_load_balancer,
                "Count a LoadBalancer Service without an address as ready (no load-balancer controller)");
  app->add_option("--concurrency", flags->concurrency, "Objects applied at once inside a wave (default 8)");
  app->add_flag("--selftest", flags->selftest,
                "After the install, push the sample images to the mirror and run the self-test (ferry selftest)");
  app->add_option("--report", flags->report_dir, "With --selftest: write report.json and report.html into this directory");
  app->add_option("--selftest-duration", flags->selftest_duration,
                  "With --selftest: length of each load phase (default 30s, as ferry selftest --duration)");
  app->add_option("--samples-to", flags->samples_to,
                  "With --selftest: push the sample images under this REGISTRY/NAMESPACE (default: the mirror's)");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunInstallCommand(*flags); }};
}

}  // namespace ferry::cli
