// The self-test's steps, in the order a user would run them by hand after an install.
#include "selftest/selftest_run.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <optional>
#include <thread>

#include "common/base64.h"
#include "common/http_client.h"
#include "installer/airgap_fixes.h"
#include "selftest/gateway_finder.h"
#include "selftest/load_generator.h"
#include "selftest/revision_pods.h"
#include "selftest/sample_deploy.h"

namespace ferry::selftest {
namespace {

// Why helloworld, under autoscale's load, needed fewer pods or as many: the pod counts are shown,
// not asserted, so the note must fit what was measured.
std::string HelloworldNote(int hello_peak, int autoscale_peak) {
  std::string counts = "same load, not asserted: helloworld peaked at " + std::to_string(hello_peak) +
                       " pods, autoscale at " + std::to_string(autoscale_peak) + ". ";
  if (hello_peak < autoscale_peak)
    return counts + "helloworld answers in microseconds, so each request spends only a small part of its round "
                    "trip in the pod, where the autoscaler counts concurrency; autoscale's requests stay there "
                    "for over 100 ms each, so nearly all of the clients' requests count";
  return counts + "Here the autoscaler counted helloworld's requests as in flight for most of their round trip "
                  "(through the gateway), so its fast answers did not lower the concurrency it saw; where "
                  "concurrency is counted only inside the pod, helloworld needs fewer pods than autoscale";
}

using nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kTarget = 10;  // autoscaling.knative.dev/target in both samples
constexpr const char* kAutoscaleQuery = "/?sleep=100&prime=10000&bloat=5";

double SecondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string Seconds(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

// Counts a revision's ready pods on its own thread while load runs, so the load loop never waits
// on the API server; `peak` and `last` are read by the loop's window callback.
class PodSampler {
 public:
  PodSampler(installer::KubeClient& client, std::string ns, std::string revision, std::chrono::milliseconds every)
      : thread_([this, &client, ns, revision, every](std::stop_token stop) {
          while (!stop.stop_requested()) {
            if (installer::KubeResult<PodCount> count = CountRevisionPods(client, ns, revision); count.ok()) {
              last_ = count->ready;
              if (count->ready > peak_) peak_ = count->ready;
              if (count->present > 0 && !first_present_) first_present_ = SecondsSince(start_);
              if (count->ready > 0 && !first_ready_) first_ready_ = SecondsSince(start_);
            }
            std::this_thread::sleep_for(every);
          }
        }) {}
  int last() const { return last_; }
  int peak() const { return peak_; }
  // Seconds since construction at which a pod first existed / was first ready (0: not seen).
  double first_present() const { return first_present_; }
  double first_ready() const { return first_ready_; }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  Clock::time_point start_ = Clock::now();
  std::atomic<int> last_{0}, peak_{0};
  std::atomic<double> first_present_{0}, first_ready_{0};
  std::jthread thread_;
};

class Selftest {
 public:
  Selftest(installer::KubeClient& client, const SelftestOptions& options, const SelftestProgress& progress)
      : client_(client), options_(options), progress_(progress) {
    report_.ferry_version = FERRY_VERSION;
    report_.ns = options.ns;
  }

  SelftestReport Run() {
    Result<std::string> api_version = ServedServiceApiVersion(client_);
    if (!Check("Knative Serving serves Services", api_version.ok(), "serving.knative.dev/v1 or v1alpha1 Service",
               api_version.ok() ? *api_version : "neither served",
               api_version.ok() ? "" : api_version.status().message()))
      return std::move(report_);
    if (!EnsureNamespace() || !EnsurePullSecret()) return std::move(report_);
    hello_ = Deploy("helloworld", *api_version, options_.hello_image);
    if (!serving_down_) autoscale_ = Deploy("autoscale", *api_version, options_.autoscale_image);
    if (hello_ || autoscale_) {
      Step("finding the gateway");
      Result<ReportGateway> gateway = FindGateway(client_, options_.gateway);
      if (Check("the ingress gateway has an address", gateway.ok(), "a LoadBalancer, NodePort or --gateway address",
                gateway.ok() ? gateway->address : "none", gateway.ok() ? "" : gateway.status().message())) {
        report_.gateway = *gateway;
        if (hello_ && ProbeHello() && ScaleToZero()) ColdStart();
        if (autoscale_) Autoscale();
      }
    }
    CleanUp();
    return std::move(report_);
  }

 private:
  void Step(const std::string& line) {
    if (progress_) progress_(line);
  }

  bool Check(const std::string& name, bool passed, std::string expected, std::string seen, std::string hint) {
    report_.checks.push_back({name, passed, std::move(expected), std::move(seen), passed ? "" : std::move(hint)});
    return passed;
  }

  bool EnsureNamespace() {
    installer::KubeResult<installer::ResourceRef> ref = client_.Resolve("v1", "Namespace");
    if (ref.ok()) {
      installer::KubeResult<json> existing = client_.Get(*ref, "", options_.ns);
      if (existing.ok()) return true;
      json ns = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", options_.ns}}}};
      installer::KubeResult<json> made = client_.Apply(*ref, "", ns);
      if (made.ok()) {
        created_namespace_ = true;
        return true;
      }
      return Check("namespace " + options_.ns + " exists", false, "namespace created", "not created",
                   made.error().ToString());
    }
    return Check("namespace " + options_.ns + " exists", false, "namespace created", "not created",
                 ref.error().ToString());
  }

  // The mirror's credentials, for a registry that does not allow anonymous pulls.
  bool EnsurePullSecret() {
    if (options_.pull_secret.empty()) return true;
    json secret = {{"apiVersion", "v1"},
                   {"kind", "Secret"},
                   {"metadata", {{"name", installer::kPullSecretName}, {"namespace", options_.ns}}},
                   {"type", "kubernetes.io/dockerconfigjson"},
                   {"data", {{".dockerconfigjson", Base64Encode(options_.pull_secret)}}}};
    installer::KubeResult<installer::ResourceRef> ref = client_.Resolve("v1", "Secret");
    installer::KubeResult<json> made = ref.ok() ? client_.Apply(*ref, options_.ns, secret)
                                                : installer::KubeResult<json>(ref.error());
    return Check(std::string("image pull secret ") + installer::kPullSecretName + " exists", made.ok(), "secret applied",
                 made.ok() ? "applied" : "not applied", made.ok() ? "" : made.error().ToString());
  }

  std::optional<DeployedSample> Deploy(const std::string& sample, const std::string& api_version,
                                       const std::string& image) {
    Result<json> service = SampleService(sample, api_version, options_.ns, image);
    if (!Check("sample " + sample + " prepared", service.ok(), "a " + api_version + " Service", "none",
               service.ok() ? "" : service.status().message()))
      return std::nullopt;
    if (!options_.pull_secret.empty())
      (*service)["spec"]["template"]["spec"]["imagePullSecrets"] = json::array({{{"name", installer::kPullSecretName}}});
    const std::string name = (*service)["metadata"]["name"];
    deployed_.push_back({name, (*service)["apiVersion"].get<std::string>()});
    if (sample == "helloworld") hello_target_ = SampleTarget(*service);
    Step("deploying " + name + " (" + SampleImage(*service) + ")");
    Result<DeployedSample> deployed = DeploySample(
        client_, *service,
        {.ready = options_.ready_timeout, .reconcile = options_.reconcile_timeout, .poll_interval = options_.poll_interval});
    std::string hint;
    if (!deployed.ok() && deployed.status().code() == StatusCode::kFailedPrecondition) {
      // Nothing reconciles Knative Services: the other sample would only wait as long again.
      serving_down_ = true;
      hint = "Knative Serving's controller pods: " + KnativeControllerPods(client_) +
             "; they must be Knative's own controller (kubectl -n knative-serving logs deploy/controller)";
    } else if (!deployed.ok()) {
      hint = DiagnoseServicePods(client_, options_.ns, name);
      if (hint.empty()) hint = "kubectl -n " + options_.ns + " describe ksvc " + name;
    }
    if (!Check(name + " is Ready", deployed.ok(), "Ready=True within " + Seconds(options_.ready_timeout.count() / 1000.0),
               deployed.ok() ? "Ready, revision " + deployed->revision : deployed.status().message(), hint))
      return std::nullopt;
    return *deployed;
  }

  std::string Url(const std::string& path) const { return "http://" + report_.gateway.address + path; }

  // Step 3: helloworld through the gateway, with its host name in the Host header.
  bool ProbeHello() {
    Step("probing " + hello_->host + " through " + report_.gateway.address);
    HttpClient http;
    HttpRequest request;
    request.url = Url("/");
    request.headers = {"Host: " + hello_->host};
    request.timeout = std::chrono::seconds(30);
    Result<HttpResponse> response = http.Send(request);
    last_request_ = Clock::now();
    const std::string want = "Hello " + hello_target_ + "!";
    std::string body = response.ok() ? response->body : "";
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    bool passed = response.ok() && response->status == 200 && body == want;
    std::string seen = response.ok() ? "status " + std::to_string(response->status) + ", body \"" + body.substr(0, 200) + "\""
                                     : response.status().message();
    std::string hint = response.ok() ? DiagnoseServicePods(client_, options_.ns, hello_->name)
                                     : "is " + report_.gateway.address + " (" + report_.gateway.how +
                                           ") reachable from here? try --gateway HOST:PORT";
    if (!passed && hint.empty()) hint = "the gateway's routes for " + hello_->host + " (kubectl get ksvc,route -n " + options_.ns + ")";
    return Check("helloworld answers through the gateway", passed, "status 200, body \"" + want + "\"", seen, hint);
  }

  // Step 4: the revision's pods all go away after the last request.
  bool ScaleToZero() {
    Step("waiting for " + hello_->revision + " to scale to zero");
    auto deadline = last_request_ + options_.scale_to_zero_timeout;
    PodCount count;
    while (true) {
      installer::KubeResult<PodCount> now = CountRevisionPods(client_, options_.ns, hello_->revision);
      if (now.ok()) count = *now;
      if (now.ok() && count.present == 0) break;
      if (Clock::now() >= deadline)
        return Check("helloworld scales to zero", false,
                     "no pods of " + hello_->revision + " within " + Seconds(options_.scale_to_zero_timeout.count() / 1000.0) +
                         " of the last request",
                     std::to_string(count.present) + " pod(s) still there",
                     "config-autoscaler in knative-serving: enable-scale-to-zero, scale-to-zero-grace-period, "
                     "stable-window; and anything still sending requests to " + hello_->host);
      std::this_thread::sleep_for(options_.poll_interval);
    }
    report_.scale_to_zero = {true, SecondsSince(last_request_)};
    return Check("helloworld scales to zero", true, "", Seconds(report_.scale_to_zero.seconds_after_last_request) +
                 " after the last request", "");
  }

  // Step 5: the first request from zero, timed, with when the pod appeared and became ready.
  void ColdStart() {
    Step("cold start: first request to " + hello_->host + " from zero pods");
    PodSampler sampler(client_, options_.ns, hello_->revision, std::chrono::milliseconds(10));
    LoadOptions load;
    load.url = Url("/");
    load.host = hello_->host;
    load.concurrency = 1;
    load.requests = 1;
    load.timeout = std::chrono::seconds(120);
    Result<LoadResult> result = RunLoad(load);
    sampler.Stop();
    bool ok = result.ok() && result->status_codes.count(200) == 1 && result->status_codes.at(200) == 1;
    if (result.ok()) {
      ColdStartResult& cold = report_.cold_start;
      cold.measured = ok;
      cold.connect_seconds = result->connect.MeanSeconds();
      cold.first_byte_seconds = result->queued.MeanSeconds() + result->wait.MeanSeconds();
      cold.total_seconds = cold.first_byte_seconds + result->read.MeanSeconds();
      cold.timeline = {{"request sent", 0}, {"connected", cold.connect_seconds}};
      // Pods are seen by polling, so a moment observed only after the answer arrived says nothing.
      const double total = result->total_seconds > 0 ? result->total_seconds : cold.first_byte_seconds;
      if (sampler.first_present() > 0 && sampler.first_present() <= total)
        cold.timeline.push_back({"pod created", sampler.first_present()});
      if (sampler.first_ready() > 0 && sampler.first_ready() <= total)
        cold.timeline.push_back({"pod ready", sampler.first_ready()});
      cold.timeline.push_back({"first byte", cold.first_byte_seconds});
      cold.timeline.push_back({"response complete", cold.total_seconds});
    }
    std::string seen = !result.ok() ? result.status().message() : Describe(*result);
    Check("cold start from zero succeeds", ok, "status 200", ok ? Seconds(report_.cold_start.total_seconds) + " total" : seen,
          ok ? "" : DiagnoseServicePods(client_, options_.ns, hello_->name));
  }

  static std::string Describe(const LoadResult& result) {
    std::string out;
    for (const auto& [code, n] : result.status_codes) out += (out.empty() ? "" : ", ") + std::to_string(n) + "x status " + std::to_string(code);
    for (const auto& [error, n] : result.errors) out += (out.empty() ? "" : ", ") + std::to_string(n) + "x " + error;
    return out.empty() ? "no answer" : out;
  }

  // One load phase against `sample`, sampling its pods each window.
  LoadPhase Load(const DeployedSample& sample, const std::string& phase, const std::string& path) {
    Step("load " + phase + ": " + std::to_string(options_.concurrency) + " concurrent for " +
         Seconds(options_.duration.count() / 1000.0));
    LoadPhase out{phase, Url(path), options_.concurrency, options_.duration.count() / 1000.0, kTarget, 0, "", {}};
    PodSampler sampler(client_, options_.ns, sample.revision, options_.poll_interval);
    LoadOptions load;
    load.url = out.url;
    load.host = sample.host;
    load.concurrency = options_.concurrency;
    load.duration = options_.duration;
    load.timeout = std::chrono::seconds(60);
    load.on_window = [&](const LoadWindow& window) { out.series.push_back(SeriesPointFromWindow(window, sampler.last())); };
    Result<LoadResult> result = RunLoad(load);
    sampler.Stop();
    out.peak_pods = sampler.peak();
    if (!result.ok()) out.note = "load could not run: " + result.status().message();
    return out;
  }

  // Waits until the revision has fewer ready pods than `peak`.
  bool ScalesDown(const DeployedSample& sample, int peak, int* seen) {
    auto deadline = Clock::now() + options_.scale_to_zero_timeout;
    while (true) {
      installer::KubeResult<PodCount> count = CountRevisionPods(client_, options_.ns, sample.revision);
      if (count.ok()) *seen = count->ready;
      if (count.ok() && count->ready < peak) return true;
      if (Clock::now() >= deadline) return false;
      std::this_thread::sleep_for(options_.poll_interval);
    }
  }

  // Step 6: autoscale must scale out to ~concurrency/target and back; helloworld is shown beside it.
  void Autoscale() {
    LoadPhase phase = Load(*autoscale_, "autoscale", kAutoscaleQuery);
    const int wanted_full = (options_.concurrency + kTarget - 1) / kTarget;
    const int wanted = static_cast<int>(std::ceil(0.8 * wanted_full));
    phase.note = "each request sleeps 100 ms, finds primes below 10000 and allocates 5 MiB, so " +
                 std::to_string(options_.concurrency) + " concurrent clients keep about that many requests in "
                 "flight and the autoscaler wants ceil(" + std::to_string(options_.concurrency) + "/" +
                 std::to_string(kTarget) + ") = " + std::to_string(wanted_full) + " pods";
    const int peak = phase.peak_pods;
    report_.phases.push_back(phase);
    Check("autoscale scales out under load", peak >= wanted,
          "at least " + std::to_string(wanted) + " pods (80% of " + std::to_string(wanted_full) + ")",
          std::to_string(peak) + " pods at the peak",
          "the autoscaler's logs (knative-serving/autoscaler) and config-autoscaler; " +
              DiagnoseServicePods(client_, options_.ns, autoscale_->name));
    if (peak > 0) {
      int now = peak;
      bool down = ScalesDown(*autoscale_, peak, &now);
      Check("autoscale scales back down after the load", down,
            "fewer than " + std::to_string(peak) + " pods within " + Seconds(options_.scale_to_zero_timeout.count() / 1000.0),
            std::to_string(now) + " pods", "config-autoscaler: stable-window, scale-down-delay");
    }
    if (hello_) {
      LoadPhase hello = Load(*hello_, "helloworld", "/");
      hello.note = HelloworldNote(hello.peak_pods, peak);
      report_.phases.push_back(hello);
    }
  }

  // Step 7: delete what the self-test made, unless --keep.
  void CleanUp() {
    if (options_.keep) return;
    Step("cleaning up namespace " + options_.ns);
    for (const auto& [name, api_version] : deployed_) {
      installer::KubeResult<installer::ResourceRef> ref = client_.Resolve(api_version, "Service");
      if (ref.ok()) (void)client_.Delete(*ref, options_.ns, name);
    }
    if (created_namespace_)
      if (installer::KubeResult<installer::ResourceRef> ref = client_.Resolve("v1", "Namespace"); ref.ok())
        (void)client_.Delete(*ref, "", options_.ns);
  }

  installer::KubeClient& client_;
  const SelftestOptions& options_;
  const SelftestProgress& progress_;
  SelftestReport report_;
  std::optional<DeployedSample> hello_, autoscale_;
  std::string hello_target_;
  std::vector<std::pair<std::string, std::string>> deployed_;  // name, apiVersion
  bool created_namespace_ = false;
  bool serving_down_ = false;  // a sample got no status at all: Knative Serving is not running
  Clock::time_point last_request_ = Clock::now();
};

}  // namespace

SelftestReport RunSelftest(installer::KubeClient& client, const SelftestOptions& options,
                           const SelftestProgress& progress) {
  return Selftest(client, options, progress).Run();
}

}  // namespace ferry::selftest
