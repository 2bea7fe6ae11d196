// Specification of target naming: where each source image lands under `--to`, for the three
// strategies, on real Knative/Istio image names, and what is refused before any transfer.
#include "mirror/target_naming.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "tests/mirror/test_refs.h"
#include <string>
#include <vector>

namespace ferry {
namespace {

TargetPrefix Prefix(const std::string& text) {
  Result<TargetPrefix> prefix = TargetPrefix::Parse(text);
  INFO(text << ": " << prefix.status().ToString());
  REQUIRE(prefix.ok());
  return *prefix;
}

std::vector<ImageReference> Refs(const std::vector<std::string>& texts) {
  std::vector<ImageReference> refs;
  for (const std::string& text : texts) refs.push_back(Ref(text));
  return refs;
}

NamingOptions Options(NamingStrategy strategy, std::string pattern = "") {
  NamingOptions options;
  options.strategy = strategy;
  options.pattern = std::move(pattern);
  return options;
}

// Plans `sources` and returns the targets' String(), one per source.
std::vector<std::string> Plan(const std::vector<std::string>& sources, const std::string& to,
                              const NamingOptions& options) {
  Result<std::vector<ImageReference>> targets = PlanTargets(Refs(sources), Prefix(to), options);
  INFO(targets.status().ToString());
  REQUIRE(targets.ok());
  REQUIRE(targets->size() == sources.size());
  std::vector<std::string> out;
  for (const ImageReference& target : *targets) out.push_back(target.String());
  return out;
}

Status PlanError(const std::vector<std::string>& sources, const std::string& to,
                 const NamingOptions& options) {
  Result<std::vector<ImageReference>> targets = PlanTargets(Refs(sources), Prefix(to), options);
  REQUIRE_FALSE(targets.ok());
  return targets.status();
}

const std::string kAcr = "registry.cn-hangzhou.aliyuncs.com/knative-mirror";

const std::string kServingControllerDigest =
    "sha256:8f402eab0ada038d3de2ad753a40f9f441715d08058d890537146bb0aba11c8e";
const std::string kServingController =
    "gcr.io/knative-releases/github.com/knative/serving/cmd/controller@" + kServingControllerDigest;
const std::string kEventingController =
    "gcr.io/knative-releases/github.com/knative/eventing/cmd/controller@"
    "sha256:85c010633944c06f4c16253108c2338dba271971b2b5f2d877b8247fa19ff5cb";
const std::string kNetIstioController =
    "gcr.io/knative-releases/knative.dev/net-istio/cmd/controller@"
    "sha256:cf1530d3b625d247114f006e4902ba8c0f2a3196d1d7a6b7acbeb7d7db11d148";
const std::string kServingWebhook =
    "gcr.io/knative-releases/github.com/knative/serving/cmd/webhook@"
    "sha256:f0f98736bd4b55354f447f59183bf26b9be1ab01691b8b4aeee85caeb1166562";
const std::string kEventingWebhook =
    "gcr.io/knative-releases/github.com/knative/eventing/cmd/webhook@"
    "sha256:34a7cac96f8c809a7ce8ea0a86445204bbc6ac897525b876f53babb325f50bdc";
const std::string kNetIstioWebhook =
    "gcr.io/knative-releases/knative.dev/net-istio/cmd/webhook@"
    "sha256:ac5c0458f32e353a635919ccd89fe77a7bf650c5354dd76c71e9316eff5de65d";
const std::string kQueueV123 =
    "gcr.io/knative-releases/knative.dev/serving/cmd/queue@"
    "sha256:a3cc71ce80dbc6df8781f15eac2cf3531a4c9815271799afd8776bef9e6aeaf2";
const std::string kEventingInMemory =
    "gcr.io/knative-releases/github.com/knative/eventing/cmd/in_memory/dispatcher:v0.6.0";
const std::string kCleanup =
    "gcr.io/knative-releases/knative.dev/serving/pkg/cleanup/cmd/cleanup:v1.23.0";

// Everything the corpus table below plans together.
const std::vector<std::string>& CorpusSources() {
  static const std::vector<std::string> sources = {
      kServingController,
      kEventingController,
      kNetIstioController,
      kServingWebhook,
      kEventingWebhook,
      kNetIstioWebhook,
      kQueueV123,
      kEventingInMemory,
      kCleanup,
      "docker.io/istio/proxyv2:1.1.3",
      "alpine:3.6",
      "docker.elastic.co/kibana/kibana:5.6.4",
      "docker.io/envoyproxy/envoy:v1.37-latest",
      "k8s.gcr.io/fluentd-elasticsearch:v2.0.4",
      "quay.io/coreos/kube-rbac-proxy:v0.4.0",
  };
  return sources;
}

TEST_CASE("naming strategies parse by name", "[naming]") {
  CHECK(*ParseNamingStrategy("preserve") == NamingStrategy::kPreserve);
  CHECK(*ParseNamingStrategy("flatten") == NamingStrategy::kFlatten);
  CHECK(*ParseNamingStrategy("template") == NamingStrategy::kTemplate);
  Result<NamingStrategy> bad = ParseNamingStrategy("flat");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("\"flat\"") && Catch::Contains("flatten"));
}

TEST_CASE("target prefixes are a registry host and an optional namespace path", "[naming]") {
  struct Case {
    std::string input, registry, ns;
  };
  const std::vector<Case> cases = {
      {"registry.cn-hangzhou.aliyuncs.com/knative-mirror", "registry.cn-hangzhou.aliyuncs.com",
       "knative-mirror"},
      {"harbor.local:8443/proj", "harbor.local:8443", "proj"},
      {"127.0.0.1:5000/mirror", "127.0.0.1:5000", "mirror"},
      {"127.0.0.1:5000", "127.0.0.1:5000", ""},
      {"localhost:5000/a/b/c", "localhost:5000", "a/b/c"},
      {"localhost/team", "localhost", "team"},
      {"[::1]:5000/m", "[::1]:5000", "m"},
      {"docker.io/x", "docker.io", "x"},
      {"index.docker.io/x", "docker.io", "x"},
      {"harbor.local/proj/", "harbor.local", "proj"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    TargetPrefix prefix = Prefix(c.input);
    CHECK(prefix.registry == c.registry);
    CHECK(prefix.ns == c.ns);
  }
  CHECK(Prefix("harbor.local:8443/proj").String() == "harbor.local:8443/proj");
  CHECK(Prefix("127.0.0.1:5000").String() == "127.0.0.1:5000");
}

TEST_CASE("bad target prefixes are refused with the reason", "[naming]") {
  struct Case {
    std::string input, reason;
  };
  const std::vector<Case> cases = {
      {"", "empty"},
      {"myuser", "not a registry host"},
      {"myuser/proj", "docker.io/myuser"},
      {"harbor.local/Proj", "lowercase"},
      {"harbor.local//proj", "empty path component"},
      {"harbor.local:port/proj", "not a number"},
      {"my_host.local/proj", "contains '_'"},
  };
  for (const Case& c : cases) {
    INFO(c.input);
    Result<TargetPrefix> prefix = TargetPrefix::Parse(c.input);
    REQUIRE_FALSE(prefix.ok());
    CHECK(prefix.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(prefix.status().message(),
               Catch::Contains("\"" + c.input + "\"") && Catch::Contains(c.reason));
  }
}

TEST_CASE("preserve keeps the source path under the namespace", "[naming]") {
  struct Case {
    std::string source, to, target;
  };
  const std::vector<Case> cases = {
      {"gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0", kAcr,
       "registry.cn-hangzhou.aliyuncs.com/knative-mirror/knative-releases/knative.dev/serving/"
       "cmd/queue:v1.23.0"},
      {"docker.io/library/alpine:3.6", "harbor.local:8443/proj",
       "harbor.local:8443/proj/library/alpine:3.6"},
      {"alpine:3.6", "127.0.0.1:5000", "127.0.0.1:5000/library/alpine:3.6"},
      {"docker.io/istio/proxyv2:1.1.3", "127.0.0.1:5000/a/b",
       "127.0.0.1:5000/a/b/istio/proxyv2:1.1.3"},
      {kServingController, "127.0.0.1:5000/m",
       "127.0.0.1:5000/m/knative-releases/github.com/knative/serving/cmd/controller:"
       "sha256-8f402eab0ada038d@" + kServingControllerDigest},
  };
  for (const Case& c : cases) {
    INFO(c.source << " -> " << c.to);
    CHECK(Plan({c.source}, c.to, Options(NamingStrategy::kPreserve)) ==
          std::vector<std::string>{c.target});
  }
}

TEST_CASE("tags: kept, derived from the digest, or latest; the digest is always kept",
          "[naming]") {
  const std::string digest = kServingControllerDigest;
  struct Case {
    std::string source, tag, digest;
  };
  const std::vector<Case> cases = {
      {"alpine:3.6", "3.6", ""},
      {"alpine", "latest", ""},
      {"alpine@" + digest, "sha256-8f402eab0ada038d", digest},
      {"alpine:3.6@" + digest, "3.6", digest},
      {"alpine@sha512:" + std::string(128, 'c'), "sha512-cccccccccccccccc",
       "sha512:" + std::string(128, 'c')},
  };
  for (const Case& c : cases) {
    INFO(c.source);
    Result<std::vector<ImageReference>> targets =
        PlanTargets({Ref(c.source)}, Prefix("harbor.local/p"), Options(NamingStrategy::kPreserve));
    REQUIRE(targets.ok());
    CHECK((*targets)[0].tag == c.tag);
    CHECK(IsValidTag((*targets)[0].tag));
    CHECK((*targets)[0].digest == c.digest);
  }
}

// The flatten names for real corpus images, planned as one set. Knative's fixed prefixes and
// "cmd" directories are dropped; controller and webhook of serving, eventing and net-istio stay
// apart because the component names are kept.
TEST_CASE("flatten names for the real corpus images", "[naming]") {
  struct Row {
    std::string source, name, tag;
  };
  const std::vector<Row> table = {
      {kServingController, "serving-controller", "sha256-8f402eab0ada038d"},
      {kEventingController, "eventing-controller", "sha256-85c010633944c06f"},
      {kNetIstioController, "net-istio-controller", "sha256-cf1530d3b625d247"},
      {kServingWebhook, "serving-webhook", "sha256-f0f98736bd4b5535"},
      {kEventingWebhook, "eventing-webhook", "sha256-34a7cac96f8c809a"},
      {kNetIstioWebhook, "net-istio-webhook", "sha256-ac5c0458f32e353a"},
      {kQueueV123, "serving-queue", "sha256-a3cc71ce80dbc6df"},
      {kEventingInMemory, "eventing-in_memory-dispatcher", "v0.6.0"},
      {kCleanup, "serving-pkg-cleanup-cleanup", "v1.23.0"},
      {"docker.io/istio/proxyv2:1.1.3", "istio-proxyv2", "1.1.3"},
      {"alpine:3.6", "alpine", "3.6"},
      {"docker.elastic.co/kibana/kibana:5.6.4", "kibana-kibana", "5.6.4"},
      {"docker.io/envoyproxy/envoy:v1.37-latest", "envoyproxy-envoy", "v1.37-latest"},
      {"k8s.gcr.io/fluentd-elasticsearch:v2.0.4", "fluentd-elasticsearch", "v2.0.4"},
      {"quay.io/coreos/kube-rbac-proxy:v0.4.0", "coreos-kube-rbac-proxy", "v0.4.0"},
  };
  REQUIRE(table.size() == CorpusSources().size());
  Result<std::vector<ImageReference>> targets =
      PlanTargets(Refs(CorpusSources()), Prefix(kAcr), Options(NamingStrategy::kFlatten));
  INFO(targets.status().ToString());
  REQUIRE(targets.ok());
  for (std::size_t i = 0; i < table.size(); ++i) {
    INFO(table[i].source);
    REQUIRE(Ref(table[i].source) == Ref(CorpusSources()[i]));
    const ImageReference& target = (*targets)[i];
    CHECK(target.registry == "registry.cn-hangzhou.aliyuncs.com");
    CHECK(target.repository == "knative-mirror/" + table[i].name);
    CHECK(target.tag == table[i].tag);
    CHECK(target.digest == Ref(table[i].source).digest);
    // ACR Personal: exactly namespace/repository.
    CHECK(std::count(target.repository.begin(), target.repository.end(), '/') == 1);
  }
}

TEST_CASE("flatten names do not depend on the order of the sources", "[naming]") {
  std::vector<std::string> sources = CorpusSources();
  sources.push_back("quay.io/istio/proxyv2:1.1.3");
  std::vector<std::string> forward = Plan(sources, kAcr, Options(NamingStrategy::kFlatten));
  std::vector<std::string> reversed_sources(sources.rbegin(), sources.rend());
  std::vector<std::string> backward =
      Plan(reversed_sources, kAcr, Options(NamingStrategy::kFlatten));
  std::reverse(backward.begin(), backward.end());
  CHECK(forward == backward);
}

// A source gets a longer name only when its short name is shared, and then every sharer does.
TEST_CASE("flatten names grow just enough to stay unique", "[naming]") {
  struct Case {
    std::string what;
    std::vector<std::string> sources;
    std::vector<std::string> names;
  };
  const std::vector<Case> cases = {
      {"sources differing only by registry get the registry",
       {"docker.io/istio/proxyv2:1.1.3", "quay.io/istio/proxyv2:1.1.3", "alpine:3.6"},
       {"docker.io-istio-proxyv2", "quay.io-istio-proxyv2", "alpine"}},
      {"a registry with a port is legalised",
       {"localhost:5000/istio/proxyv2:1", "docker.io/istio/proxyv2:1"},
       {"localhost-5000-istio-proxyv2", "docker.io-istio-proxyv2"}},
      {"Knative's old and new module paths keep their full paths",
       {kServingController,
        "gcr.io/knative-releases/knative.dev/serving/cmd/controller@"
        "sha256:ca5062ece0329d002a81940cf4268d7898866434d70049bb93f27d3a786d3292",
        kEventingController},
       {"knative-releases-github.com-knative-serving-cmd-controller",
        "knative-releases-knative.dev-serving-cmd-controller", "eventing-controller"}},
      {"a dropped prefix cannot make two images one",
       {"alpine:1", "docker.io/library/alpine/alpine:1", "docker.io/alpine/alpine:1"},
       {"alpine", "library-alpine-alpine", "alpine-alpine"}},
      {"paths that only differ in punctuation get a hash",
       {"quay.io/a-b/c:1", "quay.io/a/b-c:1"},
       {"quay.io-a-b-c-3ba70ee2", "quay.io-a-b-c-532cbf79"}},
      {"the same image spelled twice is one source", {"alpine:3.6", "docker.io/library/alpine:3.6"},
       {"alpine", "alpine"}},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::vector<std::string> want;
    for (std::size_t i = 0; i < c.sources.size(); ++i) {
      std::string tag = Ref(c.sources[i]).tag;
      if (tag.empty()) tag = "sha256-" + Ref(c.sources[i]).digest.substr(7, 16);
      std::string digest = Ref(c.sources[i]).digest;
      want.push_back("harbor.local/p/" + c.names[i] + ":" + tag +
                     (digest.empty() ? "" : "@" + digest));
    }
    CHECK(Plan(c.sources, "harbor.local/p", Options(NamingStrategy::kFlatten)) == want);
  }
}

TEST_CASE("long flatten names keep their last components and get a hash", "[naming]") {
  const std::string deep =
      "gcr.io/some-project/github.com/some-organisation/some-long-repository-name/cmd/"
      "a-rather-long-binary-name:v1";
  NamingOptions options = Options(NamingStrategy::kFlatten);
  std::vector<std::string> targets = Plan({deep}, "harbor.local/p", options);
  const std::string hash = "79811a80";
  CHECK(targets[0] ==
        "harbor.local/p/some-long-repository-name-cmd-a-rather-long-binary-name-" + hash + ":v1");
  CHECK(Ref(targets[0]).repository.size() - std::string("p/").size() <= kDefaultMaxFlatLength);

  // The limit is configurable; a last component longer than the room left is cut.
  options.max_repository_length = 20;
  CHECK(Plan({deep}, "harbor.local/p", options) ==
        std::vector<std::string>{"harbor.local/p/a-rather-lo-" + hash + ":v1"});
  options.max_repository_length = 30;
  CHECK(Plan({"alpine:3.6"}, "harbor.local/p", options) ==
        std::vector<std::string>{"harbor.local/p/alpine:3.6"});

  options.max_repository_length = 9;
  Result<std::vector<ImageReference>> bad =
      PlanTargets(Refs({"alpine"}), Prefix("harbor.local/p"), options);
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("at least 10"));
}

TEST_CASE("template placeholders", "[naming]") {
  const std::string source = "gcr.io/knative-releases/knative.dev/net-istio/cmd/webhook:v1.23.0";
  struct Case {
    std::string pattern, repository;
  };
  const std::vector<Case> cases = {
      {"{basename}", "m/webhook"},
      {"{registry}/{repository}", "m/gcr.io/knative-releases/knative.dev/net-istio/cmd/webhook"},
      {"{parent}", "m/knative-releases/knative.dev/net-istio/cmd"},
      {"knative/{flat}", "m/knative/net-istio-webhook"},
      {"{basename}-{hash}", "m/webhook-781ea284"},
      {"x/{parent}/{basename}", "m/x/knative-releases/knative.dev/net-istio/cmd/webhook"},
  };
  for (const Case& c : cases) {
    INFO(c.pattern);
    CHECK(Plan({source}, "127.0.0.1:5000/m", Options(NamingStrategy::kTemplate, c.pattern)) ==
          std::vector<std::string>{"127.0.0.1:5000/" + c.repository + ":v1.23.0"});
  }
  // {registry} is legalised; an empty {parent} leaves no empty component.
  CHECK(Plan({"localhost:5000/app:1"}, "harbor.local/p",
             Options(NamingStrategy::kTemplate, "{registry}/{parent}/{basename}")) ==
        std::vector<std::string>{"harbor.local/p/localhost-5000/app:1"});
}

TEST_CASE("invalid templates are refused before anything is named", "[naming]") {
  struct Case {
    std::string pattern, reason;
  };
  const std::vector<Case> cases = {
      {"", "needs a pattern"},
      {"{name}", "unknown placeholder {name}"},
      {"{basename}-{Hash}", "unknown placeholder {Hash}"},
      {"mirror-{basename", "not closed"},
  };
  for (const Case& c : cases) {
    INFO(c.pattern);
    Status status = PlanError({"alpine"}, "harbor.local/p",
                              Options(NamingStrategy::kTemplate, c.pattern));
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message(), Catch::Contains(c.reason));
  }
}

TEST_CASE("an invalid target repository names the source", "[naming]") {
  Status upper = PlanError({"gcr.io/a/b:1"}, "harbor.local/p",
                           Options(NamingStrategy::kTemplate, "Mirror-{basename}"));
  CHECK_THAT(upper.message(), Catch::Contains("gcr.io/a/b:1") &&
                                  Catch::Contains("harbor.local/p") &&
                                  Catch::Contains("lowercase"));

  // Preserve cannot shorten: a deep source under a deep namespace exceeds 255 characters.
  std::string deep = "gcr.io/" + std::string(120, 'a') + "/" + std::string(120, 'b') + ":1";
  Status too_long = PlanError({deep}, "harbor.local/" + std::string(20, 'n'),
                              Options(NamingStrategy::kPreserve));
  CHECK_THAT(too_long.message(), Catch::Contains(deep) && Catch::Contains("255"));
}

TEST_CASE("collisions are all reported, the same source twice is not one", "[naming]") {
  Status status = PlanError(
      {"docker.io/istio/proxyv2:1.1.3", "quay.io/istio/proxyv2:1.1.3", "gcr.io/x/controller:1",
       "gcr.io/y/controller:1", "gcr.io/z/controller:1", "docker.io/istio/proxyv2:1.1.3",
       "alpine:3.6"},
      "harbor.local/p", Options(NamingStrategy::kTemplate, "{basename}"));
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK_THAT(status.message(),
             Catch::StartsWith("2 target names are claimed by more than one source image") &&
                 Catch::Contains("\n  harbor.local/p/controller:1 <- gcr.io/x/controller:1, "
                                 "gcr.io/y/controller:1, gcr.io/z/controller:1") &&
                 Catch::Contains("\n  harbor.local/p/proxyv2:1.1.3 <- "
                                 "docker.io/istio/proxyv2:1.1.3, quay.io/istio/proxyv2:1.1.3"));
  CHECK_THAT(status.message(), !Catch::Contains("alpine"));

  // Preserve drops the registry, so the same path on two registries collides there too.
  CHECK_THAT(PlanError({"docker.io/istio/proxyv2:1", "quay.io/istio/proxyv2:1"}, "harbor.local/p",
                       Options(NamingStrategy::kPreserve))
                 .message(),
             Catch::Contains("harbor.local/p/istio/proxyv2:1 <- "));

  // One name and tag pinned to two digests: the target tag could hold only one.
  CHECK_THAT(PlanError({"alpine:3.6@sha256:" + std::string(64, 'a'),
                        "alpine:3.6@sha256:" + std::string(64, 'b')},
                       "harbor.local/p", Options(NamingStrategy::kFlatten))
                 .message(),
             Catch::StartsWith("1 target name is claimed"));

  // Not collisions: one image spelled several ways, and a tag next to its pinned form.
  CHECK(Plan({"alpine", "alpine:latest", "docker.io/library/alpine:latest", "alpine:3.6",
              "alpine:3.6@" + kServingControllerDigest},
             "harbor.local/p", Options(NamingStrategy::kPreserve))
            .size() == 5);
}

}  // namespace
}  // namespace ferry
