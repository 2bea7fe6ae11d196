// Specification of FindImages, part 4: precision. What release files hold that looks like an image
// and is not one (an RBAC role name, a log scope:level flag, a Helm template) is never reported as
// a reference, so it is never rewritten. Each case is a small synthetic document.
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "rewrite/image_finder.h"

namespace ferry {
namespace {

std::vector<ImageOccurrence> Find(const std::string& yaml) {
  YamlDocument doc{yaml, 0, 1, 0};
  Result<std::vector<ImageOccurrence>> found = FindImages(doc, "test.yaml");
  INFO(found.status().ToString());
  REQUIRE(found.ok());
  return *found;
}

void RequireNone(const std::string& yaml) {
  for (const ImageOccurrence& o : Find(yaml)) {
    FAIL_CHECK("unexpected " << o.text << " at " << o.yaml_path << (o.templated ? " (templated)" : ""));
  }
}

TEST_CASE("fields that name other objects are never images") {
  SECTION("a ClusterRoleBinding to system:auth-delegator") {
    RequireNone(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n"
        "  name: eventing-webhook:system:auth-delegator\nroleRef:\n"
        "  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: system:auth-delegator\n"
        "subjects:\n- kind: ServiceAccount\n  name: eventing-webhook\n  namespace: knative-eventing\n");
  }
  SECTION("even when the name is shaped like a registry reference") {
    RequireNone(
        "kind: RoleBinding\nroleRef: {kind: Role, name: registry.example.com/team:admin}\n"
        "subjects: [{kind: User, name: gcr.io/x/y:1}]\n");
  }
  SECTION("service accounts, secrets, ConfigMap references, volumes, labels, selectors") {
    RequireNone(
        "kind: Deployment\nmetadata:\n  name: gcr.io/a/b:1\n  labels: {app: quay.io/c/d:2}\n"
        "spec:\n  selector:\n    matchLabels: {app: quay.io/c/d:2}\n  template:\n    spec:\n"
        "      serviceAccountName: registry.local/x:1\n"
        "      imagePullSecrets: [{name: gcr.io/pull:1}]\n"
        "      containers:\n      - name: c\n        env:\n        - name: A\n          valueFrom:\n"
        "            configMapKeyRef: {name: registry.local/cm:1, key: k}\n"
        "      volumes:\n      - name: v\n        secret: {secretName: registry.local/s:1}\n");
  }
  SECTION("annotations, unless the key names an image") {
    std::vector<ImageOccurrence> found = Find(
        "kind: Deployment\nspec:\n  template:\n    metadata:\n      annotations:\n"
        "        kubectl.kubernetes.io/last-applied-configuration: "
        "'{\"spec\":{\"containers\":[{\"image\":\"gcr.io/a/b:1\"}]}}'\n"
        "        example.com/mirror: gcr.io/a/b:1\n"
        "        sidecar.istio.io/proxyImage: docker.io/istio/proxyv2:1.1.3\n");
    REQUIRE(found.size() == 1);
    CHECK(found[0].text == "docker.io/istio/proxyv2:1.1.3");
    CHECK(found[0].why == "annotation");
  }
}

TEST_CASE("scope:level, key:value and host:port words are not images") {
  SECTION("Istio's log flags and addresses in container args") {
    RequireNone(
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: discovery\n"
        "        args:\n        - discovery\n"
        "        - --log_output_level=default:info\n        - --proxyComponentLogLevel=misc:error\n"
        "        - --log_output_level\n        - default:info\n        - --discoveryAddress\n"
        "        - istio-pilot.istio-system:15010\n        - --role\n        - system:auth-delegator\n"
        "        - --monitoringAddr=:15014\n        - --zipkinAddress=zipkin.istio-system:9411\n"
        "        env:\n        - {name: LOG_SCOPES, value: \"default:info\"}\n"
        "        - {name: HELPER, value: \"alpine:3.6\"}\n        - {name: REPO, value: \"prom/prometheus:v2\"}\n");
  }
  SECTION("ConfigMap values and words of text") {
    RequireNone(
        "kind: ConfigMap\ndata:\n  loglevel.controller: default:info\n  role: system:auth-delegator\n"
        "  helper: alpine:3.6\n  upstream: prom/prometheus:v2.2.1\n"
        "  mesh: |\n    defaultConfig:\n      proxyComponentLogLevel: misc:error\n"
        "      image: knative/helloworld:v1\n");
  }
  SECTION("a key that names an image takes a Docker Hub reference, not a bare word") {
    std::vector<ImageOccurrence> found = Find(
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
        "        image: gcr.io/a/b:1\n        args: [--sidecar-image, \"prom/prometheus:v2\", "
        "--default-image=none]\n        env:\n        - {name: HELPER_IMAGE, value: \"alpine:3.6\"}\n"
        "        - {name: IMAGE_PULL_POLICY, value: IfNotPresent}\n"
        "        - {name: FALLBACK_IMAGE, value: \"registry:5000\"}\n");
    REQUIRE(found.size() == 3);
    CHECK(found[1].text == "prom/prometheus:v2");
    CHECK(found[1].why == "flag argument");
    CHECK(found[2].text == "alpine:3.6");
    CHECK(found[2].why == "env value");
  }
}

TEST_CASE("templated references are reported as templated, with no reference to rewrite") {
  struct Case {
    std::string name, yaml, text, path;
  };
  const std::vector<Case> cases = {
      {"a Helm-style container image",
       "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n      - name: c\n"
       "        image: \"gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}\"\n",
       "gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}",
       "spec.template.spec.containers[0].image"},
      {"a Helm values file",
       "image: \"gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}\"\n",
       "gcr.io/knative-releases/knative.dev/serving/cmd/controller:{{ .Values.tag }}", "image"},
      {"hub and tag both templated",
       "kind: Pod\nspec:\n  containers:\n  - image: \"{{ .Values.hub }}/proxyv2:{{ .Values.tag }}\"\n",
       "{{ .Values.hub }}/proxyv2:{{ .Values.tag }}", "spec.containers[0].image"},
      {"shell-style variables",
       "kind: Pod\nspec:\n  containers:\n  - image: ${REGISTRY}/app:${TAG}\n",
       "${REGISTRY}/app:${TAG}", "spec.containers[0].image"},
      {"a flag whose name says image",
       "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n    args: [\"-nop-image={{ .Values.nop }}\"]\n",
       "{{ .Values.nop }}", "spec.containers[0].args[0]"},
      {"a reference joined to a template inside text",
       "kind: ConfigMap\ndata:\n  template: |\n    containers:\n"
       "    - image: gcr.io/knative-releases/x/controller:{{ .Values.tag }}\n",
       "gcr.io/knative-releases/x/controller:{{ .Values.tag }}", "data.template"},
      {"a shell variable as the tag of a whole value",
       "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n    env:\n"
       "    - {name: SIDECAR, value: \"gcr.io/x/sidecar:${TAG}\"}\n",
       "gcr.io/x/sidecar:${TAG}", "spec.containers[0].env[0].value"},
      // The parsed value folds the line break into a blank; what is reported is what the file
      // writes where the reference starts (found by fuzzing).
      {"a template broken over two lines of a plain image field",
       "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:${\n      TAG}\n",
       "gcr.io/a/b:${", "spec.containers[0].image"},
      {"a template broken over two lines of a plain value",
       "kind: Pod\nspec:\n  containers:\n  - image: gcr.io/a/b:1\n    env:\n"
       "    - name: SIDECAR\n      value: gcr.io/x/sidecar:${\n        TAG}\n",
       "gcr.io/x/sidecar:${", "spec.containers[0].env[0].value"},
  };
  for (const Case& c : cases) {
    SECTION(c.name) {
      std::vector<ImageOccurrence> templated;
      for (const ImageOccurrence& o : Find(c.yaml))
        if (o.templated) templated.push_back(o);
      REQUIRE(templated.size() == 1);
      CHECK(templated[0].text == c.text);
      CHECK(templated[0].yaml_path == c.path);
      CHECK(templated[0].ref.repository.empty());
      CHECK(c.yaml.substr(templated[0].offset, c.text.size()) == c.text);  // its own bytes
    }
  }
  SECTION("other words of the same text are still references") {
    std::vector<ImageOccurrence> found = Find(
        "kind: ConfigMap\ndata:\n  template: |\n    a: gcr.io/x/controller:{{ .Values.tag }}\n"
        "    b: gcr.io/x/webhook:1\n");
    REQUIRE(found.size() == 2);
    CHECK(found[0].templated);
    CHECK_FALSE(found[1].templated);
    CHECK(found[1].ref.String() == "gcr.io/x/webhook:1");
  }
  SECTION("template text that names no image is not reported") {
    RequireNone(
        "kind: ConfigMap\ndata:\n  template: |\n    name: {{ .Values.name }}\n"
        "    args: [\"--level={{ .Values.level }}\"]\n  env: \"${HOME}/bin:${PATH}\"\n");
  }
}

}  // namespace
}  // namespace ferry
