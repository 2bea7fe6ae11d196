#include "mirror/credentials.h"

#include <stdlib.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "common/base64.h"

namespace ferry {
namespace {

// A fresh directory under /tmp, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char templ[] = "/tmp/ferry_credentials_test.XXXXXX";
    REQUIRE(mkdtemp(templ) != nullptr);
    path_ = templ;
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

  std::string Write(const std::string& name, const std::string& content) const {
    std::string file = path_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(file).parent_path());
    std::ofstream(file) << content;
    return file;
  }

 private:
  std::string path_;
};

// Sets an environment variable for one scope, restoring the old value after.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      setenv(name_, old_->c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Credential helpers as shell scripts in a directory put first on PATH. "test" knows gcr.io
// and Docker Hub, "store" knows only store.example.com, "broken" always fails.
class FakeHelpers {
 public:
  FakeHelpers() : path_("PATH", dir_.path() + ":" + (getenv("PATH") ? getenv("PATH") : "")) {
    Add("test", R"(url=$(cat)
case "$url" in
  gcr.io) printf '{"ServerURL":"%s","Username":"_json_key","Secret":"helper-secret"}' "$url" ;;
  https://index.docker.io/v1/) printf '{"ServerURL":"%s","Username":"<token>","Secret":"refresh-token"}' "$url" ;;
  *) echo "credentials not found in native keychain"; exit 1 ;;
esac
)");
    Add("store", R"(url=$(cat)
if [ "$url" = store.example.com ]; then
  echo '{"ServerURL":"store.example.com","Username":"store-user","Secret":"store-secret"}'
else
  echo "Credentials Not Found"; exit 1
fi
)");
    Add("broken", "cat >/dev/null\necho 'keychain is locked' >&2\nexit 3\n");
  }

 private:
  void Add(const std::string& name, const std::string& body) {
    std::string file = dir_.Write("docker-credential-" + name, "#!/bin/sh\n" + body);
    REQUIRE(chmod(file.c_str(), 0755) == 0);
  }

  TempDir dir_;
  ScopedEnv path_;
};

std::optional<Credential> MustLookup(const DockerConfig& config, std::string_view registry) {
  auto found = config.Lookup(registry);
  INFO("registry " << registry << ": " << found.status().ToString());
  REQUIRE(found.ok());
  return *found;
}

DockerConfig MustLoad(const std::string& path) {
  auto config = DockerConfig::Load(path);
  INFO(config.status().ToString());
  REQUIRE(config.ok());
  return *config;
}

TEST_CASE("ParseUserPass splits at the first colon") {
  auto simple = ParseUserPass("user:pass");
  REQUIRE(simple.ok());
  CHECK(simple->username == "user");
  CHECK(simple->password == "pass");
  CHECK(simple->identity_token.empty());

  auto colons = ParseUserPass("robot$ci:pa:ss:");
  REQUIRE(colons.ok());
  CHECK(colons->username == "robot$ci");
  CHECK(colons->password == "pa:ss:");

  auto empty_password = ParseUserPass("user:");
  REQUIRE(empty_password.ok());
  CHECK(empty_password->password.empty());
}

TEST_CASE("ParseUserPass rejects malformed input without echoing the secret") {
  for (const std::string text : {"s3cretNoColon", ":s3cret", ""}) {
    auto parsed = ParseUserPass(text);
    INFO("input: " << text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == StatusCode::kInvalidArgument);
    CHECK(parsed.status().message().find("s3cret") == std::string::npos);
  }
}

TEST_CASE("Credential::empty") {
  CHECK(Credential{}.empty());
  CHECK_FALSE(Credential{"u", "", ""}.empty());
  CHECK_FALSE(Credential{"", "", "token"}.empty());
}

TEST_CASE("A missing docker config is an empty one") {
  TempDir dir;
  DockerConfig config = MustLoad(dir.path() + "/nope/config.json");
  CHECK_FALSE(MustLookup(config, "gcr.io").has_value());
}

TEST_CASE("Docker config auths entries") {
  TempDir dir;
  std::string path = dir.Write("config.json", R"({
    "auths": {
      "gcr.io": {"auth": ")" + Base64Encode("user:pa:ss") + R"("},
      "quay.io": {"username": "quser", "password": "qpass"},
      "example.azurecr.io": {
        "auth": ")" + Base64Encode("00000000-0000-0000-0000-000000000000:") + R"(",
        "identitytoken": "refresh-me"
      },
      "https://registry.example.com:5000/v2/": {"auth": ")" + Base64Encode("a:b") + R"("},
      "http://localhost:5000/some/path": {"auth": ")" + Base64Encode("local:pw") + R"("},
      "https://index.docker.io/v1/": {"auth": ")" + Base64Encode("hubuser:hubpass") + R"("},
      "empty.example.com": {}
    },
    "HttpHeaders": {"User-Agent": "Docker-Client/24"}
  })");
  DockerConfig config = MustLoad(path);

  SECTION("auth is base64 of user:password, split at the first colon") {
    auto c = MustLookup(config, "gcr.io");
    REQUIRE(c);
    CHECK(c->username == "user");
    CHECK(c->password == "pa:ss");
  }
  SECTION("username and password fields") {
    auto c = MustLookup(config, "quay.io");
    REQUIRE(c);
    CHECK(c->username == "quser");
    CHECK(c->password == "qpass");
  }
  SECTION("identitytoken") {
    auto c = MustLookup(config, "example.azurecr.io");
    REQUIRE(c);
    CHECK(c->identity_token == "refresh-me");
    CHECK(c->username == "00000000-0000-0000-0000-000000000000");
    CHECK(c->password.empty());
  }
  SECTION("keys lose their scheme and path") {
    auto c = MustLookup(config, "registry.example.com:5000");
    REQUIRE(c);
    CHECK(c->username == "a");
    auto local = MustLookup(config, "localhost:5000");
    REQUIRE(local);
    CHECK(local->username == "local");
    CHECK_FALSE(MustLookup(config, "registry.example.com").has_value());
  }
  SECTION("Docker Hub's index key answers for all its names") {
    for (const char* name : {"docker.io", "index.docker.io", "registry-1.docker.io",
                             "https://index.docker.io/v1/"}) {
      auto c = MustLookup(config, name);
      INFO(name);
      REQUIRE(c);
      CHECK(c->username == "hubuser");
    }
  }
  SECTION("no entry, or an empty one, is no credential") {
    CHECK_FALSE(MustLookup(config, "ghcr.io").has_value());
    CHECK_FALSE(MustLookup(config, "empty.example.com").has_value());
  }
}

TEST_CASE("An exactly spelled key wins over one that only normalises to the host") {
  TempDir dir;
  std::string path = dir.Write("config.json", R"({"auths": {
      "https://docker.io": {"username": "a", "password": "x"},
      "docker.io": {"username": "b", "password": "y"}}})");
  auto c = MustLookup(MustLoad(path), "docker.io");
  REQUIRE(c);
  CHECK(c->username == "b");
}

TEST_CASE("Malformed docker config names the file and position, never the content") {
  TempDir dir;
  std::string path = dir.Write("config.json",
                               "{\n  \"auths\": {\n    \"gcr.io\": {\"password\": \"TOPSECRET\" oops}\n");
  auto config = DockerConfig::Load(path);
  REQUIRE_FALSE(config.ok());
  const std::string& message = config.status().message();
  INFO(message);
  CHECK(config.status().code() == StatusCode::kInvalidArgument);
  CHECK(message.find(path) != std::string::npos);
  CHECK(message.find("line 3") != std::string::npos);
  CHECK(message.find("TOPSECRET") == std::string::npos);
  CHECK(message.find("oops") == std::string::npos);
}

TEST_CASE("Docker config with the wrong shapes is an error naming the key") {
  TempDir dir;
  for (const std::string text : {R"([])", R"({"auths": []})", R"({"auths": {"gcr.io": "x"}})",
                                 R"({"auths": {"gcr.io": {"auth": 42}}})",
                                 R"({"credHelpers": {"gcr.io": true}})"}) {
    INFO(text);
    auto config = DockerConfig::Load(dir.Write("config.json", text));
    REQUIRE_FALSE(config.ok());
    CHECK(config.status().message().find(dir.path()) != std::string::npos);
  }
}

TEST_CASE("An undecodable auth value fails the lookup for that registry only") {
  TempDir dir;
  std::string path = dir.Write("config.json", R"({"auths": {
      "bad.example.com": {"auth": "not*base64SECRET"},
      "nocolon.example.com": {"auth": ")" + Base64Encode("SECRETonly") + R"("},
      "good.example.com": {"username": "u", "password": "p"}}})");
  DockerConfig config = MustLoad(path);
  CHECK(MustLookup(config, "good.example.com").has_value());
  for (const char* host : {"bad.example.com", "nocolon.example.com"}) {
    auto c = config.Lookup(host);
    INFO(c.status().ToString());
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find(host) != std::string::npos);
    CHECK(c.status().message().find(path) != std::string::npos);
    CHECK(c.status().message().find("SECRET") == std::string::npos);
  }
}

TEST_CASE("Credential helpers") {
  FakeHelpers helpers;
  TempDir dir;
  std::string path = dir.Write("config.json", R"({
    "auths": {
      "gcr.io": {"auth": ")" + Base64Encode("inline:pw") + R"("},
      "inline.example.com": {"auth": ")" + Base64Encode("inline:pw") + R"("}
    },
    "credHelpers": {
      "gcr.io": "test",
      "https://index.docker.io/v1/": "test",
      "unknown.example.com": "test",
      "broken.example.com": "broken",
      "missing.example.com": "not-installed"
    },
    "credsStore": "store"
  })");
  DockerConfig config = MustLoad(path);

  SECTION("a credHelpers entry wins over auths for its host") {
    auto c = MustLookup(config, "gcr.io");
    REQUIRE(c);
    CHECK(c->username == "_json_key");
    CHECK(c->password == "helper-secret");
  }
  SECTION("Docker Hub is asked for as https://index.docker.io/v1/; <token> is an identity token") {
    auto c = MustLookup(config, "docker.io");
    REQUIRE(c);
    CHECK(c->username.empty());
    CHECK(c->identity_token == "refresh-token");
  }
  SECTION("'credentials not found' from the host's helper is no credential") {
    CHECK_FALSE(MustLookup(config, "unknown.example.com").has_value());
  }
  SECTION("a failing helper is an error naming the helper and the registry") {
    auto c = config.Lookup("broken.example.com");
    REQUIRE_FALSE(c.ok());
    const std::string& message = c.status().message();
    INFO(message);
    CHECK(message.find("docker-credential-broken") != std::string::npos);
    CHECK(message.find("broken.example.com") != std::string::npos);
    CHECK(message.find("keychain is locked") != std::string::npos);
  }
  SECTION("a helper missing from PATH is an error") {
    auto c = config.Lookup("missing.example.com");
    REQUIRE_FALSE(c.ok());
    CHECK(c.status().message().find("docker-credential-not-installed") != std::string::npos);
  }
  SECTION("credsStore answers for hosts without a credHelpers entry") {
    auto c = MustLookup(config, "store.example.com");
    REQUIRE(c);
    CHECK(c->username == "store-user");
    CHECK(c->password == "store-secret");
  }
  SECTION("an inline auth wins over credsStore") {
    auto c = MustLookup(config, "inline.example.com");
    REQUIRE(c);
    CHECK(c->username == "inline");
  }
  SECTION("credsStore's 'not found' is no credential") {
    CHECK_FALSE(MustLookup(config, "elsewhere.example.com").has_value());
  }
}

TEST_CASE("A credential helper that hangs is stopped after the helper timeout, naming it") {
  TempDir dir;
  std::string helper = dir.Write("bin/docker-credential-hangs", "#!/bin/sh\nexec sleep 600\n");
  REQUIRE(chmod(helper.c_str(), 0755) == 0);
  ScopedEnv path("PATH", dir.path() + "/bin:" + getenv("PATH"));
  ScopedEnv timeout("FERRY_HELPER_TIMEOUT", "300ms");
  DockerConfig config = MustLoad(dir.Write("config.json", R"({"credHelpers": {"registry.example.com": "hangs"}})"));
  auto found = config.Lookup("registry.example.com");
  REQUIRE_FALSE(found.ok());
  CHECK(found.status().code() == StatusCode::kUnavailable);
  CHECK_THAT(found.status().message(), Catch::Contains("docker-credential-hangs") &&
                                           Catch::Contains("registry.example.com") &&
                                           Catch::Contains("did not finish within 300 ms"));
}

TEST_CASE("A helper that prints garbage is an error that does not quote it") {
  FakeHelpers helpers;
  TempDir dir;
  std::string bin = dir.Write("bin/docker-credential-garbage",
                              "#!/bin/sh\ncat >/dev/null\necho 'Secret: hunter2 not json'\n");
  REQUIRE(chmod(bin.c_str(), 0755) == 0);
  ScopedEnv path("PATH", dir.path() + "/bin:" + getenv("PATH"));
  DockerConfig config = MustLoad(dir.Write("config.json", R"({"credsStore": "garbage"})"));
  auto c = config.Lookup("gcr.io");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("docker-credential-garbage") != std::string::npos);
  CHECK(c.status().message().find("hunter2") == std::string::npos);
}

TEST_CASE("LoadDefault reads $DOCKER_CONFIG, else $HOME/.docker") {
  TempDir dir;
  dir.Write("custom/config.json", R"({"auths": {"gcr.io": {"username": "custom", "password": "p"}}})");
  dir.Write("home/.docker/config.json",
            R"({"auths": {"gcr.io": {"username": "home", "password": "p"}}})");
  ScopedEnv home("HOME", dir.path() + "/home");
  {
    ScopedEnv docker_config("DOCKER_CONFIG", dir.path() + "/custom");
    auto config = DockerConfig::LoadDefault();
    REQUIRE(config.ok());
    CHECK(config->path() == dir.path() + "/custom/config.json");
    CHECK(MustLookup(*config, "gcr.io")->username == "custom");
  }
  ScopedEnv docker_config("DOCKER_CONFIG", "");
  auto config = DockerConfig::LoadDefault();
  REQUIRE(config.ok());
  CHECK(MustLookup(*config, "gcr.io")->username == "home");
}

}  // namespace
}  // namespace ferry
