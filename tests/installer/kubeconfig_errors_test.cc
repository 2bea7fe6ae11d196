// A broken kubeconfig gets an error naming the file, the field and what is wrong, and never
// repeating a secret (every secret in these files contains "SECRET").
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "common/base64.h"
#include "installer/kubeconfig.h"
#include "scratch_files.h"

namespace ferry::installer {
namespace {

using testing::FakePem;
using testing::ScopedEnv;
using testing::ScratchDir;

// One cluster "c" and a context "ctx" using it and user "u"; `users` and `cluster` fill in.
std::string Config(const std::string& cluster, const std::string& users) {
  return "current-context: ctx\n"
         "clusters:\n"
         "- name: c\n"
         "  cluster:\n" +
         cluster +
         "contexts:\n"
         "- {name: ctx, context: {cluster: c, user: u}}\n"
         "users:\n" +
         users;
}

const std::string kServer = "    server: https://k.example.com\n";
const std::string kTokenUser = "- {name: u, user: {token: tok-SECRET}}\n";

struct BrokenCase {
  const char* name;
  std::string text;
  std::vector<std::string> expected;  // substrings of the message, besides the file's path
  StatusCode code = StatusCode::kInvalidArgument;
  std::string context = "";
};

std::vector<BrokenCase> Cases() {
  std::string ca = Base64Encode(FakePem("CERTIFICATE", "ca"));
  return {
      {"YAML syntax error",
       "clusters:\n- name: c\n  cluster: {server: [\n",
       {"YAML syntax error at line 4, column 1"}},
      {"top level is a list", "- a\n- b\n", {"expected a mapping, found a list"}},
      {"clusters is a mapping", "clusters: {c: {}}\n", {"clusters (line 1)", "expected a list"}},
      {"an entry without a name",
       Config(kServer, "- user: {token: tok-SECRET}\n"),
       {"users[0].name", "missing"}},
      {"a name defined twice",
       Config(kServer, kTokenUser + kTokenUser),
       {"users[1].name", "\"u\" is defined twice", "users[0]"}},
      {"no current-context and no --context",
       "clusters: [{name: c, cluster: {server: https://k}}]\n"
       "contexts: [{name: one, context: {cluster: c}}, {name: two, context: {cluster: c}}]\n",
       {"no current-context", "--context", "one, two"}},
      {"current-context names a missing context",
       "current-context: gone\ncontexts: [{name: here, context: {cluster: c}}]\n",
       {"context \"gone\"", "current-context", "here"},
       StatusCode::kNotFound},
      {"--context names a missing context",
       Config(kServer, kTokenUser),
       {"context \"nope\"", "--context", "ctx"},
       StatusCode::kNotFound,
       "nope"},
      {"a context naming a missing cluster",
       "current-context: x\ncontexts:\n- {name: x, context: {cluster: gone}}\n"
       "clusters: [{name: c, cluster: {server: https://k}}]\n",
       {"contexts[0].context.cluster (line 3)", "cluster \"gone\" is not defined", "clusters: c"},
       StatusCode::kNotFound},
      {"a context naming a missing user",
       "current-context: x\nclusters: [{name: c, cluster: {server: https://k}}]\n"
       "contexts: [{name: x, context: {cluster: c, user: nobody}}]\nusers:\n" +
           kTokenUser,
       {"contexts[0].context.user", "user \"nobody\" is not defined", "users: u"},
       StatusCode::kNotFound},
      {"a context without a cluster",
       "current-context: x\ncontexts: [{name: x, context: {user: u}}]\n",
       {"contexts[0].context.cluster", "missing"}},
      {"server missing",
       Config("    tls-server-name: k\n", kTokenUser),
       {"clusters[0].cluster.server", "missing"}},
      {"a cluster entry without its cluster",
       "current-context: x\nclusters:\n- name: c\ncontexts: [{name: x, context: {cluster: c}}]\n",
       {"clusters[0].cluster.server (line 3)", "missing"}},
      {"server not http(s)",
       Config("    server: ftp://k.example.com\n", kTokenUser),
       {"clusters[0].cluster.server (line 5)", "not an http:// or https:// URL"}},
      {"server with credentials in it",
       Config("    server: ftp://me:SECRET@k.example.com\n", kTokenUser),
       {"clusters[0].cluster.server", "not an http:// or https:// URL"}},
      {"server without host",
       Config("    server: https://\n", kTokenUser),
       {"clusters[0].cluster.server", "has no host"}},
      {"insecure with a CA",
       Config(kServer + "    insecure-skip-tls-verify: true\n    certificate-authority-data: " +
                  ca + "\n",
              kTokenUser),
       {"clusters[0].cluster.insecure-skip-tls-verify", "certificate-authority"}},
      {"insecure is not a boolean",
       Config(kServer + "    insecure-skip-tls-verify: maybe\n", kTokenUser),
       {"clusters[0].cluster.insecure-skip-tls-verify", "expected true or false"}},
      {"CA from both file and data",
       Config(kServer + "    certificate-authority: /etc/ca.crt\n    certificate-authority-data: " +
                  ca + "\n",
              kTokenUser),
       {"clusters[0].cluster.certificate-authority-data", "both"}},
      {"CA data that is not PEM",
       Config(
           kServer + "    certificate-authority-data: " + Base64Encode("SECRET der bytes") + "\n",
           kTokenUser),
       {"clusters[0].cluster.certificate-authority-data", "PEM"}},
      {"proxy-url with an unknown scheme",
       Config(kServer + "    proxy-url: ftp://proxy\n", kTokenUser),
       {"clusters[0].cluster.proxy-url", "socks5"}},
      {"bad base64 in client-key-data",
       "current-context: ctx\n"
       "clusters: [{name: c, cluster: {server: https://k}}]\n"
       "contexts: [{name: ctx, context: {cluster: c, user: second}}]\n"
       "users:\n" +
           kTokenUser +
           "- name: second\n"
           "  user:\n"
           "    client-certificate-data: " +
           Base64Encode(FakePem("CERTIFICATE", "c")) +
           "\n"
           "    client-key-data: SECRET!!notbase64\n",
       {"users[1].user.client-key-data (line 9)", "not valid base64"}},
      {"an unreadable client certificate file",
       Config(kServer,
              "- name: u\n  user:\n    client-certificate: missing.crt\n"
              "    client-key-data: " +
                  Base64Encode(FakePem("PRIVATE KEY", "SECRET")) + "\n"),
       {"users[0].user.client-certificate", "cannot read", "/missing.crt", "No such file"},
       StatusCode::kNotFound},
      {"a client certificate without a key",
       Config(kServer, "- name: u\n  user:\n    client-certificate-data: " +
                           Base64Encode(FakePem("CERTIFICATE", "c")) + "\n"),
       {"users[0].user", "without client-key"}},
      {"a missing token file",
       Config(kServer, "- {name: u, user: {tokenFile: /nonexistent/token}}\n"),
       {"users[0].user.tokenFile", "/nonexistent/token"},
       StatusCode::kNotFound},
      {"token and basic auth together",
       Config(kServer,
              "- {name: u, user: {token: tok-SECRET, username: me, password: pw-SECRET}}\n"),
       {"users[0].user", "more than one authentication method"}},
      {"a token that is a mapping",
       Config(kServer, "- {name: u, user: {token: {SECRET: 1}}}\n"),
       {"users[0].user.token", "expected a string"}},
      {"exec without a command",
       Config(kServer,
              "- {name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1}}}\n"),
       {"users[0].user.exec.command", "missing"}},
      {"exec with an old apiVersion",
       Config(kServer,
              "- {name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, "
              "command: p}}}\n"),
       {"users[0].user.exec.apiVersion", "v1alpha1\" is not supported"}},
      {"exec env entry without a name",
       Config(kServer,
              "- {name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
              "command: p, env: [{value: SECRET}]}}}\n"),
       {"users[0].user.exec.env[0].name", "missing"}},
      {"exec that must be interactive",
       Config(kServer,
              "- {name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, "
              "command: p, interactiveMode: Always}}}\n"),
       {"users[0].user.exec.interactiveMode", "without a terminal"},
       StatusCode::kUnsupported},
      {"auth-provider",
       Config(kServer, "- {name: u, user: {auth-provider: {name: gcp}}}\n"),
       {"users[0].user.auth-provider", "exec credential plugin"},
       StatusCode::kUnsupported},
      {"impersonation",
       Config(kServer, "- {name: u, user: {token: tok-SECRET, as: admin}}\n"),
       {"users[0].user.as", "impersonation"},
       StatusCode::kUnsupported},
  };
}

TEST_CASE("a broken kubeconfig is an error naming file, field and problem, without secrets") {
  ScopedEnv kubeconfig("KUBECONFIG", std::nullopt);
  ScratchDir dir;
  for (const BrokenCase& broken : Cases()) {
    std::string path = dir.Write("config", broken.text);
    Result<ClusterConfig> config = LoadClusterConfig({.path = path, .context = broken.context});
    INFO("case: " << broken.name << "\n" << broken.text);
    REQUIRE_FALSE(config.ok());
    const std::string& message = config.status().message();
    INFO("message: " << message);
    CHECK(config.status().code() == broken.code);
    CHECK_THAT(message, Catch::Contains(path));
    for (const std::string& part : broken.expected) CHECK_THAT(message, Catch::Contains(part));
    CHECK_THAT(message, !Catch::Contains("SECRET"));
  }
}

}  // namespace
}  // namespace ferry::installer
