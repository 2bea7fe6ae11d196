// Specification of ReferenceIn and ReferenceTokens: which strings count as image references in
// an image field, as the value of a key that names an image, and anywhere else.
#include "rewrite/reference_text.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace ferry {
namespace {

const std::string kDigest =
    "sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45";

struct RuleCase {
  std::string text;
  bool field, named, value;  // accepted as kImageField, kNamedImage, kValue
  std::string why;
};

TEST_CASE("what counts as an image reference depends on where it stands") {
  const std::vector<RuleCase> cases = {
      // Unmistakable everywhere: a digest, or a registry host and a tag.
      {"gcr.io/knative-releases/knative.dev/serving/cmd/queue@" + kDigest, true, true, true,
       "digest-pinned"},
      {"docker.io/istio/proxyv2:1.1.3", true, true, true, "registry, path and tag"},
      {"registry.example.com:5000/team/app:1", true, true, true, "registry with a port"},
      {"localhost/app:1", true, true, true, "localhost"},
      {"k8s.gcr.io/fluentd-elasticsearch:v2.0.4", true, true, true, "*.gcr.io"},
      {"alpine@" + kDigest, true, true, true, "one word with a digest"},
      // A key that names an image is evidence enough for a path or a tag, but not for a bare word.
      {"prom/prometheus:v2.2.1", true, true, false, "Docker Hub path with a tag, no host"},
      {"alpine:3.6", true, true, false, "Docker Hub official image with a tag"},
      {"registry.example.com/team/app", true, true, false, "registry without a tag"},
      {"gcr.io/cloud-builders/gcs-fetcher", true, true, false, "registry without a tag"},
      {"docker.io/istio", true, true, false, "Istio's hub: a registry prefix"},
      {"localhost:5000/app", true, true, false, "unknown registry without a tag"},
      {"github.com/knative/serving/cmd/controller", true, true, false, "Go import path"},
      {"knative.dev/serving/cmd/queue", true, true, false, "Go import path, knative.dev"},
      {"status.sidecar.istio.io/port", true, true, false, "annotation key"},
      // scope:level and key:value shapes: only a field (or a key) that says image takes them.
      {"default:info", true, true, false, "Istio log scope:level"},
      {"system:auth-delegator", true, true, false, "RBAC role name"},
      // Only an image field accepts a bare name.
      {"alpine", true, false, false, "single word without tag"},
      {"disabled", true, false, false, "Istio's \"disabled\" is no image outside an image field"},
      {"v0.6.0", true, false, false, "version string"},
      {"1.23.0", true, false, false, "version string"},
      {"zipkin.istio-system:9411", true, false, false, "host:port (a '.' in the word)"},
      {"localhost:8080", true, false, false, "host:port (all-digit tag)"},
      {"10:30", true, false, false, "time of day"},
      {"sha256:" + kDigest.substr(7), true, false, false, "a digest alone"},
      // Never.
      {"https://gcr.io/knative-releases/x:1", false, false, false, "URL"},
      {"ko://knative.dev/serving/cmd/controller", false, false, false, "ko:// path"},
      {"docker://gcr.io/x/y:1", false, false, false, "any ://, even the docker transport"},
      {"kind.local,ko.local,dev.local", false, false, false, "a list of registries"},
      {"type.googleapis.com/envoy.config.HttpConnectionManager", false, false, false,
       "uppercase repository"},
      {"/etc/config-logging", false, false, false, "absolute path"},
      {"gcr.io/x/controller:{{ .Values.tag }}", false, false, false, "a template"},
      {"", false, false, false, "empty"},
  };
  for (const RuleCase& c : cases) {
    SECTION(c.why + ": " + c.text) {
      CHECK(ReferenceIn(c.text, ReferenceContext::kImageField).has_value() == c.field);
      CHECK(ReferenceIn(c.text, ReferenceContext::kNamedImage).has_value() == c.named);
      CHECK(ReferenceIn(c.text, ReferenceContext::kValue).has_value() == c.value);
    }
  }
}

TEST_CASE("an accepted reference comes back parsed and normalised") {
  std::optional<ImageReference> ref = ReferenceIn("alpine:3.6", ReferenceContext::kNamedImage);
  REQUIRE(ref);
  CHECK(ref->String() == "docker.io/library/alpine:3.6");
}

TEST_CASE("free text is split into candidate words at every byte a reference cannot hold") {
  struct TokenCase {
    std::string text;
    std::vector<std::string> words;
  };
  const std::vector<TokenCase> cases = {
      {"image: \"docker.io/istio/proxy_init:1.1.3\"", {"image", "docker.io/istio/proxy_init:1.1.3"}},
      {"[[ annotation .ObjectMeta `sidecar.istio.io/proxyImage` \"docker.io/istio/proxyv2:1.1.3\" ]]",
       {"annotation", ".ObjectMeta", "sidecar.istio.io/proxyImage", "docker.io/istio/proxyv2:1.1.3"}},
      {"--image=gcr.io/a/b:1, then gcr.io/c/d:2.", {"--image", "gcr.io/a/b:1", "then", "gcr.io/c/d:2"}},
      {"see http://x.io/a:1", {"see", "http://x.io/a:1"}},
      {"  ...  ", {}},
  };
  for (const TokenCase& c : cases) {
    std::vector<std::string> words;
    for (const TextToken& token : ReferenceTokens(c.text)) {
      CHECK(c.text.substr(token.offset, token.text.size()) == token.text);
      words.emplace_back(token.text);
    }
    CHECK(words == c.words);
  }
}

}  // namespace
}  // namespace ferry
