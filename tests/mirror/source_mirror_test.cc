// Specification of source mirrors: which specs parse, and where a reference is fetched from.
#include "mirror/source_mirror.h"

#include <catch2/catch.hpp>

#include "tests/mirror/test_refs.h"
#include <string>
#include <vector>

namespace ferry {
namespace {

SourceMirror Mirror(const std::string& spec) {
  Result<SourceMirror> mirror = ParseSourceMirror(spec);
  INFO(spec << ": " << mirror.status().ToString());
  REQUIRE(mirror.ok());
  return *mirror;
}

TEST_CASE("source mirror specs parse to registry, host and prefix", "[source_mirror]") {
  struct Case {
    std::string spec, registry, host, prefix;
  };
  const std::vector<Case> cases = {
      {"gcr.io=127.0.0.1:5000/gcr", "gcr.io", "127.0.0.1:5000", "gcr"},
      {"gcr.io=mirror.example.com", "gcr.io", "mirror.example.com", ""},
      {"gcr.io=mirror.example.com/", "gcr.io", "mirror.example.com", ""},
      {"docker.io=localhost:5000/hub/cache", "docker.io", "localhost:5000", "hub/cache"},
      {"index.docker.io=[::1]:5000", "docker.io", "[::1]:5000", ""},
      {"k8s.gcr.io=registry.local:443/k8s", "k8s.gcr.io", "registry.local:443", "k8s"},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    SourceMirror mirror = Mirror(c.spec);
    CHECK(mirror.registry == c.registry);
    CHECK(mirror.host == c.host);
    CHECK(mirror.prefix == c.prefix);
  }
}

TEST_CASE("bad source mirror specs name the spec and the reason", "[source_mirror]") {
  struct Case {
    std::string spec, reason;
  };
  const std::vector<Case> cases = {
      {"gcr.io", "no '='"},
      {"=127.0.0.1:5000", "registry before '=' is empty"},
      {"gcr.io=", "host after '=' is empty"},
      {"gcr.io/knative-releases=127.0.0.1:5000", "registry alone"},
      {"gcr=127.0.0.1:5000", "\"gcr\" is not a registry host"},
      {"gcr.io=mirror/gcr", "\"mirror\" is not a registry host"},
      {"gcr.io=127.0.0.1:5000/GCR", "lowercase"},
      {"gcr.io=127.0.0.1:port", "not a number"},
  };
  for (const Case& c : cases) {
    INFO(c.spec);
    Result<SourceMirror> mirror = ParseSourceMirror(c.spec);
    REQUIRE_FALSE(mirror.ok());
    CHECK(mirror.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(mirror.status().message(), Catch::Contains("--source-mirror \"" + c.spec + "\"") &&
                                              Catch::Contains(c.reason));
  }
}

TEST_CASE("resolve swaps the registry for the mirror and keeps tag and digest",
          "[source_mirror]") {
  SourceMirrors mirrors;
  CHECK(mirrors.empty());
  REQUIRE(mirrors.Add(Mirror("gcr.io=127.0.0.1:5000/gcr")).ok());
  REQUIRE(mirrors.Add(Mirror("docker.io=localhost:5001")).ok());
  CHECK_FALSE(mirrors.empty());

  const std::string digest =
      "sha256:8f402eab0ada038d3de2ad753a40f9f441715d08058d890537146bb0aba11c8e";
  struct Case {
    std::string original, fetch;
  };
  const std::vector<Case> cases = {
      {"gcr.io/knative-releases/knative.dev/serving/cmd/queue@" + digest,
       "127.0.0.1:5000/gcr/knative-releases/knative.dev/serving/cmd/queue@" + digest},
      {"gcr.io/knative-samples/helloworld-go:latest",
       "127.0.0.1:5000/gcr/knative-samples/helloworld-go:latest"},
      // Docker Hub references match however they are spelled, and keep "library/".
      {"alpine:3.6", "localhost:5001/library/alpine:3.6"},
      {"docker.io/istio/proxyv2:1.1.3", "localhost:5001/istio/proxyv2:1.1.3"},
      {"index.docker.io/envoyproxy/envoy:v1.37-latest@" + digest,
       "localhost:5001/envoyproxy/envoy:v1.37-latest@" + digest},
      // No mirror for these: fetched from where they are.
      {"k8s.gcr.io/fluentd-elasticsearch:v2.0.4", "k8s.gcr.io/fluentd-elasticsearch:v2.0.4"},
      {"quay.io/coreos/kube-rbac-proxy:v0.4.0", "quay.io/coreos/kube-rbac-proxy:v0.4.0"},
  };
  for (const Case& c : cases) {
    INFO(c.original);
    CHECK(mirrors.Resolve(Ref(c.original)) == Ref(c.fetch));
  }
}

TEST_CASE("one mirror per registry", "[source_mirror]") {
  SourceMirrors mirrors;
  REQUIRE(mirrors.Add(Mirror("gcr.io=127.0.0.1:5000/gcr")).ok());
  CHECK(mirrors.Add(Mirror("gcr.io=127.0.0.1:5000/gcr")).ok());  // repeated flag: harmless
  Status second = mirrors.Add(Mirror("gcr.io=127.0.0.1:5001"));
  CHECK(second.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(second.message(), Catch::Contains("gcr.io") &&
                                   Catch::Contains("127.0.0.1:5000/gcr") &&
                                   Catch::Contains("127.0.0.1:5001"));
  CHECK(mirrors.Resolve(Ref("gcr.io/a/b:1")) == Ref("127.0.0.1:5000/gcr/a/b:1"));
}

}  // namespace
}  // namespace ferry
