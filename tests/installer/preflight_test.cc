// Preflight's kind check: what a release needs that the cluster does not serve, said in one line,
// naming a missing networking layer apart from API versions a modern cluster dropped.
#include "installer/preflight.h"

#include <catch2/catch.hpp>

using namespace ferry::installer;
using nlohmann::json;

namespace {

ManifestObject Object(const std::string& api_version, const std::string& kind, const std::string& name, json spec = nullptr) {
  json o = {{"apiVersion", api_version}, {"kind", kind}, {"metadata", {{"name", name}}}};
  if (!spec.is_null()) o["spec"] = spec;
  return ManifestObject{o, "release.yaml", 1, KeyOf(o)};
}

const std::set<std::string> kModern = {"v1 Namespace", "apps/v1 Deployment", "apiextensions.k8s.io/v1 CustomResourceDefinition"};

}  // namespace

TEST_CASE("kinds defined by a CRD of the release count as served", "[preflight]") {
  std::vector<ManifestObject> objects = {
      Object("apiextensions.k8s.io/v1", "CustomResourceDefinition", "images.caching.internal.knative.dev",
             {{"group", "caching.internal.knative.dev"}, {"names", {{"kind", "Image"}}}}),
      Object("caching.internal.knative.dev/v1alpha1", "Image", "queue-proxy"),
      Object("apps/v1", "Deployment", "webhook")};
  CHECK(UnservedKinds(objects, kModern).empty());
}

TEST_CASE("a 0.6 release on a modern cluster names each unserved version once", "[preflight]") {
  std::vector<ManifestObject> objects = {Object("extensions/v1beta1", "Deployment", "a"),
                                         Object("extensions/v1beta1", "Deployment", "b"),
                                         Object("apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "c",
                                                {{"group", "serving.knative.dev"}, {"names", {{"kind", "Service"}}}}),
                                         Object("serving.knative.dev/v1alpha1", "Service", "ok")};
  std::vector<UnservedKind> unserved = UnservedKinds(objects, kModern);
  REQUIRE(unserved.size() == 2);
  CHECK(unserved[0].api_version == "extensions/v1beta1");
  CHECK(unserved[0].objects == 2);
  std::vector<std::string> problems = UnservedKindProblems(unserved, "istio", false);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("does not serve extensions/v1beta1 Deployment, apiextensions.k8s.io/v1beta1 "
                         "CustomResourceDefinition") != std::string::npos);
}

TEST_CASE("a preinstalled networking layer that is missing is named as such", "[preflight]") {
  std::vector<UnservedKind> unserved = {{"networking.istio.io/v1beta1", "Gateway", 2},
                                        {"security.istio.io/v1beta1", "PeerAuthentication", 1}};
  std::vector<std::string> problems = UnservedKindProblems(unserved, "istio", true);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].find("the networking layer istio must already be installed") != std::string::npos);
  CHECK(problems[0].find("networking.istio.io/v1beta1 Gateway") != std::string::npos);
  // When the profile installs the layer itself, the same kinds are an API-version problem.
  CHECK(UnservedKindProblems(unserved, "istio", false)[0].find("does not serve") != std::string::npos);
}
