// MakeCredentialSource: static credentials, token files re-read on Refresh, and exec plugin
// credentials cached until expiry (the plugins are small shell scripts that count their runs).
#include <algorithm>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/base64.h"
#include "installer/cluster_config.h"
#include "scratch_files.h"

namespace ferry::installer {
namespace {

using testing::FakePem;
using testing::ScratchDir;

Credential MustCurrent(CredentialSource& source) {
  Result<Credential> credential = source.Current();
  INFO(credential.status().ToString());
  REQUIRE(credential.ok());
  return *credential;
}

Credential MustRefresh(CredentialSource& source) {
  Result<Credential> credential = source.Refresh();
  INFO(credential.status().ToString());
  REQUIRE(credential.ok());
  return *credential;
}

TEST_CASE("static credentials: bearer token, basic auth, client certificate, none") {
  ClusterConfig token;
  token.token = "abc";
  CHECK(MustCurrent(*MakeCredentialSource(token)).authorization == "Bearer abc");

  ClusterConfig basic;
  basic.username = "admin";
  basic.password = "pa:ss";
  CHECK(MustCurrent(*MakeCredentialSource(basic)).authorization ==
        "Basic " + Base64Encode("admin:pa:ss"));

  ClusterConfig cert;
  cert.client_cert_pem = FakePem("CERTIFICATE", "c");
  cert.client_key_pem = FakePem("PRIVATE KEY", "k");
  Credential with_cert = MustRefresh(*MakeCredentialSource(cert));
  CHECK(with_cert.authorization.empty());
  CHECK(with_cert.client_cert_pem == cert.client_cert_pem);
  CHECK(with_cert.client_key_pem == cert.client_key_pem);
  CHECK_FALSE(with_cert.expiry.has_value());

  CHECK(MustCurrent(*MakeCredentialSource(ClusterConfig{})).authorization.empty());
}

TEST_CASE("a token file is read for the first request and re-read on Refresh") {
  ScratchDir dir;
  ClusterConfig config;
  config.token_file = dir.Write("token", "first-token\n");
  config.source = "in-cluster service account " + dir.path();
  auto source = MakeCredentialSource(config);
  CHECK(MustCurrent(*source).authorization == "Bearer first-token");

  dir.Write("token", "rotated-token");
  CHECK(MustRefresh(*source).authorization == "Bearer rotated-token");
  CHECK(MustCurrent(*source).authorization == "Bearer rotated-token");

  std::filesystem::remove(config.token_file);
  Result<Credential> gone = source->Refresh();
  REQUIRE_FALSE(gone.ok());
  CHECK_THAT(gone.status().message(),
             Catch::Contains(config.token_file) && Catch::Contains("in-cluster service account"));
  CHECK_THAT(gone.status().message(), !Catch::Contains("rotated-token"));
}

TEST_CASE("a static credential in the config wins over its exec plugin, which never runs") {
  ScratchDir dir;
  ClusterConfig config;
  config.token = "static";
  config.exec = ExecConfig{.api_version = "client.authentication.k8s.io/v1",
                           .command = dir.WriteScript("plugin", "touch \"$0.ran\"\nexit 1\n")};
  auto source = MakeCredentialSource(config);
  CHECK(MustCurrent(*source).authorization == "Bearer static");
  CHECK(MustRefresh(*source).authorization == "Bearer static");
  CHECK_FALSE(std::filesystem::exists(dir.File("plugin.ran")));
}

// An exec plugin that appends a line to "runs" each time and answers "token-N" for the Nth run,
// with the expiry its kubeconfig env gives it.
class CountingPlugin {
 public:
  explicit CountingPlugin(const std::string& expiry) {
    config_.server = "https://k.example.com";
    config_.exec = ExecConfig{.api_version = "client.authentication.k8s.io/v1",
                              .command = dir_.WriteScript("plugin", R"(
echo run >> "$RUNS"
n=$(wc -l < "$RUNS" | tr -d ' ')
printf '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"token-%s","expirationTimestamp":"%s"}}' "$n" "$EXPIRY"
)"),
                              .env = {{"RUNS", dir_.File("runs")}, {"EXPIRY", expiry}}};
  }
  const ClusterConfig& config() const { return config_; }
  size_t runs() const {
    std::string text = dir_.Read("runs");
    return size_t(std::count(text.begin(), text.end(), '\n'));
  }

 private:
  ScratchDir dir_;
  ClusterConfig config_;
};

TEST_CASE("an exec credential is cached until it expires and re-run on Refresh") {
  CountingPlugin plugin("2999-01-01T00:00:00Z");
  auto source = MakeCredentialSource(plugin.config());
  CHECK(plugin.runs() == 0);  // nothing runs before the first request

  Credential first = MustCurrent(*source);
  CHECK(first.authorization == "Bearer token-1");
  REQUIRE(first.expiry.has_value());
  CHECK(MustCurrent(*source).authorization == "Bearer token-1");
  CHECK(plugin.runs() == 1);

  CHECK(MustRefresh(*source).authorization == "Bearer token-2");  // after a 401
  CHECK(MustCurrent(*source).authorization == "Bearer token-2");
  CHECK(plugin.runs() == 2);
}

TEST_CASE("an expired exec credential is replaced on the next request") {
  CountingPlugin plugin("2000-01-01T00:00:00Z");
  auto source = MakeCredentialSource(plugin.config());
  CHECK(MustCurrent(*source).authorization == "Bearer token-1");
  CHECK(MustCurrent(*source).authorization == "Bearer token-2");
  CHECK(plugin.runs() == 2);
}

TEST_CASE("an exec credential without expiry is kept until Refresh") {
  CountingPlugin plugin("");
  auto source = MakeCredentialSource(plugin.config());
  // An empty expirationTimestamp is absent; the credential lasts until a 401.
  CHECK_FALSE(MustCurrent(*source).expiry.has_value());
  MustCurrent(*source);
  CHECK(plugin.runs() == 1);
}

TEST_CASE("concurrent first requests share one plugin run") {
  CountingPlugin plugin("2999-01-01T00:00:00Z");
  auto source = MakeCredentialSource(plugin.config());
  std::vector<std::string> seen(4);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < seen.size(); ++i) {
    threads.emplace_back([&, i] {
      Result<Credential> credential = source->Current();
      if (credential.ok()) seen[i] = credential->authorization;
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(plugin.runs() == 1);
  for (const std::string& authorization : seen) CHECK(authorization == "Bearer token-1");
}

TEST_CASE("a failing exec plugin fails the request, and a later request tries again") {
  ScratchDir dir;
  ClusterConfig config;
  config.source = "kubeconfig /k, context prod";
  std::string answer = dir.File("answer");
  config.exec = ExecConfig{.api_version = "client.authentication.k8s.io/v1",
                           .command = dir.WriteScript("plugin", "cat \"" + answer + "\"\n")};
  auto source = MakeCredentialSource(config);

  Result<Credential> failed = source->Current();  // no answer file yet: cat fails
  REQUIRE_FALSE(failed.ok());
  CHECK_THAT(failed.status().message(), Catch::Contains("exit status 1") &&
                                            Catch::Contains("context prod") &&
                                            Catch::Contains("No such file"));

  dir.Write(
      "answer",
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"late"}})");
  CHECK(MustCurrent(*source).authorization == "Bearer late");
}

}  // namespace
}  // namespace ferry::installer
