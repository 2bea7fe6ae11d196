// KubeClient against the Kubernetes API emulator over real HTTPS: every kubeconfig auth method,
// discovery and its refresh, apply/get/list/delete, conflicts, typed errors and retries.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <atomic>
#include <fstream>

#include "common/task_pool.h"
#include "installer/kube_client.h"
#include "tests/installer/emulator_process.h"

using namespace ferry::installer;
using ferry::testing::EmulatorProcess;
using ferry::testing::FastRetries;
using ferry::testing::WaitUntil;
using nlohmann::json;

namespace {

std::unique_ptr<KubeClient> Client(EmulatorProcess& kube, const std::string& context = "admin",
                                   KubeClientOptions options = FastRetries()) {
  return MakeKubeClient(kube.Config(context), options);
}

ResourceRef Ref(KubeClient& client, const std::string& api_version, const std::string& kind) {
  KubeResult<ResourceRef> ref = client.Resolve(api_version, kind);
  INFO(ref.error().ToString());
  REQUIRE(ref.ok());
  return *ref;
}

std::string WhoAmI(KubeClient& client) {
  ResourceRef review = Ref(client, "authentication.k8s.io/v1", "SelfSubjectReview");
  KubeResult<json> r = client.Create(review, "", {{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  if (!r.ok()) return "error: " + r.error().ToString();
  return (*r)["status"]["userInfo"].value("username", "");
}

json ConfigMap(const std::string& name, json data, json labels = json::object()) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", labels}}},
          {"data", data}};
}

void WriteFile(const std::string& path, const std::string& text, bool executable = false) {
  std::ofstream(path) << text;
  if (executable) chmod(path.c_str(), 0755);
}

}  // namespace

TEST_CASE("every kubeconfig auth method reaches the server as its user", "[emulator]") {
  EmulatorProcess kube;
  SECTION("bearer token") { CHECK(WhoAmI(*Client(kube, "admin")) == "admin"); }
  SECTION("client certificate from the kubeconfig") { CHECK(WhoAmI(*Client(kube, "cert-admin")) == "ferry-admin"); }
  SECTION("username and password") { CHECK(WhoAmI(*Client(kube, "basic")) == "basic-admin"); }
  SECTION("read-only token: reads work, writes are Forbidden") {
    auto client = Client(kube, "viewer");
    ResourceRef cm = Ref(*client, "v1", "ConfigMap");
    CHECK(client->List(cm, "default").ok());
    KubeResult<json> write = client->Apply(cm, "default", ConfigMap("x", {{"a", "1"}}));
    REQUIRE_FALSE(write.ok());
    CHECK(write.error().IsForbidden());
    CHECK(write.error().code == 403);
    CHECK(write.error().ToStatus().code() == ferry::StatusCode::kPermissionDenied);
  }
  SECTION("exec plugin, re-run after a 401") {
    // The plugin hands out a new token each run; only the second one is valid, so the client
    // must see the 401, refresh the credential once, and succeed.
    kube.AddToken("exec-token-2", "exec-user");
    std::string count = kube.dir() + "/exec-count", script = kube.dir() + "/plugin.sh";
    WriteFile(script,
              "#!/bin/sh\n"
              "n=$(cat " + count + " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + count + "\n"
              "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
              "\"status\":{\"token\":\"exec-token-%s\"}}' $n\n",
              true);
    json config = {{"apiVersion", "v1"}, {"kind", "Config"}, {"current-context", "exec"},
                   {"clusters", {{{"name", "emu"}, {"cluster", {{"server", kube.server}, {"certificate-authority", kube.ca_file}}}}}},
                   {"users", {{{"name", "exec"}, {"user", {{"exec", {{"apiVersion", "client.authentication.k8s.io/v1"},
                                                                      {"command", script},
                                                                      {"interactiveMode", "Never"}}}}}}}},
                   {"contexts", {{{"name", "exec"}, {"context", {{"cluster", "emu"}, {"user", "exec"}}}}}}};
    std::string path = kube.dir() + "/exec-kubeconfig";
    WriteFile(path, config.dump(2));  // JSON is YAML
    ferry::Result<ClusterConfig> loaded = LoadClusterConfig({.path = path});
    INFO(loaded.status().ToString());
    REQUIRE(loaded.ok());
    auto client = MakeKubeClient(*loaded, FastRetries());
    CHECK(WhoAmI(*client) == "exec-user");
    std::ifstream in(count);
    int runs = 0;
    in >> runs;
    CHECK(runs == 2);
  }
  SECTION("a wrong token is Unauthorized, and the message does not show it") {
    ClusterConfig config = kube.Config("admin");
    config.token = "not-a-valid-token";
    KubeClient client(config, MakeCredentialSource(config), FastRetries());
    KubeResult<json> r = client.SendJson({.path = "/api/v1/namespaces"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().IsUnauthorized());
    CHECK(r.error().ToString().find("not-a-valid-token") == std::string::npos);
  }
}

TEST_CASE("TLS: the CA, the server name and skipping verification", "[emulator]") {
  EmulatorProcess kube;
  ClusterConfig config = kube.Config("admin");
  auto version = [&](const ClusterConfig& c) { return KubeClient(c, MakeCredentialSource(c), FastRetries()).SendJson({.path = "/version"}); };
  REQUIRE(version(config).ok());
  SECTION("a certificate for another name fails verification, as a transport error") {
    config.tls_server_name = "wrong.example";  // the server's certificate names 127.0.0.1 and localhost
    KubeResult<json> r = version(config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport);
    CHECK(r.error().ToStatus().code() == ferry::StatusCode::kTls);
  }
  SECTION("tls-server-name is what the certificate is checked against") {
    config.tls_server_name = "localhost";
    KubeResult<json> r = version(config);
    INFO(r.error().ToString());
    CHECK(r.ok());
  }
  SECTION("the system CA store does not know the test CA") {
    config.ca_pem.clear();
    KubeResult<json> r = version(config);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().ToStatus().code() == ferry::StatusCode::kTls);
    config.insecure_skip_tls_verify = true;
    CHECK(version(config).ok());
  }
  SECTION("nothing listening is a retryable transport error, not an API error") {
    config.server = "https://127.0.0.1:1";
    KubeClientOptions options = FastRetries();
    options.retry.max_attempts = 2;
    KubeClient client(config, MakeCredentialSource(config), options);
    KubeResult<json> r = client.SendJson({.path = "/version"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().is_transport);
    CHECK(r.error().code == 0);
    CHECK(r.error().IsRetryable());
    CHECK(r.error().ToString().find("127.0.0.1:1") != std::string::npos);
  }
}

TEST_CASE("discovery resolves kinds, and refreshes once when a CRD's kind appears", "[emulator]") {
  EmulatorProcess kube({"--crd-established-delay", "1"});
  auto client = Client(kube);
  ResourceRef deployment = Ref(*client, "apps/v1", "Deployment");
  CHECK(deployment.plural == "deployments");
  CHECK(deployment.namespaced);
  CHECK_FALSE(Ref(*client, "v1", "Namespace").namespaced);
  // Aggregated discovery answered: no per-group lists were fetched.
  CHECK(kube.RequestsTo("GET", "/api/v1?").empty());
  CHECK(kube.RequestsTo("GET", "/apis/apps/v1").empty());

  KubeResult<ResourceRef> missing = client->Resolve("example.com/v1", "Widget");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().IsNotFound());
  CHECK(missing.error().ToString().find("no matches for kind \"Widget\" in version \"example.com/v1\"") !=
        std::string::npos);

  json crd = {{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "CustomResourceDefinition"},
              {"metadata", {{"name", "widgets.example.com"}}},
              {"spec", {{"group", "example.com"}, {"scope", "Namespaced"},
                        {"names", {{"plural", "widgets"}, {"singular", "widget"}, {"kind", "Widget"}}},
                        {"versions", {{{"name", "v1"}, {"served", true}, {"storage", true},
                                       {"schema", {{"openAPIV3Schema", {{"type", "object"}, {"x-kubernetes-preserve-unknown-fields", true}}}}}}}}}}};
  KubeResult<json> created = client->Apply(crd);
  INFO(created.error().ToString());
  REQUIRE(created.ok());
  // Resolve refreshes discovery on a miss; the kind shows up once the CRD is established.
  CHECK(WaitUntil([&] { return client->Resolve("example.com/v1", "Widget").ok(); }));
  ResourceRef widget = Ref(*client, "example.com/v1", "Widget");
  CHECK(widget.plural == "widgets");
  json w = {{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", {{"name", "w1"}, {"namespace", "default"}}},
            {"spec", {{"size", 3}}}};
  KubeResult<json> applied = client->Apply(w);
  INFO(applied.error().ToString());
  CHECK(applied.ok());
}

TEST_CASE("apply, get, list and delete round trip", "[emulator]") {
  EmulatorProcess kube;
  auto client = Client(kube);
  ResourceRef cm = Ref(*client, "v1", "ConfigMap");

  KubeResult<json> applied = client->Apply(cm, "", ConfigMap("one", {{"a", "1"}}, {{"app", "demo"}}));
  INFO(applied.error().ToString());
  REQUIRE(applied.ok());
  CHECK((*applied)["data"]["a"] == "1");
  auto patches = kube.RequestsTo("PATCH", "/api/v1/namespaces/default/configmaps/one");
  REQUIRE(patches.size() == 1);
  CHECK(patches[0]["content_type"] == "application/apply-patch+yaml");
  CHECK(patches[0]["path"].get<std::string>().find("fieldManager=ferry") != std::string::npos);

  KubeResult<json> got = client->Get(cm, "default", "one");
  REQUIRE(got.ok());
  CHECK((*got)["metadata"]["labels"]["app"] == "demo");

  SECTION("a dry run is admitted but not stored") {
    ApplyOptions dry{.dry_run = true};
    REQUIRE(client->Apply(cm, "", ConfigMap("dry", {{"a", "1"}}), dry).ok());
    CHECK(client->Get(cm, "", "dry").error().IsNotFound());
  }
  SECTION("list with a label selector, across pages") {
    for (int i = 0; i < 5; ++i) REQUIRE(client->Apply(cm, "", ConfigMap("page-" + std::to_string(i), {}, {{"app", "paged"}})).ok());
    kube.ClearRequests();
    KubeResult<json> list = client->List(cm, "default", {.label_selector = "app=paged", .page_size = 2});
    REQUIRE(list.ok());
    CHECK((*list)["items"].size() == 5);
    CHECK_FALSE((*list)["metadata"].value("resourceVersion", "").empty());
    CHECK(kube.RequestsTo("GET", "continue=").size() == 2);  // 3 pages
    KubeResult<json> demo = client->List(cm, "default", {.label_selector = "app=demo"});
    REQUIRE(demo.ok());
    REQUIRE((*demo)["items"].size() == 1);
    CHECK((*demo)["items"][0]["metadata"]["name"] == "one");
  }
  SECTION("list items name their kind, although the server (as real ones do) leaves it out") {
    // Readiness and diagnosis decide by kind; a kind-less item once counted as ready.
    KubeResult<json> list = client->List(cm, "default");
    REQUIRE(list.ok());
    REQUIRE_FALSE((*list)["items"].empty());
    for (const json& item : (*list)["items"]) {
      CHECK(item["kind"] == "ConfigMap");
      CHECK(item["apiVersion"] == "v1");
    }
    KubeResult<json> raw = client->SendJson({.path = KubeClient::ResourcePath(cm, "default")});
    REQUIRE(raw.ok());
    CHECK_FALSE((*raw)["items"][0].contains("kind"));  // what the server sent
  }
  SECTION("create, then AlreadyExists") {
    REQUIRE(client->Create(cm, "", ConfigMap("made", {{"b", "2"}})).ok());
    KubeResult<json> again = client->Create(cm, "", ConfigMap("made", {{"b", "2"}}));
    REQUIRE_FALSE(again.ok());
    CHECK(again.error().IsAlreadyExists());
    CHECK(again.error().ToString().find("Error from server (AlreadyExists): configmaps \"made\" already exists") !=
          std::string::npos);
  }
  SECTION("delete, then NotFound") {
    REQUIRE(client->Delete(cm, "", "one").ok());
    KubeResult<json> gone = client->Get(cm, "", "one");
    REQUIRE_FALSE(gone.ok());
    CHECK(gone.error().IsNotFound());
    CHECK(gone.error().ToString() ==
          "get configmaps \"one\" in namespace \"default\" (server " + kube.server +
              "): Error from server (NotFound): configmaps \"one\" not found");
    CHECK(client->Delete(cm, "", "one").error().IsNotFound());
  }
  SECTION("concurrent applies from a task pool all land") {
    std::atomic<int> failures{0};
    {
      ferry::TaskPool pool(4);
      for (int i = 0; i < 16; ++i)
        pool.Post([&, i] {
          if (!client->Apply(cm, "", ConfigMap("c-" + std::to_string(i), {{"i", std::to_string(i)}}, {{"app", "many"}})).ok())
            ++failures;
        });
      pool.Wait();
    }
    CHECK(failures == 0);
    CHECK((*client->List(cm, "", {.label_selector = "app=many"}))["items"].size() == 16);
  }
}

TEST_CASE("server-side apply conflicts with another manager unless forced", "[emulator]") {
  EmulatorProcess kube;
  KubeClientOptions other_options = FastRetries();
  other_options.field_manager = "someone-else";
  auto other = Client(kube, "admin", other_options);
  auto ferry_client = Client(kube);
  ResourceRef cm = Ref(*ferry_client, "v1", "ConfigMap");
  REQUIRE(other->Apply(cm, "", ConfigMap("shared", {{"key", "theirs"}})).ok());

  KubeResult<json> conflict = ferry_client->Apply(cm, "", ConfigMap("shared", {{"key", "ours"}}));
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.error().IsConflict());
  CHECK(conflict.error().code == 409);
  CHECK_FALSE(conflict.error().causes.empty());
  CHECK((*ferry_client->Get(cm, "", "shared"))["data"]["key"] == "theirs");

  KubeResult<json> forced = ferry_client->Apply(cm, "", ConfigMap("shared", {{"key", "ours"}}), {.force = true});
  INFO(forced.error().ToString());
  REQUIRE(forced.ok());
  CHECK((*forced)["data"]["key"] == "ours");
}

TEST_CASE("typed errors carry the Status reason for each failure", "[emulator]") {
  EmulatorProcess kube;
  auto client = Client(kube);
  ResourceRef cm = Ref(*client, "v1", "ConfigMap");
  REQUIRE(client->Apply(cm, "", ConfigMap("x", {})).ok());

  SECTION("Conflict: an update with a stale resourceVersion") {
    json stale = *client->Get(cm, "", "x");
    REQUIRE(client->Apply(cm, "", ConfigMap("x", {{"changed", "yes"}})).ok());
    KubeResult<json> put = client->SendJson({.method = "PUT", .path = KubeClient::ResourcePath(cm, "default", "x"),
                                             .body = stale.dump()});
    REQUIRE_FALSE(put.ok());
    CHECK(put.error().IsConflict());
    CHECK(put.error().message.find("the object has been modified") != std::string::npos);
  }
  SECTION("Invalid: causes name the field") {
    ResourceRef crd = Ref(*client, "apiextensions.k8s.io/v1", "CustomResourceDefinition");
    json bad = {{"apiVersion", "apiextensions.k8s.io/v1"}, {"kind", "CustomResourceDefinition"},
                {"metadata", {{"name", "wrong.example.com"}}},
                {"spec", {{"group", "example.com"}, {"scope", "Namespaced"},
                          {"names", {{"plural", "widgets"}, {"kind", "Widget"}}},
                          {"versions", {{{"name", "v1"}, {"served", true}, {"storage", true}}}}}}};
    KubeResult<json> r = client->Create(crd, "", bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().IsInvalid());
    CHECK(r.error().code == 422);
    REQUIRE_FALSE(r.error().causes.empty());
    CHECK(r.error().causes[0].field == "metadata.name");
    CHECK(r.error().ToString().find("Error from server (Invalid): ") != std::string::npos);
  }
  SECTION("NotFound for a namespace that does not exist") {
    json object = ConfigMap("x", {});
    object["metadata"].erase("namespace");
    KubeResult<json> r = client->Create(cm, "nowhere", object);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().IsNotFound());
    CHECK(r.error().message == "namespaces \"nowhere\" not found");
  }
  SECTION("each injected server failure keeps its reason once retries run out") {
    KubeClientOptions once = FastRetries();
    once.retry.max_attempts = 1;
    auto single = Client(kube, "admin", once);
    for (auto [code, reason] : std::vector<std::pair<int, std::string>>{
             {429, "TooManyRequests"}, {500, "InternalError"}, {503, "ServiceUnavailable"}, {504, "Timeout"}}) {
      kube.Fault({{"method", "GET"}, {"path", "/configmaps/x"}, {"count", 1}, {"code", code}});
      KubeResult<json> r = single->Get(cm, "", "x");
      REQUIRE_FALSE(r.ok());
      CHECK(r.error().code == code);
      CHECK(r.error().reason == reason);
      CHECK(r.error().IsRetryable());
      CHECK(r.error().ToStatus().code() == ferry::StatusCode::kUnavailable);
    }
  }
}

TEST_CASE("429 and 5xx are retried with backoff, a create only when it did nothing", "[emulator]") {
  EmulatorProcess kube;
  auto client = Client(kube);
  ResourceRef cm = Ref(*client, "v1", "ConfigMap");
  REQUIRE(client->Apply(cm, "", ConfigMap("x", {})).ok());
  kube.ClearRequests();

  SECTION("GET through two 503s") {
    kube.Fault({{"method", "GET"}, {"path", "/configmaps/x"}, {"count", 2}, {"code", 503}});
    KubeResult<json> r = client->Get(cm, "", "x");
    INFO(r.error().ToString());
    CHECK(r.ok());
    CHECK(kube.RequestsTo("GET", "/configmaps/x").size() == 3);
  }
  SECTION("apply through a 429 with Retry-After") {
    kube.Fault({{"method", "PATCH"}, {"path", "/configmaps/x"}, {"count", 1}, {"code", 429}, {"retry_after", 1}});
    CHECK(client->Apply(cm, "", ConfigMap("x", {{"a", "b"}})).ok());
    CHECK(kube.RequestsTo("PATCH", "/configmaps/x").size() == 2);
  }
  SECTION("a create that got a 500 is not sent again") {
    kube.Fault({{"method", "POST"}, {"path", "/configmaps"}, {"count", 1}, {"code", 500}});
    KubeResult<json> r = client->Create(cm, "", ConfigMap("y", {}));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().reason == "InternalError");
    CHECK(kube.RequestsTo("POST", "/configmaps").size() == 1);
  }
  SECTION("a create that got a 429 is sent again") {
    kube.Fault({{"method", "POST"}, {"path", "/configmaps"}, {"count", 1}, {"code", 429}});
    CHECK(client->Create(cm, "", ConfigMap("y", {})).ok());
    CHECK(kube.RequestsTo("POST", "/configmaps").size() == 2);
  }
  SECTION("a GET whose answer is cut off is retried") {
    kube.Fault({{"method", "GET"}, {"path", "/configmaps/x"}, {"count", 1}, {"drop", true}});
    KubeResult<json> r = client->Get(cm, "", "x");
    INFO(r.error().ToString());
    CHECK(r.ok());
    CHECK(kube.RequestsTo("GET", "/configmaps/x").size() == 2);
  }
  SECTION("retries stop at the attempt limit with the last error") {
    kube.Fault({{"method", "GET"}, {"path", "/configmaps/x"}, {"count", 0}, {"code", 502}});
    KubeResult<json> r = client->Get(cm, "", "x");
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == 502);
    CHECK(kube.RequestsTo("GET", "/configmaps/x").size() == static_cast<size_t>(FastRetries().retry.max_attempts));
  }
  SECTION("retries stop at the caller's deadline") {
    kube.Fault({{"method", "GET"}, {"path", "/configmaps/x"}, {"count", 0}, {"code", 503}, {"retry_after", 1}});
    KubeResult<json> r = client->Get(cm, "", "x", std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == 503);
    CHECK(r.error().ToString().find("deadline") != std::string::npos);
    CHECK(kube.RequestsTo("GET", "/configmaps/x").size() == 1);  // Retry-After 1s is past the deadline
  }
}
