// LoadClusterConfig: kubeconfig merging, context and namespace selection, every field, relative
// paths, and the in-cluster service account.
#include "installer/kubeconfig.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/base64.h"
#include "scratch_files.h"

namespace ferry::installer {
namespace {

using testing::FakePem;
using testing::ScopedEnv;
using testing::ScratchDir;

const std::string kCa = FakePem("CERTIFICATE", "ca-bytes");
const std::string kCert = FakePem("CERTIFICATE", "client-cert-bytes");
const std::string kKey = FakePem("PRIVATE KEY", "key-SECRET-bytes");

// Keeps the developer's own kubeconfig and pod environment out of every test.
struct CleanEnv {
  ScopedEnv kubeconfig{"KUBECONFIG", std::nullopt};
  ScopedEnv host{"KUBERNETES_SERVICE_HOST", std::nullopt};
  ScopedEnv port{"KUBERNETES_SERVICE_PORT", std::nullopt};
  ScratchDir home_dir;
  ScopedEnv home{"HOME", home_dir.path()};
};

ClusterConfig MustLoad(const KubeconfigOptions& options) {
  Result<ClusterConfig> config = LoadClusterConfig(options);
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return *config;
}

ClusterConfig MustLoadFile(const std::string& path, const std::string& context = "") {
  return MustLoad(KubeconfigOptions{.path = path, .context = context});
}

TEST_CASE("the current context's cluster, user and namespace make the config") {
  CleanEnv env;
  ScratchDir dir;
  std::string path = dir.Write("config", R"(apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster:
    server: https://dev.example.com:6443/
    certificate-authority-data: )" + Base64Encode(kCa) +
                                             R"(
    tls-server-name: api.internal
    proxy-url: http://proxy.example.com:3128
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: team-a}
users:
- name: dev-user
  user:
    token: dev-token
)");
  ClusterConfig config = MustLoadFile(path);
  CHECK(config.server == "https://dev.example.com:6443");
  CHECK(config.ca_pem == kCa);
  CHECK(config.tls_server_name == "api.internal");
  CHECK(config.proxy_url == "http://proxy.example.com:3128");
  CHECK_FALSE(config.insecure_skip_tls_verify);
  CHECK(config.token == "dev-token");
  CHECK(config.namespace_name == "team-a");
  CHECK(config.context_name == "dev");
  CHECK(config.source == "kubeconfig " + path + ", context dev");
  CHECK_FALSE(config.exec.has_value());
}

TEST_CASE("another context can be chosen, and the namespace overridden") {
  CleanEnv env;
  ScratchDir dir;
  std::string path = dir.Write("config", R"(current-context: a
clusters:
- {name: ca, cluster: {server: "https://a.example.com"}}
- {name: cb, cluster: {server: "http://127.0.0.1:8080", insecure-skip-tls-verify: true}}
contexts:
- {name: a, context: {cluster: ca, namespace: ns-a}}
- {name: b, context: {cluster: cb, user: nothing}}
users:
- name: nothing
)");
  ClusterConfig a = MustLoadFile(path);
  CHECK(a.server == "https://a.example.com");
  CHECK(a.namespace_name == "ns-a");
  CHECK(a.token.empty());  // a context without a user is anonymous

  ClusterConfig b = MustLoadFile(path, "b");
  CHECK(b.server == "http://127.0.0.1:8080");
  CHECK(b.insecure_skip_tls_verify);
  CHECK(b.namespace_name == "default");
  CHECK(b.token.empty());  // a user entry without a user mapping has no credentials
  CHECK(b.context_name == "b");

  ClusterConfig overridden = MustLoad({.path = path, .context = "a", .namespace_override = "x"});
  CHECK(overridden.namespace_name == "x");
}

TEST_CASE("$KUBECONFIG files merge like kubectl: the first file to define a name wins") {
  CleanEnv env;
  ScratchDir dir;
  std::string first = dir.Write("first.yaml", R"(clusters:
- {name: shared, cluster: {server: "https://first.example.com"}}
users:
- {name: shared-user, user: {token: first-token}}
contexts:
- {name: both, context: {cluster: shared, user: shared-user, namespace: from-first}}
)");
  std::string second = dir.Write("second.yaml", R"(current-context: both
clusters:
- {name: shared, cluster: {server: "https://second.example.com"}}
- {name: only-second, cluster: {server: "https://only-second.example.com"}}
users:
- {name: shared-user, user: {token: second-token}}
contexts:
- {name: both, context: {cluster: only-second, namespace: from-second}}
- {name: other, context: {cluster: only-second, user: shared-user}}
)");
  std::string third = dir.Write("third.yaml", "current-context: other\n");

  SECTION("definitions from the first file, current-context from the first file that sets it") {
    ScopedEnv list("KUBECONFIG",
                   dir.File("missing.yaml") + ":" + first + "::" + second + ":" + third);
    ClusterConfig config = MustLoad({});
    CHECK(config.context_name == "both");
    CHECK(config.server == "https://first.example.com");
    CHECK(config.token == "first-token");
    CHECK(config.namespace_name == "from-first");
    CHECK(config.source == "kubeconfig " + first + ", context both");
  }
  SECTION("names only the later file defines are still found") {
    ScopedEnv list("KUBECONFIG", first + ":" + second);
    ClusterConfig config = MustLoad({.context = "other"});
    CHECK(config.server == "https://only-second.example.com");
    CHECK(config.token == "first-token");  // shared-user still comes from the first file
  }
  SECTION("reversed order, reversed winners") {
    ScopedEnv list("KUBECONFIG", third + ":" + second + ":" + first);
    ClusterConfig config = MustLoad({});
    CHECK(config.context_name == "other");
    CHECK(config.token == "second-token");
  }
  SECTION("--kubeconfig replaces the list") {
    ScopedEnv list("KUBECONFIG", second);
    ClusterConfig config = MustLoad({.path = first, .context = "both"});
    CHECK(config.server == "https://first.example.com");
  }
}

TEST_CASE("the home directory's .kube/config is used when no kubeconfig is named") {
  CleanEnv env;
  env.home_dir.Write(".kube/config", R"(current-context: home
clusters: [{name: c, cluster: {server: "https://home.example.com"}}]
contexts: [{name: home, context: {cluster: c}}]
)");
  CHECK(MustLoad({}).server == "https://home.example.com");
}

TEST_CASE("relative paths resolve against the kubeconfig's own directory") {
  CleanEnv env;
  ScratchDir dir;
  dir.Write("conf/pki/ca.crt", kCa);
  dir.Write("conf/pki/client.crt", kCert);
  dir.Write("conf/pki/client.key", kKey);
  dir.Write("conf/token", "  file-token\n");
  std::string path = dir.Write("conf/kubeconfig", R"(current-context: c
clusters:
- name: c
  cluster:
    server: https://k.example.com
    certificate-authority: pki/ca.crt
users:
- name: u
  user:
    client-certificate: pki/client.crt
    client-key: ./pki/client.key
    tokenFile: token
- name: plugin-next-to-config
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: ./bin/plugin}}
- name: plugin-on-path
  user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: gke-gcloud-auth-plugin}}
contexts:
- {name: c, context: {cluster: c, user: u}}
- {name: next, context: {cluster: c, user: plugin-next-to-config}}
- {name: path, context: {cluster: c, user: plugin-on-path}}
)");
  ClusterConfig config = MustLoadFile(path);
  CHECK(config.ca_pem == kCa);
  CHECK(config.client_cert_pem == kCert);
  CHECK(config.client_key_pem == kKey);
  CHECK(config.token_file == dir.File("conf/token"));
  CHECK(config.token.empty());  // the credential source reads the file, every refresh

  CHECK(MustLoadFile(path, "next").exec->command == dir.File("conf/bin/plugin"));
  CHECK(MustLoadFile(path, "path").exec->command == "gke-gcloud-auth-plugin");
}

TEST_CASE("user fields: client certificate data, basic auth and an exec plugin") {
  CleanEnv env;
  ScratchDir dir;
  std::string path = dir.Write("config", R"(current-context: certs
clusters: [{name: c, cluster: {server: "https://k.example.com"}}]
contexts:
- {name: certs, context: {cluster: c, user: certs}}
- {name: basic, context: {cluster: c, user: basic}}
- {name: exec, context: {cluster: c, user: exec}}
users:
- name: certs
  user:
    client-certificate-data: )" + Base64Encode(kCert) +
                                             R"(
    client-key-data: |
      )" + Base64Encode(kKey).substr(0, 20) + R"(
      )" + Base64Encode(kKey).substr(20) + R"(
- name: basic
  user: {username: admin, password: "pa:ss"}
- name: exec
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: /usr/bin/aws-iam-authenticator
      args: [token, -i, my-cluster]
      env:
      - {name: AWS_PROFILE, value: prod}
      - {name: EMPTY}
      provideClusterInfo: true
      installHint: install aws-iam-authenticator
      interactiveMode: IfAvailable
)");
  ClusterConfig certs = MustLoadFile(path);
  CHECK(certs.client_cert_pem == kCert);
  CHECK(certs.client_key_pem == kKey);  // base64 split over lines, as Go accepts

  ClusterConfig basic = MustLoadFile(path, "basic");
  CHECK(basic.username == "admin");
  CHECK(basic.password == "pa:ss");

  ClusterConfig exec = MustLoadFile(path, "exec");
  REQUIRE(exec.exec.has_value());
  CHECK(exec.exec->api_version == "client.authentication.k8s.io/v1beta1");
  CHECK(exec.exec->command == "/usr/bin/aws-iam-authenticator");
  CHECK(exec.exec->args == std::vector<std::string>{"token", "-i", "my-cluster"});
  CHECK(exec.exec->env ==
        std::vector<std::pair<std::string, std::string>>{{"AWS_PROFILE", "prod"}, {"EMPTY", ""}});
  CHECK(exec.exec->provide_cluster_info);
  CHECK(exec.exec->install_hint == "install aws-iam-authenticator");
}

TEST_CASE("a --kubeconfig that does not exist is an error, a missing $KUBECONFIG entry is not") {
  CleanEnv env;
  ScratchDir dir;
  Result<ClusterConfig> explicit_missing = LoadClusterConfig({.path = dir.File("nope")});
  REQUIRE_FALSE(explicit_missing.ok());
  CHECK(explicit_missing.status().code() == StatusCode::kNotFound);
  CHECK_THAT(explicit_missing.status().message(),
             Catch::Contains(dir.File("nope")) && Catch::Contains("--kubeconfig"));

  ScopedEnv list("KUBECONFIG", dir.File("a") + ":" + dir.File("b"));
  Result<ClusterConfig> none = LoadClusterConfig({});
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().code() == StatusCode::kNotFound);
  CHECK_THAT(none.status().message(),
             Catch::Contains("no kubeconfig found") && Catch::Contains(dir.File("a")));
}

TEST_CASE("with no kubeconfig at all, inside a pod, the service account is used") {
  CleanEnv env;
  ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "443");
  // This machine is no pod, so the default service account directory is missing: the error
  // shows the in-cluster path was taken.
  Result<ClusterConfig> config = LoadClusterConfig({});
  REQUIRE_FALSE(config.ok());
  CHECK_THAT(config.status().message(),
             Catch::Contains("in-cluster") &&
                 Catch::Contains("/var/run/secrets/kubernetes.io/serviceaccount/token"));
}

TEST_CASE("in-cluster configuration reads the service account directory") {
  CleanEnv env;
  ScratchDir dir;
  dir.Write("token", "sa-token\n");
  dir.Write("ca.crt", kCa);
  dir.Write("namespace", "knative-serving");
  ScopedEnv port("KUBERNETES_SERVICE_PORT", "6443");

  SECTION("IPv4 service host") {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    Result<ClusterConfig> config = LoadInClusterConfig(dir.path());
    INFO(config.status().ToString());
    REQUIRE(config.ok());
    CHECK(config->server == "https://10.96.0.1:6443");
    CHECK(config->token == "sa-token");
    CHECK(config->token_file == dir.File("token"));
    CHECK(config->ca_pem == kCa);
    CHECK(config->namespace_name == "knative-serving");
    CHECK(config->context_name.empty());
    CHECK_THAT(config->source, Catch::Contains(dir.path()));
  }
  SECTION("IPv6 service host goes in brackets; no namespace file means default") {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "fd00:10:96::1");
    std::filesystem::remove(dir.File("namespace"));
    Result<ClusterConfig> config = LoadInClusterConfig(dir.path());
    REQUIRE(config.ok());
    CHECK(config->server == "https://[fd00:10:96::1]:6443");
    CHECK(config->namespace_name == "default");
  }
  SECTION("without the service environment variables") {
    Result<ClusterConfig> config = LoadInClusterConfig(dir.path());
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.status().message(), Catch::Contains("KUBERNETES_SERVICE_HOST"));
  }
  SECTION("without a token") {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    std::filesystem::remove(dir.File("token"));
    Result<ClusterConfig> config = LoadInClusterConfig(dir.path());
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.status().message(), Catch::Contains(dir.File("token")));
  }
  SECTION("without ca.crt") {
    ScopedEnv host("KUBERNETES_SERVICE_HOST", "10.96.0.1");
    std::filesystem::remove(dir.File("ca.crt"));
    Result<ClusterConfig> config = LoadInClusterConfig(dir.path());
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.status().message(), Catch::Contains(dir.File("ca.crt")));
    CHECK_THAT(config.status().message(), !Catch::Contains("sa-token"));
  }
}

}  // namespace
}  // namespace ferry::installer
