// Specification of FindImages, part 1: where images are found, how sure the finder is, and the
// look-alikes it must leave alone. Positions and errors: image_finder_positions_test.cc and
// image_finder_errors_test.cc.
#include "rewrite/image_finder.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace ferry {
namespace {

const std::string kDigest =
    "sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45";

std::vector<ImageOccurrence> Find(const std::string& yaml) {
  YamlDocument doc{yaml, 0, 1, 0};
  Result<std::vector<ImageOccurrence>> found = FindImages(doc, "test.yaml");
  INFO(found.status().ToString());
  REQUIRE(found.ok());
  for (const ImageOccurrence& o : *found) CHECK(yaml.substr(o.offset, o.text.size()) == o.text);
  return *found;
}

std::string Name(Confidence c) {
  return c == Confidence::kCertain ? "certain" : c == Confidence::kLikely ? "likely" : "optional";
}

struct Expected {
  std::string text;
  std::string yaml_path;
  Confidence confidence;
  std::string why;
};

struct RuleCase {
  std::string name;
  std::string yaml;
  std::vector<Expected> found;
};

TEST_CASE("images are found in every place the rules name, with their confidence") {
  const auto kCertain = Confidence::kCertain;
  const auto kLikely = Confidence::kLikely;
  const std::vector<RuleCase> cases = {
      {"Deployment containers and initContainers",
       "kind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n"
       "      - image: busybox:1.28\n      containers:\n      - name: a\n        image: gcr.io/a/b:1\n"
       "      - name: b\n        image: quay.io/c/d@" + kDigest + "\n",
       {{"busybox:1.28", "spec.template.spec.initContainers[0].image", kCertain, "container image"},
        {"gcr.io/a/b:1", "spec.template.spec.containers[0].image", kCertain, "container image"},
        {"quay.io/c/d@" + kDigest, "spec.template.spec.containers[1].image", kCertain,
         "container image"}}},
      {"Pod ephemeralContainers",
       "kind: Pod\nspec:\n  ephemeralContainers:\n  - image: debug/tools:2\n",
       {{"debug/tools:2", "spec.ephemeralContainers[0].image", kCertain, "container image"}}},
      {"CronJob jobTemplate",
       "kind: CronJob\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n"
       "          containers:\n          - image: gcr.io/x/job:1\n",
       {{"gcr.io/x/job:1", "spec.jobTemplate.spec.template.spec.containers[0].image", kCertain,
         "container image"}}},
      {"Knative Service v1",
       "apiVersion: serving.knative.dev/v1\nkind: Service\nspec:\n  template:\n    spec:\n"
       "      containers:\n      - image: gcr.io/knative-samples/helloworld-go\n",
       {{"gcr.io/knative-samples/helloworld-go", "spec.template.spec.containers[0].image", kCertain,
         "container image"}}},
      {"Knative Service v1alpha1 runLatest",
       "apiVersion: serving.knative.dev/v1alpha1\nkind: Service\nspec:\n  runLatest:\n"
       "    configuration:\n      revisionTemplate:\n        spec:\n          container:\n"
       "            image: gcr.io/knative-samples/autoscale-go:0.1\n",
       {{"gcr.io/knative-samples/autoscale-go:0.1",
         "spec.runLatest.configuration.revisionTemplate.spec.container.image", kCertain,
         "container image"}}},
      {"an image field takes any parseable reference, even one word",
       "kind: Pod\nspec:\n  containers:\n  - image: alpine\n  - image: \"disabled\"\n",
       {{"alpine", "spec.containers[0].image", kCertain, "container image"},
        {"disabled", "spec.containers[1].image", kCertain, "container image"}}},
      {"Knative caching Image",
       "apiVersion: caching.internal.knative.dev/v1alpha1\nkind: Image\nmetadata:\n"
       "  name: queue-proxy\nspec:\n  image: gcr.io/knative-releases/queue@" + kDigest + "\n",
       {{"gcr.io/knative-releases/queue@" + kDigest, "spec.image", kCertain, "cached image"}}},
      {"config-deployment queue sidecar image, old and new key",
       "kind: ConfigMap\ndata:\n  queueSidecarImage: gcr.io/q/old:1\n"
       "  queue-sidecar-image: gcr.io/q/new:2\n",
       {{"gcr.io/q/old:1", "data.queueSidecarImage", kCertain, "queue sidecar image"},
        {"gcr.io/q/new:2", "data.queue-sidecar-image", kCertain, "queue sidecar image"}}},
      {"any other ConfigMap value that is a reference with strong evidence, or named an image",
       "kind: ConfigMap\ndata:\n  logging.fluentd-sidecar-image: k8s.gcr.io/fluentd:v2\n"
       "  helper: alpine:3.6\n  helper-image: alpine:3.6\n  mirror: gcr.io/x/y:1\n",
       {{"k8s.gcr.io/fluentd:v2", "data.logging.fluentd-sidecar-image", kLikely, "ConfigMap value"},
        {"alpine:3.6", "data.helper-image", kLikely, "ConfigMap value"},
        {"gcr.io/x/y:1", "data.mirror", kLikely, "ConfigMap value"}}},
      {"env values (Knative Eventing 0.6)",
       "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - env:\n"
       "        - name: BROKER_INGRESS_IMAGE\n          value: gcr.io/e/broker/ingress@" + kDigest +
       "\n        - name: SYSTEM_NAMESPACE\n          value: knative-eventing\n",
       {{"gcr.io/e/broker/ingress@" + kDigest, "spec.template.spec.containers[0].env[0].value",
         kLikely, "env value"}}},
      {"args: -flag=REF, --flag REF, and Build 0.x's -creds-image then the reference",
       "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - args:\n"
       "        - -logtostderr\n        - -creds-image\n        - gcr.io/b/creds-init@" + kDigest +
       "\n        - --nop-image=gcr.io/b/nop:1\n        - --mode\n        - gcr.io/b/git:2\n",
       {{"gcr.io/b/creds-init@" + kDigest, "spec.template.spec.containers[0].args[2]", kLikely,
         "flag argument"},
        {"gcr.io/b/nop:1", "spec.template.spec.containers[0].args[3]", kLikely, "flag argument"},
        {"gcr.io/b/git:2", "spec.template.spec.containers[0].args[5]", kLikely, "flag argument"}}},
      {"a reference in an argument not after a flag",
       "kind: Pod\nspec:\n  containers:\n  - command: [crane, copy, gcr.io/a/b:1]\n",
       {{"gcr.io/a/b:1", "spec.containers[0].command[2]", kLikely, "argument"}}},
      {"Istio 1.1 sidecar-injector template text, both forms",
       "kind: ConfigMap\ndata:\n  config: |-\n    policy: disabled\n    template: |-\n"
       "      initContainers:\n      - name: istio-init\n"
       "        image: \"docker.io/istio/proxy_init:1.1.3\"\n      containers:\n"
       "      - name: istio-proxy\n        image: [[ annotation .ObjectMeta "
       "`sidecar.istio.io/proxyImage`  \"docker.io/istio/proxyv2:1.1.3\"  ]]\n",
       {{"docker.io/istio/proxy_init:1.1.3", "data.config", kLikely, "in text"},
        {"docker.io/istio/proxyv2:1.1.3", "data.config", kLikely, "in text"}}},
      {"commented _example block",
       "kind: ConfigMap\ndata:\n  _example: |\n    # logging.fluentd-sidecar-image provides the image\n"
       "    # logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4\n"
       "    logging.other-image: gcr.io/x/y:1\n",
       {{"k8s.gcr.io/fluentd-elasticsearch:v2.0.4", "data._example", Confidence::kOptional,
         "commented example"},
        {"gcr.io/x/y:1", "data._example", Confidence::kOptional, "commented example"}}},
      {"the same reference twice in one text is two occurrences",
       "kind: ConfigMap\ndata:\n  config: |\n    a: gcr.io/x/y:1\n    b: gcr.io/x/y:1\n",
       {{"gcr.io/x/y:1", "data.config", kLikely, "in text"},
        {"gcr.io/x/y:1", "data.config", kLikely, "in text"}}},
  };
  for (const RuleCase& c : cases) {
    SECTION(c.name) {
      std::vector<ImageOccurrence> found = Find(c.yaml);
      REQUIRE(found.size() == c.found.size());
      for (size_t i = 0; i < found.size(); ++i) {
        INFO("occurrence " << i);
        CHECK(found[i].text == c.found[i].text);
        CHECK(found[i].yaml_path == c.found[i].yaml_path);
        CHECK(Name(found[i].confidence) == Name(c.found[i].confidence));
        CHECK(found[i].why == c.found[i].why);
      }
      if (found.size() == 2 && found[0].text == found[1].text) CHECK(found[0].offset < found[1].offset);
    }
  }
}

TEST_CASE("look-alikes are not images") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"URLs, in values, args and text",
       "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n"
       "        args: [--upstream=http://127.0.0.1:8081/, --url, https://gcr.io/a/b:1]\n"
       "        env: [{name: U, value: \"https://quay.io/x/y:1\"}]\n"},
      {"Go import paths and ko:// paths",
       "kind: ConfigMap\ndata:\n  controller: github.com/knative/serving/cmd/controller\n"
       "  queue: ko://knative.dev/serving/cmd/queue\n"
       "  notes: |\n    built from github.com/knative/serving/cmd/queue and ko://knative.dev/x\n"},
      {"versions and label values",
       "kind: Service\nmetadata:\n  labels:\n    app.kubernetes.io/version: \"1.23.0\"\n"
       "    serving.knative.dev/release: v0.6.0\n  annotations:\n"
       "    knative.dev/example-checksum: \"c727b3e8\"\nspec:\n  version: 1.1.3\n"},
      {"single words and \"disabled\" outside image fields",
       "kind: ConfigMap\ndata:\n  policy: disabled\n  image: nginx\n"
       "  config: |\n    template: |\n      image: \"disabled\"\n      image: alpine:3.6\n"},
      {"host:port addresses",
       "kind: ConfigMap\ndata:\n  zipkin: zipkin.istio-system:9411\n  local: localhost:8080\n"
       "  mesh: |\n    discoveryAddress: istio-pilot.istio-system:15010\n"
       "  listen: --web.listen-address=127.0.0.1:9101\n"},
      {"registry lists, digests alone, times, paths",
       "kind: ConfigMap\ndata:\n  registries-skipping-tag-resolving: \"kind.local,ko.local,dev.local\"\n"
       "  digest: " + kDigest + "\n  at: \"10:30\"\n  path: /etc/config-logging\n"
       "  prometheus.io/path: /metrics\n"},
      {"keys are never images", "kind: ConfigMap\ndata:\n  gcr.io/a/b:1: x\n"},
      {"CRD schema fields named image",
       "kind: CustomResourceDefinition\nspec:\n  versions:\n  - schema:\n      openAPIV3Schema:\n"
       "        properties:\n          image:\n            type: string\n"
       "            description: \"Container image name. More info: "
       "https://kubernetes.io/docs/concepts/containers/images\"\n"},
      {"empty and null image fields",
       "kind: Pod\nspec:\n  containers:\n  - image: \"\"\n  - image:\n  - image: ~\n"},
  };
  for (const auto& [name, yaml] : cases) {
    SECTION(name) {
      std::vector<ImageOccurrence> found = Find(yaml);
      for (const ImageOccurrence& o : found) FAIL_CHECK("unexpected " << o.text << " at " << o.yaml_path);
    }
  }
}

TEST_CASE("occurrences name the Kubernetes object around them") {
  std::vector<ImageOccurrence> found = Find(
      "apiVersion: batch/v1\nkind: Job\nmetadata:\n  generateName: cleanup-serving-\n"
      "  namespace: knative-serving\nspec:\n  template:\n    spec:\n      containers:\n"
      "      - image: gcr.io/a/cleanup:1\n");
  REQUIRE(found.size() == 1);
  CHECK(found[0].file == "test.yaml");
  CHECK(found[0].kind == "Job");
  CHECK(found[0].ns == "knative-serving");
  CHECK(found[0].name == "cleanup-serving-");  // generateName when there is no name
  CHECK(found[0].ref.String() == "gcr.io/a/cleanup:1");

  SECTION("each item of a List is its own object") {
    std::vector<ImageOccurrence> items = Find(
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: v1\n  kind: Pod\n  metadata: {name: one, namespace: a}\n"
        "  spec: {containers: [{image: gcr.io/x/one:1}]}\n"
        "- apiVersion: caching.internal.knative.dev/v1alpha1\n  kind: Image\n  metadata: {name: two}\n"
        "  spec: {image: gcr.io/x/two:1}\n");
    REQUIRE(items.size() == 2);
    CHECK(items[0].kind == "Pod");
    CHECK(items[0].name == "one");
    CHECK(items[0].ns == "a");
    CHECK(items[0].yaml_path == "items[0].spec.containers[0].image");
    CHECK(items[1].kind == "Image");
    CHECK(items[1].why == "cached image");
  }
}

}  // namespace
}  // namespace ferry
