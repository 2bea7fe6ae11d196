// Discovery documents (aggregated v2 and the older per-group lists) become kind -> resource mappings.
#include <catch2/catch.hpp>

#include "installer/discovery.h"

using namespace ferry::installer;

TEST_CASE("aggregated discovery maps kinds to resources and scopes, skipping subresources") {
  auto doc = nlohmann::json::parse(R"({
    "kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2",
    "items": [{"metadata": {"name": "apps"}, "versions": [{"version": "v1", "resources": [
      {"resource": "deployments", "responseKind": {"group": "apps", "version": "v1", "kind": "Deployment"},
       "scope": "Namespaced", "verbs": ["get"], "subresources": [{"subresource": "status",
       "responseKind": {"kind": "Deployment"}}]}]}]},
      {"metadata": {"name": ""}, "versions": [{"version": "v1", "resources": [
      {"resource": "namespaces", "responseKind": {"group": "", "version": "v1", "kind": "Namespace"},
       "scope": "Cluster"}]}]}]})");
  REQUIRE(IsAggregatedDiscovery(doc));
  std::vector<ResourceRef> refs = ParseAggregatedDiscovery(doc);
  REQUIRE(refs.size() == 2);
  DiscoveryCache cache;
  cache.Replace(refs);
  auto deployment = cache.Find("apps/v1", "Deployment");
  REQUIRE(deployment);
  CHECK(deployment->plural == "deployments");
  CHECK(deployment->namespaced);
  CHECK(deployment->Label() == "deployments.apps");
  auto ns = cache.Find("v1", "Namespace");
  REQUIRE(ns);
  CHECK_FALSE(ns->namespaced);
  CHECK(ns->Label() == "namespaces");
  CHECK_FALSE(cache.Find("apps/v1beta1", "Deployment"));
}

TEST_CASE("the older per-group lists give the same mapping") {
  CHECK(ParseGroupVersions(nlohmann::json::parse(R"({"kind":"APIVersions","versions":["v1"]})")) ==
        std::vector<std::string>{"v1"});
  CHECK(ParseGroupVersions(nlohmann::json::parse(
            R"({"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}]}]})")) ==
        std::vector<std::string>{"apps/v1"});
  std::vector<ResourceRef> refs = ParseResourceList(nlohmann::json::parse(R"({
    "kind": "APIResourceList", "groupVersion": "serving.knative.dev/v1", "resources": [
      {"name": "services", "singularName": "service", "namespaced": true, "kind": "Service"},
      {"name": "services/status", "namespaced": true, "kind": "Service"}]})"));
  REQUIRE(refs.size() == 1);
  CHECK(refs[0].group == "serving.knative.dev");
  CHECK(refs[0].version == "v1");
  CHECK(refs[0].GroupVersion() == "serving.knative.dev/v1");
  CHECK(refs[0].plural == "services");
}

TEST_CASE("each Replace bumps the generation so concurrent resolvers refresh once") {
  DiscoveryCache cache;
  CHECK(cache.generation() == 0);
  cache.Replace({});
  cache.Replace({});
  CHECK(cache.generation() == 2);
}
