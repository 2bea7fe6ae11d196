// Air-gap edits on the real release files: pull secrets where pods run, the mirror skipping tag
// resolution (or the controller trusting its CA), domain and ingress in both key spellings,
// `_example` text never touched, and the queue-proxy image check.
#include "installer/airgap_fixes.h"

#include <catch2/catch.hpp>

#include "common/base64.h"
#include "tests/corpus.h"

using namespace ferry::installer;
using ferry::Status;
using nlohmann::json;

namespace {

constexpr char kMirror[] = "mirror.internal:5000";

std::vector<ManifestObject> Load(std::initializer_list<const char*> names) {
  std::vector<ManifestFile> files;
  for (const char* name : names) files.push_back({name, ferry::ReadFile(ferry::CorpusDir() / name)});
  auto objects = ObjectsOfFiles(files);
  INFO(objects.status().ToString());
  REQUIRE(objects.ok());
  return std::move(objects).value();
}

std::vector<ManifestObject> Serving123() {
  return Load({"knative-serving-v1.23.0-serving-crds.yaml", "knative-serving-v1.23.0-serving-core.yaml",
               "net-kourier-v1.23.yaml"});
}
std::vector<ManifestObject> Serving06() { return Load({"knative-serving-v0.6.0-serving.yaml"}); }

json& Object(std::vector<ManifestObject>& objects, const std::string& kind, const std::string& ns,
             const std::string& name) {
  for (ManifestObject& o : objects) {
    if (o.key.kind == kind && o.key.ns == ns && o.key.name == name) return o.object;
  }
  FAIL("no " << kind << " " << ns << "/" << name);
  throw;
}

json& Data(std::vector<ManifestObject>& objects, const std::string& name) {
  return Object(objects, "ConfigMap", "knative-serving", name)["data"];
}

}  // namespace

TEST_CASE("pull secret: one per namespace, on every ServiceAccount, on pods using default",
          "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving123();
  std::string config = DockerConfigJsonFor(kMirror, "pusher", "s3cret");
  auto secrets = AddPullSecret(objects, kMirror, config);
  INFO(secrets.status().ToString());
  REQUIRE(secrets.ok());
  std::vector<std::string> namespaces;
  for (const ManifestObject& s : *secrets) {
    namespaces.push_back(s.key.ns);
    CHECK(s.key == ObjectKey{"", "Secret", s.key.ns, kPullSecretName});
    CHECK(s.object["type"] == "kubernetes.io/dockerconfigjson");
    auto decoded = ferry::Base64Decode(s.object["data"][".dockerconfigjson"].get<std::string>());
    REQUIRE(decoded.ok());
    json auths = json::parse(*decoded)["auths"];
    CHECK(auths[kMirror]["username"] == "pusher");
    CHECK(auths[kMirror]["auth"] == ferry::Base64Encode("pusher:s3cret"));
  }
  CHECK(namespaces == std::vector<std::string>{"knative-serving", "kourier-system"});

  json& controller_sa = Object(objects, "ServiceAccount", "knative-serving", "controller");
  CHECK(controller_sa["imagePullSecrets"] == json::parse(R"([{"name": "ferry-mirror-pull"}])"));
  json& kourier_sa = Object(objects, "ServiceAccount", "knative-serving", "net-kourier");
  CHECK(kourier_sa["imagePullSecrets"].size() == 1);
  // The gateway runs as the namespace's default account, which ferry does not apply.
  json& gateway = Object(objects, "Deployment", "kourier-system", "3scale-kourier-gateway");
  CHECK(gateway["spec"]["template"]["spec"]["imagePullSecrets"] ==
        json::parse(R"([{"name": "ferry-mirror-pull"}])"));
  // Pods of a ServiceAccount that has the secret need nothing in their own spec.
  json& webhook = Object(objects, "Deployment", "knative-serving", "webhook");
  CHECK_FALSE(webhook["spec"]["template"]["spec"].contains("imagePullSecrets"));

  // A second run adds nothing twice.
  REQUIRE(AddPullSecret(objects, kMirror, config).ok());
  CHECK(controller_sa["imagePullSecrets"].size() == 1);
  CHECK(gateway["spec"]["template"]["spec"]["imagePullSecrets"].size() == 1);
}

TEST_CASE("pull secret: a config.json without the mirror is refused without quoting it", "[airgap_fixes]") {
  std::vector<ManifestObject> objects = Serving06();
  std::string other = DockerConfigJsonFor("elsewhere.example:443", "u", "topsecret");
  auto wrong = AddPullSecret(objects, kMirror, other);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().message() ==
        "pull secret: the docker config has no \"auths\" entry for registry mirror.internal:5000");
  auto garbage = AddPullSecret(objects, kMirror, "{\"auths\": topsecret");
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.status().message().find("topsecret") == std::string::npos);
  // An entry written with a scheme (docker login's old style) still counts.
  auto scheme =
      AddPullSecret(objects, kMirror, R"({"auths": {"https://mirror.internal:5000/v1/": {"auth": "dTpw"}}})");
  CHECK(scheme.ok());
}

TEST_CASE("skip tag resolution: 1.x kebab key, defaults kept, _example untouched", "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving123();
  std::string example = Data(objects, "config-deployment")["_example"];
  REQUIRE(SkipTagResolution(objects, "https://" + std::string(kMirror) + "/knative").ok());
  json& data = Data(objects, "config-deployment");
  CHECK(data["registries-skipping-tag-resolving"] == "kind.local,ko.local,dev.local,mirror.internal:5000");
  CHECK_FALSE(data.contains("registriesSkippingTagResolving"));
  CHECK(data["_example"] == example);
  REQUIRE(SkipTagResolution(objects, kMirror).ok());  // idempotent
  CHECK(data["registries-skipping-tag-resolving"] == "kind.local,ko.local,dev.local,mirror.internal:5000");
}

TEST_CASE("skip tag resolution: 0.6 camelCase key", "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving06();
  REQUIRE(SkipTagResolution(objects, kMirror).ok());
  json& data = Data(objects, "config-deployment");
  CHECK(data["registriesSkippingTagResolving"] == "ko.local,dev.local,mirror.internal:5000");
  CHECK_FALSE(data.contains("registries-skipping-tag-resolving"));

  std::vector<ManifestObject> none;
  Status missing = SkipTagResolution(none, kMirror);
  CHECK(missing.code() == ferry::StatusCode::kNotFound);
  CHECK(missing.message().find("config-deployment") != std::string::npos);
}

TEST_CASE("registry CA: ConfigMap mounted into the controller with SSL_CERT_DIR", "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving123();
  std::string pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  auto ca = TrustRegistryCa(objects, pem, "ca.pem");
  INFO(ca.status().ToString());
  REQUIRE(ca.ok());
  CHECK(ca->key == ObjectKey{"", "ConfigMap", "knative-serving", kRegistryCaName});
  CHECK(ca->object["data"]["ca.crt"] == pem);
  json& pod = Object(objects, "Deployment", "knative-serving", "controller")["spec"]["template"]["spec"];
  json volume = {{"name", kRegistryCaName}, {"configMap", {{"name", kRegistryCaName}}}};
  CHECK(std::count(pod["volumes"].begin(), pod["volumes"].end(), volume) == 1);
  json& container = pod["containers"][0];
  REQUIRE(container["name"] == "controller");
  json mount = {{"name", kRegistryCaName}, {"mountPath", kRegistryCaDir}, {"readOnly", true}};
  CHECK(std::count(container["volumeMounts"].begin(), container["volumeMounts"].end(), mount) == 1);
  json env = {{"name", "SSL_CERT_DIR"}, {"value", kRegistryCaDir}};
  CHECK(std::count(container["env"].begin(), container["env"].end(), env) == 1);

  REQUIRE(TrustRegistryCa(objects, pem, "ca.pem").ok());  // no duplicates
  CHECK(std::count(pod["volumes"].begin(), pod["volumes"].end(), volume) == 1);
  CHECK(std::count(container["env"].begin(), container["env"].end(), env) == 1);

  auto not_pem = TrustRegistryCa(objects, "hello", "notes.txt");
  REQUIRE_FALSE(not_pem.ok());
  CHECK(not_pem.status().message().starts_with("registry CA notes.txt holds no PEM certificate"));

  std::vector<ManifestObject> old = Serving06();
  REQUIRE(TrustRegistryCa(old, pem, "ca.pem").ok());  // 0.6 has the same controller shape
}

TEST_CASE("domain: default-domain keys replaced, selector keys and _example kept", "[airgap_fixes][corpus]") {
  for (auto objects : {Serving123(), Serving06()}) {
    json& data = Data(objects, "config-domain");
    data["example.com"] = "";
    data["internal.example"] = "selector:\n  app: secret\n";
    std::string example = data["_example"];
    REQUIRE(SetDomain(objects, "apps.corp.example").ok());
    CHECK(data["apps.corp.example"] == "");
    CHECK_FALSE(data.contains("example.com"));
    CHECK(data["internal.example"] == "selector:\n  app: secret\n");
    CHECK(data["_example"] == example);
  }
  std::vector<ManifestObject> objects = Serving123();
  Status bad = SetDomain(objects, "Bad_Domain.");
  CHECK(bad.code() == ferry::StatusCode::kInvalidArgument);
  CHECK(bad.message().find("Bad_Domain.") != std::string::npos);
}

TEST_CASE("ingress: ingress-class in 1.x, clusteringress.class in 0.6", "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving123();
  REQUIRE(SelectIngress(objects, "kourier").ok());
  CHECK(Data(objects, "config-network")["ingress-class"] == "kourier.ingress.networking.knative.dev");
  REQUIRE(SelectIngress(objects, "istio").ok());
  CHECK(Data(objects, "config-network")["ingress-class"] == "istio.ingress.networking.knative.dev");
  CHECK_FALSE(Data(objects, "config-network").contains("ingress.class"));

  // The dotted spelling of 0.1x-1.x releases, taken from the data when it is set there.
  json& data = Data(objects, "config-network");
  data.erase("ingress-class");
  data["ingress.class"] = "istio.ingress.networking.knative.dev";
  REQUIRE(SelectIngress(objects, "kourier").ok());
  CHECK(data["ingress.class"] == "kourier.ingress.networking.knative.dev");
  CHECK_FALSE(data.contains("ingress-class"));

  std::vector<ManifestObject> old = Serving06();
  REQUIRE(SelectIngress(old, "istio").ok());
  CHECK(Data(old, "config-network")["clusteringress.class"] == "istio.ingress.networking.knative.dev");
  Status kourier = SelectIngress(old, "kourier");
  CHECK(kourier.code() == ferry::StatusCode::kUnsupported);
  CHECK(kourier.message().find("predates Kourier") != std::string::npos);
  CHECK(SelectIngress(old, "contour").code() == ferry::StatusCode::kInvalidArgument);
}

TEST_CASE("queue-proxy image: found in both key spellings, checked against the mirror",
          "[airgap_fixes][corpus]") {
  std::vector<ManifestObject> objects = Serving123();
  auto sites = QueueProxyImage(objects, kMirror);
  REQUIRE(sites.ok());
  REQUIRE(sites->size() == 2);  // config-deployment and the caching Image
  INFO((*sites)[0].where << "\n" << (*sites)[1].where);
  CHECK((*sites)[1].where.find("Image knative-serving/queue-proxy spec.image") != std::string::npos);
  CHECK_FALSE((*sites)[0].at_mirror);
  Status unrewritten = CheckQueueProxyImage(objects, kMirror);
  REQUIRE_FALSE(unrewritten.ok());
  INFO(unrewritten.message());
  CHECK(unrewritten.message().find("knative-serving-v1.23.0-serving-core.yaml:") == 0);
  CHECK(unrewritten.message().find(
            "data.queue-sidecar-image: the queue-proxy image gcr.io/knative-releases/") != std::string::npos);
  CHECK(unrewritten.message().find("is not in the mirror mirror.internal:5000") != std::string::npos);

  // As the rewrite leaves it.
  std::string mirrored =
      std::string(kMirror) + "/knative-releases/knative.dev/serving/cmd/queue@sha256:" + std::string(64, 'a');
  Data(objects, "config-deployment")["queue-sidecar-image"] = mirrored;
  Object(objects, "Image", "knative-serving", "queue-proxy")["spec"]["image"] = mirrored;
  CHECK(CheckQueueProxyImage(objects, kMirror).ok());
  CHECK(CheckQueueProxyImage(objects, std::string(kMirror) + "/knative-releases").ok());
  CHECK_FALSE(CheckQueueProxyImage(objects, std::string(kMirror) + "/other").ok());

  std::vector<ManifestObject> old = Serving06();
  auto old_sites = QueueProxyImage(old, kMirror);
  REQUIRE(old_sites.ok());
  CHECK((*old_sites)[0].where.find("data.queueSidecarImage") != std::string::npos);

  std::vector<ManifestObject> none;
  CHECK(QueueProxyImage(none, kMirror).status().code() == ferry::StatusCode::kNotFound);
}
