// The install order on the real release files: CRDs before their custom resources, namespaces
// before what lives in them, webhooks running before anything they admit, stable Job names, and
// the --plan renderings. Also how release files become objects (manifest_objects.h).
#include "installer/apply_plan.h"

#include <catch2/catch.hpp>
#include <map>

#include "installer/manifest_objects.h"
#include "tests/corpus.h"

using namespace ferry::installer;
using nlohmann::json;

namespace {

std::vector<ManifestObject> Load(std::initializer_list<const char*> names) {
  std::vector<ManifestFile> files;
  for (const char* name : names) files.push_back({name, ferry::ReadFile(ferry::CorpusDir() / name)});
  auto objects = ObjectsOfFiles(files);
  INFO(objects.status().ToString());
  REQUIRE(objects.ok());
  return std::move(objects).value();
}

ApplyPlan Plan(std::vector<ManifestObject> objects, PlanOptions options = {}) {
  auto plan = PlanApply(std::move(objects), options);
  INFO(plan.status().ToString());
  REQUIRE(plan.ok());
  return std::move(plan).value();
}

// Wave index of every object, by key.
std::map<ObjectKey, int> WaveIndex(const ApplyPlan& plan) {
  std::map<ObjectKey, int> index;
  for (size_t i = 0; i < plan.waves.size(); ++i) {
    for (const ManifestObject& o : plan.waves[i].objects) {
      CHECK(o.wave == static_cast<int>(i));
      index[o.key] = static_cast<int>(i);
    }
  }
  return index;
}

const ManifestObject* Find(const ApplyPlan& plan, const std::string& kind, const std::string& name) {
  for (const ApplyWave& wave : plan.waves) {
    for (const ManifestObject& o : wave.objects) {
      if (o.key.kind == kind && o.key.name == name) return &o;
    }
  }
  return nullptr;
}

// The ordering rules every plan must keep.
void CheckOrderRules(const ApplyPlan& plan) {
  std::map<ObjectKey, int> wave = WaveIndex(plan);
  std::map<std::pair<std::string, std::string>, int> crd_wave;  // (group, kind) -> wave of its CRD
  std::map<std::string, int> namespace_wave;
  int last_workload = -1;
  for (const auto& [key, w] : wave) {
    if (key.kind == "Namespace") namespace_wave[key.name] = w;
    if (key.kind == "Deployment" || key.kind == "DaemonSet" || key.kind == "StatefulSet")
      last_workload = std::max(last_workload, w);
  }
  for (const ApplyWave& ws : plan.waves) {
    for (const ManifestObject& o : ws.objects) {
      if (o.key.kind != "CustomResourceDefinition") continue;
      crd_wave[{o.object["spec"]["group"], o.object["spec"]["names"]["kind"]}] = wave[o.key];
    }
  }
  for (const auto& [key, w] : wave) {
    INFO(key.ToString());
    if (auto crd = crd_wave.find({key.group, key.kind}); crd != crd_wave.end()) CHECK(w > crd->second);
    if (!key.ns.empty() && namespace_wave.contains(key.ns)) CHECK(w > namespace_wave[key.ns]);
    if (key.kind.ends_with("WebhookConfiguration")) CHECK(w > last_workload);
  }
}

}  // namespace

TEST_CASE("Knative 1.23 with Kourier: CRDs, namespaces, webhook, then what needs admission",
          "[apply_plan][corpus]") {
  ApplyPlan plan = Plan(Load({"knative-serving-v1.23.0-serving-crds.yaml",
                              "knative-serving-v1.23.0-serving-core.yaml", "net-kourier-v1.23.yaml"}));
  CheckOrderRules(plan);
  REQUIRE(plan.waves.size() == 4);  // no Jobs or other late kinds in these files
  CHECK(plan.waves[0].name == "namespaces and CRDs");
  CHECK(plan.waves[0].objects.front().key.kind == "Namespace");  // grouped by kind, Namespace first
  CHECK(plan.waves[0].wait == WaitFor::kCrdsEstablished);
  CHECK(plan.waves[0].wait_for.size() == 12);

  REQUIRE(plan.webhook_deployments ==
          std::vector<ObjectKey>{{"apps", "Deployment", "knative-serving", "webhook"}});
  const ApplyWave& workloads = plan.waves[2];
  CHECK(workloads.name == "workloads");
  CHECK(workloads.wait == WaitFor::kDeploymentsAvailable);
  CHECK(workloads.wait_for == plan.webhook_deployments);

  std::map<ObjectKey, int> wave = WaveIndex(plan);
  const ManifestObject* image = Find(plan, "Image", "queue-proxy");
  REQUIRE(image != nullptr);
  CHECK(image->key.group == "caching.internal.knative.dev");
  CHECK(wave[image->key] == 3);
  CHECK(wave[{"apps", "Deployment", "knative-serving", "webhook"}] == 2);
  CHECK(wave[{"admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "",
              "config.webhook.serving.knative.dev"}] == 3);
  CHECK(wave[{"", "ConfigMap", "knative-serving", "config-deployment"}] == 1);
  CHECK(wave[{"", "Service", "kourier-system", "kourier"}] == 1);
  const ManifestObject* certificate = Find(plan, "Certificate", "routing-serving-certs");
  REQUIRE(certificate != nullptr);
  CHECK(wave[certificate->key] == 3);

  CHECK(plan.waves.back().wait == WaitFor::kAllReady);
  // Deployments and CRDs are awaited at the end; ConfigMaps are not.
  const std::vector<ObjectKey>& ready = plan.waves.back().wait_for;
  CHECK(std::count(ready.begin(), ready.end(),
                   ObjectKey{"apps", "Deployment", "kourier-system", "3scale-kourier-gateway"}) == 1);
  CHECK(std::count(ready.begin(), ready.end(),
                   ObjectKey{"", "ConfigMap", "knative-serving", "config-deployment"}) == 0);
  INFO(RenderPlanText(plan));
  CHECK(plan.warnings.empty());
}

TEST_CASE("post-install Jobs get stable names and go last", "[apply_plan][corpus]") {
  ApplyPlan plan =
      Plan(Load({"knative-serving-v1.23.0-serving-crds.yaml", "knative-serving-v1.23.0-serving-core.yaml",
                 "knative-serving-v1.23.0-serving-post-install-jobs.yaml"}));
  CheckOrderRules(plan);
  const ManifestObject* job = Find(plan, "Job", "storage-version-migration-serving-serving-1.23.0");
  REQUIRE(job != nullptr);
  CHECK(job->wave == static_cast<int>(plan.waves.size()) - 1);
  CHECK(plan.waves.back().name == "the rest");
  CHECK_FALSE(job->object["metadata"].contains("generateName"));
  CHECK(job->object["metadata"]["annotations"][kJobSpecHashAnnotation].get<std::string>().starts_with(
      "sha256:"));
  const std::vector<ObjectKey>& ready = plan.waves.back().wait_for;
  CHECK(std::count(ready.begin(), ready.end(), job->key) == 1);

  // The version given by the profile wins over the label.
  ApplyPlan pinned =
      Plan(Load({"knative-serving-v1.23.0-serving-post-install-jobs.yaml"}), {"serving", "1.23.1"});
  CHECK(Find(pinned, "Job", "storage-version-migration-serving-serving-1.23.1") != nullptr);
}

TEST_CASE("a Job whose spec changed must be recreated", "[apply_plan]") {
  std::vector<ManifestObject> objects = Load({"knative-serving-v1.23.0-serving-post-install-jobs.yaml"});
  REQUIRE(NameGeneratedJobs(objects, {}).ok());
  const json& wanted = objects.at(0).object;
  CHECK_FALSE(JobNeedsRecreate(wanted, wanted));
  json changed = wanted;
  changed["spec"]["backoffLimit"] = 3;
  std::vector<ManifestObject> again = {{.object = changed, .key = KeyOf(changed)}};
  REQUIRE(NameGeneratedJobs(again, {}).ok());
  CHECK(JobNeedsRecreate(wanted, again[0].object));
  json unannotated = wanted;
  unannotated["metadata"].erase("annotations");
  CHECK(JobNeedsRecreate(unannotated, wanted));
}

TEST_CASE("net-istio without Istio: its Gateways are custom resources after the webhooks",
          "[apply_plan][corpus]") {
  ApplyPlan plan = Plan(Load({"knative-serving-v1.23.0-serving-crds.yaml",
                              "knative-serving-v1.23.0-serving-core.yaml", "net-istio-v1.23.yaml"}));
  CheckOrderRules(plan);
  std::map<ObjectKey, int> wave = WaveIndex(plan);
  const ManifestObject* gateway = Find(plan, "Gateway", "knative-ingress-gateway");
  REQUIRE(gateway != nullptr);
  CHECK(gateway->key.group == "networking.istio.io");
  CHECK(wave[gateway->key] == 3);
  CHECK(std::count(plan.webhook_deployments.begin(), plan.webhook_deployments.end(),
                   ObjectKey{"apps", "Deployment", "knative-serving", "net-istio-webhook"}) == 1);
  CHECK(std::count(plan.webhook_deployments.begin(), plan.webhook_deployments.end(),
                   ObjectKey{"apps", "Deployment", "knative-serving", "webhook"}) == 1);
}

TEST_CASE(
    "Knative 0.6: old API versions are just kinds; without webhook configurations every "
    "Deployment is awaited before custom resources",
    "[apply_plan][corpus]") {
  ApplyPlan plan = Plan(Load({"knative-serving-v0.6.0-serving.yaml"}));
  CheckOrderRules(plan);
  CHECK(plan.webhook_deployments.empty());
  std::map<ObjectKey, int> wave = WaveIndex(plan);
  const ManifestObject* image = Find(plan, "Image", "queue-proxy");
  REQUIRE(image != nullptr);
  CHECK(wave[image->key] == 3);
  const ApplyWave& workloads = plan.waves[2];
  REQUIRE(workloads.name == "workloads");
  CHECK(workloads.wait == WaitFor::kDeploymentsAvailable);
  CHECK(workloads.wait_for.size() == 6);
  CHECK(std::count(workloads.wait_for.begin(), workloads.wait_for.end(),
                   ObjectKey{"apps", "Deployment", "knative-serving", "webhook"}) == 1);
}

TEST_CASE("the plan as text (for --plan) and as JSON", "[apply_plan][corpus]") {
  ApplyPlan plan =
      Plan(Load({"knative-serving-v1.23.0-serving-crds.yaml", "knative-serving-v1.23.0-serving-core.yaml"}));
  std::string text = RenderPlanText(plan);
  INFO(text);
  CHECK(
      text.starts_with("wave 1 of 4: namespaces and CRDs (13 objects)\n  Namespace knative-serving\n"
                       "  CustomResourceDefinition images.caching.internal.knative.dev\n"));
  CHECK(text.find("  then wait: 12 CRDs Established, then refresh discovery\n") != std::string::npos);
  CHECK(text.find("\n  Deployment knative-serving/webhook\n") != std::string::npos);
  CHECK(text.find("  then wait: webhook Deployments available: knative-serving/webhook\n") !=
        std::string::npos);
  CHECK(text.find("wave 4 of 4: admission and custom resources") != std::string::npos);
  CHECK(text.find("warning:") == std::string::npos);

  json rendered = RenderPlanJson(plan);
  REQUIRE(rendered["waves"].size() == 4);
  CHECK(rendered["waves"][0]["wait"]["for"] == "crds-established");
  CHECK(rendered["waves"][2]["wait"]["objects"] == json::array({"Deployment knative-serving/webhook"}));
  CHECK(rendered["waves"][3]["wait"]["for"] == "all-ready");
  CHECK(rendered["waves"][0]["objects"][0] == json({{"group", ""},
                                                    {"kind", "Namespace"},
                                                    {"namespace", ""},
                                                    {"name", "knative-serving"},
                                                    {"file", "knative-serving-v1.23.0-serving-core.yaml"},
                                                    {"line", 15}}));
  CHECK(rendered["webhookDeployments"] == json::array({"Deployment knative-serving/webhook"}));
}

TEST_CASE("the same object twice: the later one is applied, with a warning", "[apply_plan]") {
  auto objects = ObjectsOfFiles(
      {{"a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {v: a}\n"},
       {"b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: ns}\ndata: {v: b}\n"}});
  REQUIRE(objects.ok());
  ApplyPlan plan = Plan(std::move(objects).value());
  REQUIRE(plan.waves.size() == 1);
  REQUIRE(plan.waves[0].objects.size() == 1);
  CHECK(plan.waves[0].objects[0].object["data"]["v"] == "b");
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0] ==
        "ConfigMap ns/c at a.yaml:1 is defined again at b.yaml:1; the later one is applied");
}

TEST_CASE("a webhook whose Service is missing is a warning, not a silent skip", "[apply_plan]") {
  auto objects = ObjectsOfFiles({{"w.yaml",
                                  "apiVersion: admissionregistration.k8s.io/v1\n"
                                  "kind: ValidatingWebhookConfiguration\n"
                                  "metadata: {name: v}\n"
                                  "webhooks:\n"
                                  "- name: check.example.dev\n"
                                  "  clientConfig: {service: {namespace: ns, name: gone}}\n"}});
  REQUIRE(objects.ok());
  ApplyPlan plan = Plan(std::move(objects).value());
  CHECK(plan.webhook_deployments.empty());
  REQUIRE(plan.warnings.size() == 1);
  CHECK(plan.warnings[0].find("calls Service ns/gone, which is not in the release files") !=
        std::string::npos);
}

TEST_CASE("generateName is only accepted on Jobs", "[apply_plan]") {
  auto objects = ObjectsOfFiles(
      {{"g.yaml", "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: x-, namespace: ns}\n"}});
  REQUIRE(objects.ok());
  auto plan = PlanApply(std::move(objects).value());
  REQUIRE_FALSE(plan.ok());
  CHECK(plan.status().message().starts_with("g.yaml:2: ConfigMap x-* has only metadata.generateName"));

  auto job = ObjectsOfFiles(
      {{"j.yaml", "apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: x-, namespace: ns}\n"}});
  REQUIRE(job.ok());
  auto unnamed = PlanApply(std::move(job).value());
  REQUIRE_FALSE(unnamed.ok());
  CHECK(unnamed.status().message().find("j.yaml:1: Job ns/x-* has only generateName") == 0);
}

TEST_CASE("release files become objects: Lists expanded, empty documents skipped, bad objects named",
          "[apply_plan][manifest_objects]") {
  auto objects = ObjectsOfFile(
      "---\n# nothing here\n---\n"
      "apiVersion: v1\nkind: List\nitems:\n"
      "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a, namespace: ns}}\n"
      "- {apiVersion: apps/v1, kind: Deployment, metadata: {name: d, namespace: ns}}\n"
      "---\n"
      "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}\n",
      "list.yaml");
  INFO(objects.status().ToString());
  REQUIRE(objects.ok());
  REQUIRE(objects->size() == 3);
  CHECK((*objects)[0].key == ObjectKey{"", "ConfigMap", "ns", "a"});
  CHECK((*objects)[1].key == ObjectKey{"apps", "Deployment", "ns", "d"});
  CHECK((*objects)[1].line == 4);
  CHECK((*objects)[2].key == ObjectKey{"", "Namespace", "", "ns"});
  CHECK((*objects)[2].Where() == "list.yaml:10");

  auto no_kind = ObjectsOfFile("a: 1\n---\napiVersion: v1\nmetadata: {name: x}\n", "k.yaml");
  REQUIRE_FALSE(no_kind.ok());
  CHECK(no_kind.status().message() == "k.yaml:1: document 1 has no apiVersion");
  auto no_name = ObjectsOfFile("apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n", "n.yaml");
  REQUIRE_FALSE(no_name.ok());
  CHECK(no_name.status().message() ==
        "n.yaml:1: document 1 (ConfigMap) has neither metadata.name nor metadata.generateName");
  auto scalar = ObjectsOfFile("---\njust text\n", "s.yaml");
  REQUIRE_FALSE(scalar.ok());
  CHECK(scalar.status().message() == "s.yaml:2: document 1 is not a mapping (a Kubernetes object)");
}

TEST_CASE("every release file in the corpus reads and plans, keeping the order rules",
          "[apply_plan][corpus]") {
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(ferry::CorpusDir())) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    INFO(entry.path().filename().string());
    auto objects = ObjectsOfFile(ferry::ReadFile(entry.path()), entry.path().filename().string());
    INFO(objects.status().ToString());
    REQUIRE(objects.ok());
    CHECK_FALSE(objects->empty());
    ApplyPlan plan = Plan(std::move(objects).value());
    CheckOrderRules(plan);
  }
  CHECK(files >= 14);
}
