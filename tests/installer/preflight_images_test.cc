// Preflight's image lines: missing images are one line per place and cause, counted, the first few
// named, then one line saying how to copy them; a mirror that cannot be reached, fails TLS or
// refuses the credentials is said once, with how many images it affects, instead of once per image.
#include <catch2/catch.hpp>

#include "common/log.h"
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

TEST_CASE("missing images are one line per place, beside a registry failure said once", "[preflight]") {
  std::vector<ImageCheck> checks = {
      Missing("mirror.local/knative/controller:1"),
      Failed("other.local/knative/webhook:1", Unavailable("registry other.local: Connection refused")),
      Present("mirror.local/knative/activator:1"),
      Missing("mirror.local/knative/autoscaler:1"),
      Failed("other.local/knative/queue:1", Unavailable("registry other.local: Connection refused")),
      Failed("other.local/knative/net:1", Unavailable("registry other.local: Connection refused"))};
  std::string advice;
  std::vector<std::string> problems = ImageCheckProblems(checks, {}, &advice);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "2 images missing from mirror.local/knative (controller:1, autoscaler:1): no such repositories there");
  CHECK(problems[1].starts_with("3 images at other.local cannot be checked (knative/webhook:1, "
                                "knative/queue:1 and 1 more): registry other.local: Connection refused"));
  std::string all;
  for (const std::string& p : problems) all += p + "\n";
  CHECK(Count(all, "Connection refused") == 1);
  CHECK(advice.starts_with("copy the missing images with the same release: ferry mirror "));
}

namespace {

std::vector<ImageCheck> ThirtyMissing() {
  std::vector<ImageCheck> checks;
  for (int i = 0; i < 30; ++i)
    checks.push_back(Missing("mirror.local/knative/serving/cmd/c" + std::to_string(i) + "@sha256:" + std::string(64, 'a')));
  return checks;
}

const MirrorHint kHint{.ns = "mirror.local/knative", .release = "--profile knative-1.23-kourier", .naming = " --naming flatten"};

}  // namespace

TEST_CASE("thirty images missing from the mirror are one line, three names and a count, then what to do", "[preflight]") {
  std::string advice;
  std::vector<std::string> problems = ImageCheckProblems(ThirtyMissing(), kHint, &advice);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0] == "30 images missing from mirror.local/knative (serving/cmd/c0@sha256:aaaaaaaaaaaa, "
                       "serving/cmd/c1@sha256:aaaaaaaaaaaa, serving/cmd/c2@sha256:aaaaaaaaaaaa and 27 more): "
                       "no such repositories there");
  CHECK(advice == "copy the missing images with the same release: ferry mirror --profile knative-1.23-kourier "
                  "--to mirror.local/knative --naming flatten where the source registries can be reached, or "
                  "ferry bundle load FILE --to mirror.local/knative --naming flatten from a ferry bundle save of it; "
                  "-v lists every image");
}

TEST_CASE("with -v every missing image is named", "[preflight]") {
  SetLogLevel(LogLevel::kInfo);
  std::string advice;
  std::vector<std::string> problems = ImageCheckProblems(ThirtyMissing(), kHint, &advice);
  SetLogLevel(LogLevel::kWarning);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].starts_with("30 images missing from mirror.local/knative (serving/cmd/c0@sha256:aaaaaaaaaaaa, "));
  for (int i = 0; i < 30; ++i) CHECK(Count(problems[0], "serving/cmd/c" + std::to_string(i) + "@") == 1);
  CHECK(problems[0].find(" more") == std::string::npos);
  CHECK(advice.find("-v lists") == std::string::npos);
}

TEST_CASE("missing images are grouped by whether their repository is there and by where", "[preflight]") {
  auto found = [](const std::string& image) {
    ImageCheck c = Missing(image);
    c.repository_found = true;
    return c;
  };
  std::vector<ImageCheck> checks = {found("mirror.local/knative/a:2"),    Missing("mirror.local/knative/x:1"),
                                    found("mirror.local/knative/b:2"),    Missing("mirror.local/knative/y:1"),
                                    Missing("mirror.local/other/z:1"),    Missing("mirror.local/other/w:1")};
  std::string advice;
  std::vector<std::string> problems = ImageCheckProblems(checks, kHint, &advice);
  REQUIRE(problems.size() == 3);
  CHECK(problems[0] == "2 images missing from mirror.local/knative (a:2, b:2): their repositories are there, with "
                       "other tags or digests (another release mirrored?)");
  CHECK(problems[1] == "2 images missing from mirror.local/knative (x:1, y:1): no such repositories there");
  // Not under the namespace the release was mirrored to: the registry and the repository's parent.
  CHECK(problems[2] == "2 images missing from mirror.local/other (z:1, w:1): no such repositories there");
  CHECK(advice.find("-v lists") == std::string::npos);  // every name was shown
}

TEST_CASE("an image alone in its group is named in full, with what the registry has", "[preflight]") {
  ImageCheck other_tag = Missing("mirror.local/knative/queue:2");
  other_tag.repository_found = true;
  std::string advice;
  std::vector<std::string> problems =
      ImageCheckProblems({Missing("mirror.local/knative/controller:1"), other_tag}, {}, &advice);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0] == "image mirror.local/knative/controller:1 is missing from the mirror (mirror.local has no "
                       "repository knative/controller)");
  CHECK(problems[1] == "image mirror.local/knative/queue:2 is missing from the mirror (mirror.local has repository "
                       "knative/queue, but not this tag or digest)");
  // Without a known namespace or release the command has placeholders to fill in.
  CHECK(advice.find("ferry mirror --profile NAME --to REGISTRY/NAMESPACE where") != std::string::npos);
}

TEST_CASE("no advice when nothing is missing", "[preflight]") {
  std::string advice = "stale";
  ImageCheckProblems({Failed("b.local/x:1", TlsError("registry b.local: TLS failed")), Present("b.local/y:1")}, kHint,
                     &advice);
  CHECK(advice.empty());
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
