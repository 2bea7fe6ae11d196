// Specification of ImageReference: which spellings are accepted, what they normalise to, and what
// each kind of mistake is told. Cases follow github.com/distribution/reference's own tests.
#include "mirror/image_reference.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>

#include "tests/corpus.h"
#include <string_view>
#include <utility>
#include <vector>

namespace ferry {
namespace {

const std::string kSha256 =
    "sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45";
const std::string kSha512 = "sha512:" + std::string(128, 'f');
const std::string kImageId = "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a";

struct ValidCase {
  std::string input;
  std::string registry;
  std::string repository;
  std::string tag;
  std::string digest;
  std::string string;    // String()
  std::string familiar;  // Familiar()
};

const std::vector<ValidCase>& ValidCases() {
  static const std::vector<ValidCase> cases = {
      // Docker Hub: default registry, library/ for one-component names, index.docker.io alias.
      {"alpine", "docker.io", "library/alpine", "", "", "docker.io/library/alpine", "alpine"},
      {"alpine:3.6", "docker.io", "library/alpine", "3.6", "", "docker.io/library/alpine:3.6",
       "alpine:3.6"},
      {"user/app", "docker.io", "user/app", "", "", "docker.io/user/app", "user/app"},
      {"prom/prometheus:v2.2.1", "docker.io", "prom/prometheus", "v2.2.1", "",
       "docker.io/prom/prometheus:v2.2.1", "prom/prometheus:v2.2.1"},
      {"docker.io/alpine", "docker.io", "library/alpine", "", "", "docker.io/library/alpine",
       "alpine"},
      {"docker.io/library/alpine:3.6", "docker.io", "library/alpine", "3.6", "",
       "docker.io/library/alpine:3.6", "alpine:3.6"},
      {"index.docker.io/alpine", "docker.io", "library/alpine", "", "", "docker.io/library/alpine",
       "alpine"},
      {"index.docker.io/user/app", "docker.io", "user/app", "", "", "docker.io/user/app",
       "user/app"},
      {"docker.io/library/foo/bar", "docker.io", "library/foo/bar", "", "",
       "docker.io/library/foo/bar", "library/foo/bar"},
      {"docker.io/envoyproxy/envoy:v1.37-latest", "docker.io", "envoyproxy/envoy", "v1.37-latest",
       "", "docker.io/envoyproxy/envoy:v1.37-latest", "envoyproxy/envoy:v1.37-latest"},
      // A Docker Hub path whose first component looks like a host keeps its registry in the
      // familiar form, or it would read back as registry "foo.bar".
      {"docker.io/foo.bar/app", "docker.io", "foo.bar/app", "", "", "docker.io/foo.bar/app",
       "docker.io/foo.bar/app"},
      // A 64-hex name is fine once a registry says it is a name.
      {"docker.io/" + kImageId, "docker.io", "library/" + kImageId, "", "",
       "docker.io/library/" + kImageId, "docker.io/library/" + kImageId},
      {"docker.io/" + kImageId + ":1", "docker.io", "library/" + kImageId, "1", "",
       "docker.io/library/" + kImageId + ":1", kImageId + ":1"},
      // One component without '/' is always a Docker Hub name, whatever it looks like.
      {"localhost", "docker.io", "library/localhost", "", "", "docker.io/library/localhost",
       "localhost"},
      {"192.168.0.1", "docker.io", "library/192.168.0.1", "", "", "docker.io/library/192.168.0.1",
       "192.168.0.1"},
      {"test.com:5000", "docker.io", "library/test.com", "5000", "",
       "docker.io/library/test.com:5000", "test.com:5000"},
      {"lowercase:Uppercase", "docker.io", "library/lowercase", "Uppercase", "",
       "docker.io/library/lowercase:Uppercase", "lowercase:Uppercase"},
      // Other registries: a first component with '.', ':' or "localhost".
      {"gcr.io/x/y:1", "gcr.io", "x/y", "1", "", "gcr.io/x/y:1", "gcr.io/x/y:1"},
      {"docker.elastic.co/kibana/kibana:5.6.4", "docker.elastic.co", "kibana/kibana", "5.6.4", "",
       "docker.elastic.co/kibana/kibana:5.6.4", "docker.elastic.co/kibana/kibana:5.6.4"},
      {"gcr.io/knative-releases/github.com/knative/serving/cmd/queue@" + kSha256, "gcr.io",
       "knative-releases/github.com/knative/serving/cmd/queue", "", kSha256,
       "gcr.io/knative-releases/github.com/knative/serving/cmd/queue@" + kSha256,
       "gcr.io/knative-releases/github.com/knative/serving/cmd/queue@" + kSha256},
      {"localhost/app", "localhost", "app", "", "", "localhost/app", "localhost/app"},
      {"localhost:5000/app:v1", "localhost:5000", "app", "v1", "", "localhost:5000/app:v1",
       "localhost:5000/app:v1"},
      {"test:5000/repo", "test:5000", "repo", "", "", "test:5000/repo", "test:5000/repo"},
      {"127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", "", "", "127.0.0.1:5000/a/b",
       "127.0.0.1:5000/a/b"},
      {"[::1]:5000/app", "[::1]:5000", "app", "", "", "[::1]:5000/app", "[::1]:5000/app"},
      {"[2001:db8::1]/repo:tag", "[2001:db8::1]", "repo", "tag", "", "[2001:db8::1]/repo:tag",
       "[2001:db8::1]/repo:tag"},
      {"[2001:db8:1:2:3:4:5:6]:5000/repo", "[2001:db8:1:2:3:4:5:6]:5000", "repo", "", "",
       "[2001:db8:1:2:3:4:5:6]:5000/repo", "[2001:db8:1:2:3:4:5:6]:5000/repo"},
      {"xn--n3h.com:18080/foo", "xn--n3h.com:18080", "foo", "", "", "xn--n3h.com:18080/foo",
       "xn--n3h.com:18080/foo"},
      {"sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com", "bar/baz/quux",
       "some-long-tag", "", "sub-dom1.foo.com/bar/baz/quux:some-long-tag",
       "sub-dom1.foo.com/bar/baz/quux:some-long-tag"},
      // Upstream treats an uppercase first component as a registry host, so this is valid.
      {"Foo/bar", "Foo", "bar", "", "", "Foo/bar", "Foo/bar"},
      // Path separators: '.', '_', '__', and any run of '-'.
      {"dock__er/do---cker_x.y-z", "docker.io", "dock__er/do---cker_x.y-z", "", "",
       "docker.io/dock__er/do---cker_x.y-z", "dock__er/do---cker_x.y-z"},
      // Tag and digest together; both are kept.
      {"busybox:latest@" + kSha256, "docker.io", "library/busybox", "latest", kSha256,
       "docker.io/library/busybox:latest@" + kSha256, "busybox:latest@" + kSha256},
      {"xn--7o8h.com/myimage:xn--7o8h.com@" + kSha512, "xn--7o8h.com", "myimage", "xn--7o8h.com",
       kSha512, "xn--7o8h.com/myimage:xn--7o8h.com@" + kSha512,
       "xn--7o8h.com/myimage:xn--7o8h.com@" + kSha512},
      // The containers/image transport prefix is stripped.
      {"docker://quay.io/coreos/kube-rbac-proxy:v0.3.0", "quay.io", "coreos/kube-rbac-proxy",
       "v0.3.0", "", "quay.io/coreos/kube-rbac-proxy:v0.3.0",
       "quay.io/coreos/kube-rbac-proxy:v0.3.0"},
      {"docker://alpine", "docker.io", "library/alpine", "", "", "docker.io/library/alpine",
       "alpine"},
  };
  return cases;
}

TEST_CASE("valid references parse and normalise like Docker does", "[image_reference]") {
  for (const ValidCase& c : ValidCases()) {
    DYNAMIC_SECTION("\"" << c.input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(c.input);
      INFO(ref.status().ToString());
      REQUIRE(ref.ok());
      CHECK(ref->registry == c.registry);
      CHECK(ref->repository == c.repository);
      CHECK(ref->tag == c.tag);
      CHECK(ref->digest == c.digest);
      CHECK(ref->Name() == c.registry + "/" + c.repository);
      CHECK(ref->String() == c.string);
      CHECK(ref->Familiar() == c.familiar);
    }
  }
}

TEST_CASE("String() and Familiar() read back as the same reference", "[image_reference]") {
  for (const ValidCase& c : ValidCases()) {
    DYNAMIC_SECTION("\"" << c.input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(c.input);
      REQUIRE(ref.ok());
      Result<ImageReference> from_string = ImageReference::Parse(ref->String());
      Result<ImageReference> from_familiar = ImageReference::Parse(ref->Familiar());
      REQUIRE(from_string.ok());
      REQUIRE(from_familiar.ok());
      CHECK(*from_string == *ref);
      CHECK(*from_familiar == *ref);
    }
  }
}

TEST_CASE("the longest repository path is accepted, one more character is not",
          "[image_reference]") {
  std::string longest;  // "a/a/.../a", 255 characters
  for (int i = 0; i < 127; ++i) longest += "a/";
  longest += "a";
  REQUIRE(longest.size() == 255);
  Result<ImageReference> ref = ImageReference::Parse(longest + ":tag-puts-this-over-max");
  INFO(ref.status().ToString());
  REQUIRE(ref.ok());
  CHECK(ref->repository == longest);

  Result<ImageReference> too_long = ImageReference::Parse("a/" + longest);
  REQUIRE_FALSE(too_long.ok());
  CHECK_THAT(too_long.status().message(),
             Catch::Contains("repository name must not be more than 255 characters (it has 257)"));
}

struct InvalidCase {
  std::string input;
  std::string error;  // expected substring of the message
};

TEST_CASE("invalid references are rejected with a message saying what is wrong",
          "[image_reference]") {
  const std::vector<InvalidCase> cases = {
      {"", "reference is empty"},
      {"docker://", "nothing follows docker://"},
      {"https://github.com/docker/docker", "looks like a URL"},
      {"alpine 3.6", "contains a space"},
      {"alpine\t", "contains a control or non-ASCII character"},
      // An image ID is not a name.
      {kImageId, "cannot specify 64-byte hexadecimal strings"},
      {"docker://" + kImageId, "looks like an image ID"},
      // Repository path.
      {"Foo", "repository name must be lowercase"},
      {"Uppercase:tag", "repository name must be lowercase"},
      {"docker/Docker", "repository name must be lowercase"},
      {"docker.io/docker/Docker", "repository name must be lowercase"},
      {"test:5000/Uppercase/lowercase:tag", "repository name must be lowercase"},
      {":justtag", "repository name is empty"},
      {"@" + kSha256, "repository name is empty"},
      {"docker.io/", "repository name is empty"},
      {"docker///docker", "has an empty path component"},
      {"docker/", "has an empty path component"},
      {"-docker", "path component \"-docker\" must start with a lowercase letter or digit"},
      {"____/____", "must start with a lowercase letter or digit"},
      {"docker-/docker", "path component \"docker-\" must not end with a separator"},
      {"docker/dock..er", "path component \"dock..er\" has separators in a row"},
      {"docker/dock_.er", "has separators in a row"},
      {"docker/dock-.er", "has separators in a row"},
      {"docker/dock___er", "has separators in a row"},
      {"aa/asdf$$^/aa", "path component \"asdf$$^\" contains '$'"},
      {"[fc00::1]", "contains '['"},
      {"[fc00::1]:5000", "contains '['"},
      // Registry host and port.
      {"fc00::1:5000/debian", "an IPv6 address must be written in brackets"},
      {"[fe80::1%eth0]:5000/debian", "is not a valid IPv6 address"},
      {"[2001:db8:3:4::192.0.2.33]:5000/debian", "is not a valid IPv6 address"},
      {"[::1/app", "has no ']'"},
      {"[::1]x/app", "where only :port may follow"},
      {"example.com:abc/app", "has port \"abc\", which is not a number"},
      {"example.com:/app", "has port \"\", which is not a number"},
      {":5000/app", "has an empty host name"},
      {"-docker.io/docker/docker", "has a label that starts or ends with '-'"},
      {"ex..ample.com/app", "has an empty label"},
      // A first component with '.' is a registry, so these fail as hosts (and would as paths).
      {"dock..er/docker", "registry host \"dock..er\" has an empty label"},
      {"dock_.er/docker", "registry host \"dock_.er\" contains '_'"},
      {"dock-.er/docker", "has a label that starts or ends with '-'"},
      {"my_host.local/app", "registry host \"my_host.local\" contains '_'"},
      // Tag.
      {"alpine:", "tag is empty"},
      {"alpine:-x", "must start with a letter, digit or '_'"},
      {"alpine:.x", "must start with a letter, digit or '_'"},
      {"alpine:a+b", "tag \"a+b\" contains '+'"},
      {"alpine:a:b", "contains ':'"},
      {"foo/bar:baz/qux", "contains '/'"},
      {"alpine:" + std::string(129, 'x'), "tag must not be more than 128 characters (it has 129)"},
      // Digest.
      {"alpine@", "digest is empty"},
      {"alpine@sha256", "has no algorithm"},
      {"alpine@sha256:" + std::string(34, 'f'),
       "sha256 digest must have 64 hex characters (it has 34)"},
      {"alpine@sha512:" + std::string(64, 'f'),
       "sha512 digest must have 128 hex characters (it has 64)"},
      {"validname@invaliddigest:" + std::string(64, 'f'),
       "digest algorithm \"invaliddigest\" is not supported"},
      {"alpine@md5:" + std::string(32, 'f'),
       "is not supported (supported: sha256, sha384, sha512)"},
      {"alpine@SHA256:" + std::string(64, 'f'), "is not supported"},
      {"alpine@1sha:" + std::string(64, 'f'), "digest algorithm \"1sha\" is malformed"},
      {"alpine@sha256:" + std::string(64, 'F'), "must use lowercase hex"},
      {"alpine@sha256:" + std::string(63, 'f') + "g", "contains 'g' in its hex part"},
      {"alpine@" + kSha256 + "@" + kSha256, "contains '@' in its hex part"},
  };
  for (const InvalidCase& c : cases) {
    DYNAMIC_SECTION("\"" << c.input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(c.input);
      REQUIRE_FALSE(ref.ok());
      CHECK(ref.status().code() == StatusCode::kInvalidArgument);
      CHECK_THAT(ref.status().message(), Catch::StartsWith("invalid image reference \""));
      CHECK_THAT(ref.status().message(), Catch::Contains(c.error));
    }
  }
}

TEST_CASE("the error message names the input as the user wrote it", "[image_reference]") {
  Result<ImageReference> ref = ImageReference::Parse("docker://docker/Docker:1");
  REQUIRE_FALSE(ref.ok());
  CHECK(ref.status().message() ==
        "invalid image reference \"docker://docker/Docker:1\": repository name must be lowercase");

  Result<ImageReference> control = ImageReference::Parse("a\"b\n");
  REQUIRE_FALSE(control.ok());
  CHECK_THAT(control.status().message(),
             Catch::StartsWith("invalid image reference \"a\\\"b\\x0a\": "));
}

TEST_CASE("ManifestIdentifier prefers the digest, then the tag, then latest", "[image_reference]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"alpine", "latest"},
      {"alpine:3.6", "3.6"},
      {"alpine@" + kSha256, kSha256},
      {"alpine:3.6@" + kSha256, kSha256},
  };
  for (const auto& [input, identifier] : cases) {
    DYNAMIC_SECTION("\"" << input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(input);
      REQUIRE(ref.ok());
      CHECK(ref->ManifestIdentifier() == identifier);
    }
  }
}

TEST_CASE("ApiHost sends Docker Hub traffic to registry-1.docker.io", "[image_reference]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"alpine", "registry-1.docker.io"}, {"index.docker.io/user/app", "registry-1.docker.io"},
      {"gcr.io/x/y", "gcr.io"},           {"localhost:5000/app", "localhost:5000"},
      {"[::1]:5000/app", "[::1]:5000"},
  };
  for (const auto& [input, host] : cases) {
    DYNAMIC_SECTION("\"" << input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(input);
      REQUIRE(ref.ok());
      CHECK(ref->ApiHost() == host);
    }
  }
}

TEST_CASE("IsLoopback recognises localhost, 127/8 and ::1 with any port", "[image_reference]") {
  const std::vector<std::pair<std::string, bool>> cases = {
      {"localhost/app", true},
      {"localhost:5000/app", true},
      {"LOCALHOST:5000/app", true},
      {"127.0.0.1:5000/app", true},
      {"127.1.2.3/app", true},
      {"[::1]:5000/app", true},
      {"[::1]/app", true},
      {"[0:0:0:0:0:0:0:1]:5000/app", true},
      {"alpine", false},
      {"gcr.io/x/y", false},
      {"128.0.0.1/app", false},
      {"127.0.0.1.nip.io/app", false},
      {"127.0.0.256/app", false},
      {"localhost.example.com/app", false},
      {"[::2]:5000/app", false},
  };
  for (const auto& [input, loopback] : cases) {
    DYNAMIC_SECTION("\"" << input << "\"") {
      Result<ImageReference> ref = ImageReference::Parse(input);
      INFO(ref.status().ToString());
      REQUIRE(ref.ok());
      CHECK(ref->IsLoopback() == loopback);
    }
  }
}

TEST_CASE("ValidateRepository checks a bare repository path", "[image_reference]") {
  CHECK(ValidateRepository("library/alpine").ok());
  CHECK(ValidateRepository("knative-releases/github.com/knative/serving/cmd/queue").ok());
  CHECK(ValidateRepository("a").ok());

  const std::vector<InvalidCase> cases = {
      {"", "repository name is empty"},
      {"Library/alpine", "repository name must be lowercase"},
      {"a//b", "has an empty path component"},
      {"/a", "has an empty path component"},
      {"a/", "has an empty path component"},
      {"gcr.io:443/a", "contains ':'"},
      {"alpine:3.6", "contains ':'"},
      {std::string(256, 'a'), "must not be more than 255 characters"},
  };
  for (const InvalidCase& c : cases) {
    DYNAMIC_SECTION("\"" << c.input << "\"") {
      Status status = ValidateRepository(c.input);
      REQUIRE_FALSE(status.ok());
      CHECK(status.code() == StatusCode::kInvalidArgument);
      CHECK_THAT(status.message(), Catch::StartsWith("invalid repository \""));
      CHECK_THAT(status.message(), Catch::Contains(c.error));
    }
  }
}

TEST_CASE("IsValidTag follows [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}", "[image_reference]") {
  CHECK(IsValidTag("latest"));
  CHECK(IsValidTag("v1.37-latest"));
  CHECK(IsValidTag("_"));
  CHECK(IsValidTag("UPPER_case.1-2"));
  CHECK(IsValidTag(std::string(128, 'x')));
  CHECK_FALSE(IsValidTag(""));
  CHECK_FALSE(IsValidTag(".hidden"));
  CHECK_FALSE(IsValidTag("-flag"));
  CHECK_FALSE(IsValidTag("a/b"));
  CHECK_FALSE(IsValidTag("a@b"));
  CHECK_FALSE(IsValidTag(std::string(129, 'x')));
}

TEST_CASE("IsValidDigest accepts sha256, sha384 and sha512 in lowercase hex", "[image_reference]") {
  CHECK(IsValidDigest(kSha256));
  CHECK(IsValidDigest("sha384:" + std::string(96, '0')));
  CHECK(IsValidDigest(kSha512));
  CHECK_FALSE(IsValidDigest(""));
  CHECK_FALSE(IsValidDigest("sha256"));
  CHECK_FALSE(IsValidDigest("sha256:"));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(63, 'a')));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(65, 'a')));
  CHECK_FALSE(IsValidDigest("sha256:" + std::string(64, 'A')));
  CHECK_FALSE(IsValidDigest("sha512:" + std::string(64, 'a')));
  CHECK_FALSE(IsValidDigest("md5:" + std::string(32, 'a')));
  CHECK_FALSE(IsValidDigest(kSha256.substr(7)));
}

// --- Every image in the release corpus ---------------------------------------------------------

// An image string found in a manifest, with where it was found for failure messages.
struct FoundImage {
  std::string where;  // file:line
  std::string text;
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::string_view Unquote(std::string_view s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// A quoted scalar ends at its closing quote, a plain one at " #".
std::string_view ScalarValue(std::string_view s) {
  s = Trim(s);
  if (!s.empty() && (s.front() == '"' || s.front() == '\'')) {
    std::size_t close = s.find(s.front(), 1);
    return close == std::string_view::npos ? s : s.substr(1, close - 1);
  }
  std::size_t comment = s.find(" #");
  if (comment != std::string_view::npos) s = Trim(s.substr(0, comment));
  return s;
}

bool EndsWith(std::string_view s, std::string_view suffix) { return s.ends_with(suffix); }

// Keys whose value is an image: "image", and names like queueSidecarImage,
// queue-sidecar-image or logging.fluentd-sidecar-image.
bool IsImageKey(std::string_view key) {
  return key == "image" || EndsWith(key, "Image") || EndsWith(key, "-image") ||
         EndsWith(key, "_image");
}

// Values of image-named keys that are settings, not references.
bool IsSettingWord(std::string_view value) {
  return value == "disabled" || value == "enabled" || value == "allowed";
}

// Finds image strings in one YAML file by line, the way a person reading it would:
//   image: REF / image: "REF" / - image: REF / queueSidecarImage: REF / queue-sidecar-image: REF
//   image: [[ annotation ... "REF" ]]        (an Istio injector template: the quoted default)
//   - -creds-image=REF, or "- -creds-image" followed by the list item "- REF"
//   - name: SOMETHING_IMAGE, followed by value: REF
// Empty values (a schema's "image:" block), flow collections and setting words are skipped.
std::vector<FoundImage> ExtractImages(const std::string& file, const std::string& text) {
  std::vector<FoundImage> found;
  std::istringstream in(text);
  std::string raw;
  int number = 0;
  bool want_flag_value = false;  // the previous item was "-xxx-image"
  bool want_env_value = false;   // the previous line was "- name: XXX_IMAGE"
  while (std::getline(in, raw)) {
    ++number;
    std::string_view line = Trim(raw);
    if (line.empty() || line.front() == '#') continue;
    auto add = [&](std::string_view value) {
      found.push_back({file + ":" + std::to_string(number), std::string(value)});
    };
    bool flag_pending = want_flag_value;
    bool env_pending = want_env_value;
    want_flag_value = want_env_value = false;

    bool list_item = line.starts_with("- ") || line == "-";
    std::string_view item = list_item ? Trim(line.substr(1)) : line;

    if (list_item && flag_pending) {
      add(ScalarValue(item));
      continue;
    }
    if (list_item && item.starts_with('-')) {  // a command-line flag
      std::string_view flag = Unquote(item);
      while (flag.starts_with('-')) flag.remove_prefix(1);
      std::size_t eq = flag.find('=');
      if (EndsWith(flag.substr(0, eq), "-image")) {
        if (eq == std::string_view::npos) {
          want_flag_value = true;
        } else {
          add(Unquote(flag.substr(eq + 1)));
        }
      }
      continue;
    }

    std::size_t colon = item.find(':');
    while (colon != std::string_view::npos && colon + 1 < item.size() && item[colon + 1] != ' ') {
      colon = item.find(':', colon + 1);
    }
    if (colon == std::string_view::npos) continue;
    std::string_view key = Unquote(Trim(item.substr(0, colon)));
    std::string_view value_text = Trim(item.substr(colon + 1));

    if (key == "value" && env_pending) {
      add(ScalarValue(value_text));
      continue;
    }
    if (key == "name" && EndsWith(ScalarValue(value_text), "_IMAGE")) {
      want_env_value = true;
      continue;
    }
    if (!IsImageKey(key)) continue;
    if (value_text.starts_with("[[")) {  // template: take its last quoted string, if any
      std::size_t close = value_text.rfind('"');
      std::size_t open = close == std::string_view::npos || close == 0
                             ? std::string_view::npos
                             : value_text.rfind('"', close - 1);
      if (open != std::string_view::npos) add(value_text.substr(open + 1, close - open - 1));
      continue;
    }
    std::string_view value = ScalarValue(value_text);
    if (value.empty() || value.front() == '{' || value.front() == '[' || value.front() == '|' ||
        value.front() == '>' || IsSettingWord(value)) {
      continue;
    }
    add(value);
  }
  return found;
}

TEST_CASE("image extraction finds every form used in release manifests", "[image_reference]") {
  const std::string yaml = R"(# image: commented/out:1
spec:
  containers:
  - image: alpine:3.6
    name: a
  - name: b
    image: "docker.io/istio/pilot:1.1.3"   # quoted
    args:
    - -logtostderr
    - -creds-image
    - gcr.io/k/creds-init@sha256:22b3a971c3d1d5529ca16f6b6d168ba03c1f3bcb0744271ff8882374fd3b6fdb
    - --queue-image=gcr.io/k/queue:v1
    env:
    - name: BROKER_INGRESS_IMAGE
      value: gcr.io/k/broker/ingress:v2
    - name: NOT_AN_IMAGE_NAME
      value: plain-text
  initContainers:
  - image: [[ annotation .ObjectMeta `sidecar.istio.io/proxyImage`  "docker.io/istio/proxyv2:1.1.3"  ]]
data:
  queueSidecarImage: gcr.io/k/queue@sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45
  queue-sidecar-image: gcr.io/k/queue:v3
  logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4
  kubernetes.podspec-volumes-image: "disabled"
schema:
  image:
    type: string
  imagePullPolicy: Always
  kind: Image
)";
  std::vector<std::string> texts;
  for (const FoundImage& image : ExtractImages("inline.yaml", yaml)) texts.push_back(image.text);
  CHECK(
      texts ==
      std::vector<std::string>{
          "alpine:3.6",
          "docker.io/istio/pilot:1.1.3",
          "gcr.io/k/"
          "creds-init@sha256:22b3a971c3d1d5529ca16f6b6d168ba03c1f3bcb0744271ff8882374fd3b6fdb",
          "gcr.io/k/queue:v1",
          "gcr.io/k/broker/ingress:v2",
          "docker.io/istio/proxyv2:1.1.3",
          "gcr.io/k/queue@sha256:1e40c99ff5977daa2d69873fff604c6d09651af1f9ff15aadf8849b3ee77ab45",
          "gcr.io/k/queue:v3",
          "k8s.gcr.io/fluentd-elasticsearch:v2.0.4",
      });
}

TEST_CASE("every image in the release corpus parses and round-trips", "[image_reference][corpus]") {
  const std::filesystem::path dir = ferry::CorpusDir();

  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string ext = entry.path().extension().string();
    if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  INFO("corpus directory " << dir << " holds no .yaml files");
  REQUIRE_FALSE(files.empty());

  std::set<std::string> distinct;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    REQUIRE(in.good());
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (const FoundImage& image : ExtractImages(file.filename().string(), text)) {
      INFO(image.where << ": " << image.text);
      distinct.insert(image.text);
      Result<ImageReference> ref = ImageReference::Parse(image.text);
      INFO(ref.status().ToString());
      REQUIRE(ref.ok());
      Result<ImageReference> again = ImageReference::Parse(ref->String());
      INFO(again.status().ToString());
      REQUIRE(again.ok());
      CHECK(*again == *ref);
      CHECK(again->String() == ref->String());
      Result<ImageReference> familiar = ImageReference::Parse(ref->Familiar());
      REQUIRE(familiar.ok());
      CHECK(*familiar == *ref);
    }
  }
  INFO("distinct image strings found: " << distinct.size() << " in " << files.size() << " files");
  CHECK(distinct.size() >= 40);
}

}  // namespace
}  // namespace ferry
