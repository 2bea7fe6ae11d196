// The exec credential plugin protocol: RFC 3339 expiry, ExecCredential parsing,
// KUBERNETES_EXEC_INFO, and running real plugin scripts (arguments, environment, failures).
#include "installer/exec_credential.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "common/base64.h"
#include "scratch_files.h"

namespace ferry::installer {
namespace {

using testing::FakePem;
using testing::ScopedEnv;
using testing::ScratchDir;

constexpr char kV1[] = "client.authentication.k8s.io/v1";
constexpr char kV1beta1[] = "client.authentication.k8s.io/v1beta1";

std::chrono::system_clock::time_point Utc(std::time_t seconds) {
  return std::chrono::system_clock::from_time_t(seconds);
}

TEST_CASE("RFC 3339 times: UTC, offsets and fractions") {
  auto plain = ParseRfc3339("2024-05-01T12:00:00Z");
  REQUIRE(plain.ok());
  CHECK(*plain == Utc(1714564800));

  auto offset = ParseRfc3339("2024-05-01T14:00:00+02:00");
  REQUIRE(offset.ok());
  CHECK(*offset == Utc(1714564800));

  auto west = ParseRfc3339("2024-05-01T07:30:00-04:30");
  REQUIRE(west.ok());
  CHECK(*west == Utc(1714564800));

  auto fraction = ParseRfc3339("2024-05-01T12:00:00.25Z");
  REQUIRE(fraction.ok());
  CHECK(*fraction - Utc(1714564800) == std::chrono::milliseconds(250));

  auto never = ParseRfc3339("9999-12-31T23:59:59Z");  // beyond what system_clock can hold
  REQUIRE(never.ok());
  CHECK(*never > Utc(253402300799LL / 40));

  for (const char* bad :
       {"", "2024-05-01", "2024-05-01 12:00:00Z", "2024-05-01T12:00:00", "2024-13-01T12:00:00Z",
        "2024-05-01T12:00:00.Z", "2024-05-01T12:00:00+2", "tomorrow"}) {
    INFO(bad);
    CHECK_FALSE(ParseRfc3339(bad).ok());
  }
}

TEST_CASE("an ExecCredential's status becomes the credential") {
  auto token = ParseExecCredential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",
          "status":{"token":"t0k","expirationTimestamp":"2024-05-01T12:00:00Z"}})",
      kV1, "plugin");
  INFO(token.status().ToString());
  REQUIRE(token.ok());
  CHECK(token->authorization == "Bearer t0k");
  REQUIRE(token->expiry.has_value());
  CHECK(*token->expiry == Utc(1714564800));

  std::string cert = FakePem("CERTIFICATE", "c"), key = FakePem("PRIVATE KEY", "k");
  nlohmann::json with_cert = {
      {"apiVersion", kV1beta1},
      {"kind", "ExecCredential"},
      {"status", {{"clientCertificateData", cert}, {"clientKeyData", key}}}};
  auto certs = ParseExecCredential(with_cert.dump(), kV1beta1, "plugin");
  REQUIRE(certs.ok());
  CHECK(certs->authorization.empty());
  CHECK(certs->client_cert_pem == cert);
  CHECK(certs->client_key_pem == key);
  CHECK_FALSE(certs->expiry.has_value());
}

TEST_CASE("an unusable ExecCredential is an error naming the plugin, never quoting the token") {
  struct Bad {
    std::string output;
    std::string expected;
  };
  std::string head = R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential")";
  for (
      const Bad& bad : std::vector<Bad>{
          {R"({"status":{"token":"SECRET)", "malformed JSON (line 1, column 27)"},
          {"not json SECRET", "malformed JSON"},
          {R"(["SECRET"])", "not an object"},
          {R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential",
                "status":{"token":"SECRET"}})",
           "returned apiVersion \"client.authentication.k8s.io/v1beta1\", but the kubeconfig asks "
           "for \"client.authentication.k8s.io/v1\""},
          {R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"Secret","status":{"token":"SECRET"}})",
           "kind \"Secret\""},
          {head + "}", "without a status"},
          {head + R"(,"status":{}})", "neither a token nor a client certificate"},
          {head + R"(,"status":{"clientCertificateData":"SECRET"}})", "must come together"},
          {head + R"(,"status":{"token":["SECRET"]}})", "token is not a string"},
          {head + R"(,"status":{"token":"SECRET","expirationTimestamp":"soon"}})",
           "expirationTimestamp"},
      }) {
    auto credential = ParseExecCredential(bad.output, kV1, "my-plugin");
    INFO(bad.output);
    REQUIRE_FALSE(credential.ok());
    INFO(credential.status().message());
    CHECK_THAT(credential.status().message(),
               Catch::Contains("exec plugin \"my-plugin\"") && Catch::Contains(bad.expected));
    CHECK_THAT(credential.status().message(), !Catch::Contains("SECRET"));
  }
}

TEST_CASE("KUBERNETES_EXEC_INFO carries the cluster only when provideClusterInfo is set") {
  ClusterConfig cluster;
  cluster.server = "https://k.example.com:6443";
  cluster.ca_pem = FakePem("CERTIFICATE", "ca");
  cluster.tls_server_name = "api.internal";
  cluster.proxy_url = "socks5://proxy:1080";
  cluster.token = "must-not-leak";
  ExecConfig exec{.api_version = kV1, .command = "p"};

  nlohmann::json without = nlohmann::json::parse(ExecInfoJson(exec, cluster));
  CHECK(without == nlohmann::json{{"apiVersion", kV1},
                                  {"kind", "ExecCredential"},
                                  {"spec", {{"interactive", false}}}});

  exec.provide_cluster_info = true;
  nlohmann::json with = nlohmann::json::parse(ExecInfoJson(exec, cluster));
  CHECK(with["spec"]["cluster"] ==
        nlohmann::json{{"server", "https://k.example.com:6443"},
                       {"certificate-authority-data", Base64Encode(cluster.ca_pem)},
                       {"tls-server-name", "api.internal"},
                       {"proxy-url", "socks5://proxy:1080"}});
  CHECK(with["spec"]["interactive"] == false);
}

// A plugin that records its arguments, environment and KUBERNETES_EXEC_INFO, then answers.
TEST_CASE("the plugin runs with its arguments, our environment plus its env, and the exec info") {
  ScratchDir dir;
  std::string plugin = dir.WriteScript("plugin", R"(
printf '%s\n' "$@" > "$(dirname "$0")/args"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info"
printf '%s|%s|%s' "$FROM_PARENT" "$FROM_CONFIG" "$OVERRIDDEN" > "$(dirname "$0")/env"
read line || true
printf '%s' "$line" > "$(dirname "$0")/stdin"
echo '{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"plugin-token"}}'
)");
  ScopedEnv parent("FROM_PARENT", "parent");
  ScopedEnv overridden("OVERRIDDEN", "ours");
  ExecConfig exec{.api_version = kV1beta1,
                  .command = plugin,
                  .args = {"get-token", "--cluster", "a b"},
                  .env = {{"FROM_CONFIG", "config"}, {"OVERRIDDEN", "theirs"}},
                  .provide_cluster_info = true};
  ClusterConfig cluster;
  cluster.server = "https://k.example.com";
  cluster.insecure_skip_tls_verify = true;

  auto credential = RunExecPlugin(exec, cluster);
  INFO(credential.status().ToString());
  REQUIRE(credential.ok());
  CHECK(credential->authorization == "Bearer plugin-token");
  CHECK(dir.Read("args") == "get-token\n--cluster\na b\n");
  CHECK(dir.Read("env") == "parent|config|theirs");
  CHECK(dir.Read("stdin").empty());  // stdin is /dev/null, never our terminal

  nlohmann::json info = nlohmann::json::parse(dir.Read("info"));
  CHECK(info["apiVersion"] == kV1beta1);
  CHECK(info["kind"] == "ExecCredential");
  CHECK(info["spec"]["interactive"] == false);
  CHECK(info["spec"]["cluster"]["server"] == "https://k.example.com");
  CHECK(info["spec"]["cluster"]["insecure-skip-tls-verify"] == true);
}

TEST_CASE("a failing plugin's error names it, its exit status and its last stderr lines") {
  ScratchDir dir;
  std::string plugin = dir.WriteScript("failing", R"(
for i in 1 2 3 4 5 6 7; do echo "stderr line $i" >&2; done
echo '{"status":{"token":"SECRET"}}'
exit 3
)");
  ClusterConfig cluster;
  cluster.source = "kubeconfig /k, context prod";
  auto credential = RunExecPlugin({.api_version = kV1, .command = plugin}, cluster);
  REQUIRE_FALSE(credential.ok());
  const std::string& message = credential.status().message();
  INFO(message);
  CHECK(credential.status().code() == StatusCode::kUnauthenticated);
  CHECK_THAT(message, Catch::Contains(plugin) && Catch::Contains("exit status 3") &&
                          Catch::Contains("context prod"));
  CHECK_THAT(message, Catch::Contains("stderr line 3") && Catch::Contains("stderr line 7"));
  CHECK_THAT(message, !Catch::Contains("stderr line 2"));  // only the last five lines
  CHECK_THAT(message, !Catch::Contains("SECRET"));
}

TEST_CASE("a plugin killed by a signal is an error") {
  ScratchDir dir;
  std::string plugin = dir.WriteScript("killed", "echo dying >&2\nkill -9 $$\n");
  auto credential = RunExecPlugin({.api_version = kV1, .command = plugin}, {});
  REQUIRE_FALSE(credential.ok());
  CHECK_THAT(credential.status().message(),
             Catch::Contains("killed by signal 9") && Catch::Contains("dying"));
}

TEST_CASE("a plugin that hangs is stopped after the helper timeout, and the error names it") {
  ScratchDir dir;
  ScopedEnv timeout("FERRY_HELPER_TIMEOUT", "300ms");
  std::string plugin = dir.WriteScript("hangs", "echo 'opening browser for login' >&2\nexec sleep 600\n");
  auto credential = RunExecPlugin({.api_version = kV1, .command = plugin}, {.source = "context prod"});
  REQUIRE_FALSE(credential.ok());
  CHECK(credential.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(credential.status().message(),
             Catch::Contains(plugin) && Catch::Contains("context prod") &&
                 Catch::Contains("did not finish within 300 ms") && Catch::Contains("FERRY_HELPER_TIMEOUT") &&
                 Catch::Contains("opening browser for login"));
}

TEST_CASE("a plugin printing garbage is an error that includes its stderr") {
  ScratchDir dir;
  std::string plugin =
      dir.WriteScript("garbage", "echo 'warning: cache is stale' >&2\necho 'token SECRET'\n");
  auto credential = RunExecPlugin({.api_version = kV1, .command = plugin}, {});
  REQUIRE_FALSE(credential.ok());
  const std::string& message = credential.status().message();
  CHECK_THAT(message, Catch::Contains(plugin) && Catch::Contains("malformed JSON") &&
                          Catch::Contains("cache is stale"));
  CHECK_THAT(message, !Catch::Contains("SECRET"));
}

TEST_CASE("a plugin that is not installed is NotFound with its install hint") {
  ScratchDir dir;
  ScopedEnv path("PATH", dir.path());
  auto on_path =
      RunExecPlugin({.api_version = kV1,
                     .command = "gke-gcloud-auth-plugin",
                     .install_hint = "Install gke-gcloud-auth-plugin from the gcloud SDK"},
                    {});
  REQUIRE_FALSE(on_path.ok());
  CHECK(on_path.status().code() == StatusCode::kNotFound);
  CHECK_THAT(on_path.status().message(),
             Catch::Contains("\"gke-gcloud-auth-plugin\"") &&
                 Catch::Contains("not found on PATH") &&
                 Catch::Contains("Install gke-gcloud-auth-plugin from the gcloud SDK"));

  auto by_path = RunExecPlugin({.api_version = kV1, .command = dir.File("bin/missing")}, {});
  REQUIRE_FALSE(by_path.ok());
  CHECK(by_path.status().code() == StatusCode::kNotFound);
  CHECK_THAT(by_path.status().message(), Catch::Contains(dir.File("bin/missing")));
}

}  // namespace
}  // namespace ferry::installer
