#include "mirror/image_lock.h"

#include <catch2/catch.hpp>

using namespace ferry;

namespace {
const std::string kDigest = "sha256:" + std::string(64, 'a');

LockEntry Entry(const std::string& source, const std::string& target) {
  return {*ImageReference::Parse(source), *ImageReference::Parse(target + "@" + kDigest),
          "application/vnd.oci.image.index.v1+json", {"linux/amd64"}, 1234};
}
}  // namespace

TEST_CASE("a lock file lists images sorted by source, whatever order they finished in") {
  ImageLock lock;
  lock.images = {Entry("gcr.io/b/queue:v1", "mirror.io/ns/queue:v1"), Entry("docker.io/istio/proxyv2:1.1.3", "mirror.io/ns/proxyv2:1.1.3")};
  ImageLock reversed;
  reversed.images = {lock.images[1], lock.images[0]};
  CHECK(lock.Serialize() == reversed.Serialize());
  CHECK(lock.Serialize().find("docker.io/istio") < lock.Serialize().find("gcr.io/b/queue"));
}

TEST_CASE("a lock file reads back what was written") {
  ImageLock lock;
  lock.images = {Entry("gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0", "mirror.io/ns/serving-queue:v1.23.0")};
  auto read = ImageLock::Parse(lock.Serialize(), "images.lock");
  REQUIRE(read.ok());
  REQUIRE(read->images.size() == 1);
  const LockEntry& e = read->images[0];
  CHECK(e.source == lock.images[0].source);
  CHECK(e.target == lock.images[0].target);
  CHECK(e.platforms == std::vector<std::string>{"linux/amd64"});
  CHECK(e.size == 1234);
}

TEST_CASE("a broken lock file is refused with the file and the entry at fault") {
  SECTION("not JSON") {
    auto r = ImageLock::Parse("{", "images.lock");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("images.lock"));
  }
  SECTION("from a future ferry") {
    auto r = ImageLock::Parse(R"({"version": 99, "images": []})", "images.lock");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("version 99"));
  }
  SECTION("target without digest") {
    auto r = ImageLock::Parse(R"({"version": 1, "images": [{"source": "alpine:3.6", "target": "m.io/ns/alpine:3.6"}]})",
                              "images.lock");
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("images[0]") && Catch::Contains("no digest"));
  }
}
