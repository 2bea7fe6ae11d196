// Preflight's image lines: a missing image is named on its own line, while a mirror that cannot be
// reached, fails TLS or refuses the credentials is said once, with how many images it affects,
// instead of once per image.
#include <catch2/catch.hpp>

#include "installer/preflight.h"

using namespace ferry;
using namespace ferry::installer;

namespace {

ImageReference Ref(const std::string& text) {
  Result<ImageReference> ref = ImageReference::Parse(text);
  REQUIRE(ref.ok());
  return *ref;
}

ImageCheck Failed(const std::string& image, Status status) { return {.image = Ref(image), .status = std::move(status)}; }
ImageCheck Missing(const std::string& image) { return {.image = Ref(image), .missing = true}; }
ImageCheck Present(const std::string& image) { return {.image = Ref(image)}; }

size_t Count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

const std::string kTls =
    "registry mirror.local:5443: TLS with mirror.local:5443 failed: SSL certificate problem: unable to get local "
    "issuer certificate. If the registry uses a private CA, pass --registry-ca-cert FILE";

}  // namespace

TEST_CASE("a TLS failure of the mirror is one line naming the count and the first two images", "[preflight]") {
  std::vector<ImageCheck> checks = {Failed("mirror.local:5443/knative/controller:1", TlsError(kTls)),
                                    Failed("mirror.local:5443/knative/webhook:1", TlsError(kTls)),
                                    Failed("mirror.local:5443/knative/activator:1", TlsError(kTls)),
                                    Failed("mirror.local:5443/knative/autoscaler:1", TlsError(kTls))};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] ==
        "4 images at mirror.local:5443 cannot be checked (knative/controller:1, knative/webhook:1 "
        "and 2 more): " + kTls);
}

TEST_CASE("refused credentials are one line per registry though each repository says so apart", "[preflight]") {
  auto refused = [](const std::string& repo) {
    return Unauthenticated("registry mirror.local, repository " + repo +
                           ": the token service auth.local rejected the credentials of user ci");
  };
  std::vector<ImageCheck> checks = {Failed("mirror.local/knative/controller:1", refused("knative/controller")),
                                    Failed("mirror.local/knative/webhook:1", refused("knative/webhook"))};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("2 images at mirror.local cannot be checked (knative/controller:1, "
                                "knative/webhook:1): registry mirror.local, repository "
                                "knative/controller: the token service auth.local rejected"));
  CHECK(problems[0].find(" more") == std::string::npos);
}

TEST_CASE("missing images stay one line each, beside a registry failure said once", "[preflight]") {
  std::vector<ImageCheck> checks = {
      Missing("mirror.local/knative/controller:1"),
      Failed("other.local/knative/webhook:1", Unavailable("registry other.local: Connection refused")),
      Present("mirror.local/knative/activator:1"),
      Missing("mirror.local/knative/autoscaler:1"),
      Failed("other.local/knative/queue:1", Unavailable("registry other.local: Connection refused")),
      Failed("other.local/knative/net:1", Unavailable("registry other.local: Connection refused"))};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0].starts_with("image mirror.local/knative/controller:1 is missing from the mirror"));
  CHECK(problems[1].starts_with("3 images at other.local cannot be checked (knative/webhook:1, "
                                "knative/queue:1 and 1 more): registry other.local: Connection refused"));
  CHECK(problems[2].starts_with("image mirror.local/knative/autoscaler:1 is missing from the mirror"));
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  CHECK(Count(all, "Connection refused") == 1);
}

TEST_CASE("each registry that fails is said once, in the order of its first image", "[preflight]") {
  std::vector<ImageCheck> checks = {Failed("b.local/x:1", TlsError("registry b.local: TLS failed")),
                                    Failed("a.local/x:1", Unavailable("registry a.local: Could not resolve host")),
                                    Failed("b.local/y:1", TlsError("registry b.local: TLS failed")),
                                    Failed("a.local/y:1", Unavailable("registry a.local: Could not resolve host"))};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "2 images at b.local cannot be checked (x:1, y:1): registry b.local: TLS failed");
  CHECK(problems[1].find("2 images at a.local cannot be checked (x:1, y:1): registry a.local: Could not resolve host") != std::string::npos);
}

TEST_CASE("a failure about one image stays on that image's line", "[preflight]") {
  // A registry failure that touches one image only needs no count.
  std::vector<ImageCheck> one = {Failed("mirror.local/knative/controller:1", PermissionDenied("registry mirror.local, "
                                        "repository knative/controller: manifest 1: HTTP 403 DENIED"))};
  REQUIRE(ImageCheckProblems(one).size() == 1);
  CHECK(ImageCheckProblems(one)[0].starts_with("image mirror.local/knative/controller:1 cannot be checked at the mirror: "
                                               "registry mirror.local, repository knative/controller: manifest 1"));

  // Bad bytes are each image's own; two of them are two lines.
  std::vector<ImageCheck> corrupt = {
      Failed("mirror.local/a:1", DataLoss("registry mirror.local, repository a: manifest 1 claims digest sha256:1")),
      Failed("mirror.local/b:1", DataLoss("registry mirror.local, repository b: manifest 1 claims digest sha256:2"))};
  std::vector<std::string> problems = ImageCheckProblems(corrupt);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].starts_with("image mirror.local/a:1 cannot be checked at the mirror: "));
  CHECK(problems[1].starts_with("image mirror.local/b:1 cannot be checked at the mirror: "));
}

TEST_CASE("the same message for every image of a registry is said once, whatever its code", "[preflight]") {
  // The registry's ping found something that is not a registry: every image gets that verdict.
  Status not_registry = NotFound("registry mirror.local: GET /v2/ answered HTTP 404; this does not look like a "
                                 "container registry");
  std::vector<ImageCheck> checks = {Failed("mirror.local/a:1", not_registry), Failed("mirror.local/b:1", not_registry),
                                    Failed("mirror.local/c:1", not_registry)};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("3 images at mirror.local cannot be checked (a:1, b:1 and 1 more)"));
}

TEST_CASE("no problem lines when every image is present", "[preflight]") {
  CHECK(ImageCheckProblems({Present("mirror.local/a:1"), Present("mirror.local/b:1")}).empty());
}

TEST_CASE("a grouped line names images briefly: the registry once, digests shortened", "[preflight]") {
  const std::string digest = "sha256:" + std::string(64, 'a');
  std::vector<ImageCheck> checks = {Failed("mirror.local/knative/queue:v1@" + digest, TlsError(kTls)),
                                    Failed("mirror.local/knative/webhook@" + digest, TlsError(kTls))};
  std::vector<std::string> problems = ImageCheckProblems(checks);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("2 images at mirror.local cannot be checked (knative/queue:v1@sha256:aaaaaaaaaaaa, "
                                "knative/webhook@sha256:aaaaaaaaaaaa): "));
}
