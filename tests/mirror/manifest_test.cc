#include "mirror/manifest.h"

#include <catch2/catch.hpp>

#include "common/sha256.h"

using namespace ferry;

namespace {
const char* kOciImage = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:aaaa","size":10},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:bbbb","size":20}]})";
const char* kIndex = R"({"schemaVersion":2,"manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cccc","size":30,
  "platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";
}  // namespace

TEST_CASE("an image manifest lists its config then its layers, and keeps its exact bytes") {
  auto m = ParseManifest(kOciImage, "application/vnd.oci.image.manifest.v1+json", "img");
  REQUIRE(m.ok());
  CHECK(m->kind == ManifestKind::kImage);
  CHECK(m->bytes == kOciImage);
  CHECK(m->digest == Sha256Digest(kOciImage));
  REQUIRE(m->blobs.size() == 2);
  CHECK(m->blobs[0].digest == "sha256:aaaa");
  CHECK(m->blobs[1].size == 20);
}

TEST_CASE("an index without mediaType is recognised by its shape, with platforms") {
  auto m = ParseManifest(kIndex, "application/json", "img");
  REQUIRE(m.ok());
  CHECK(m->kind == ManifestKind::kIndex);
  CHECK(m->media_type == "application/vnd.oci.image.index.v1+json");
  REQUIRE(m->children.size() == 1);
  CHECK(m->children[0].platform == "linux/arm64/v8");
}

TEST_CASE("the Content-Type's parameters do not hide the media type") {
  auto m = ParseManifest(kOciImage, "application/vnd.oci.image.manifest.v1+json; charset=utf-8", "img");
  REQUIRE(m.ok());
  CHECK(m->media_type == "application/vnd.oci.image.manifest.v1+json");
}

TEST_CASE("manifests ferry cannot copy exactly are refused with the reason") {
  SECTION("schema 1") {
    auto m = ParseManifest(R"({"schemaVersion":1,"name":"x","fsLayers":[]})",
                           "application/vnd.docker.distribution.manifest.v1+prettyjws", "gcr.io/old/image:1");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kUnsupported);
    CHECK_THAT(m.status().message(), Catch::Contains("gcr.io/old/image:1") && Catch::Contains("schema 1") &&
                                         Catch::Contains("digest-exact"));
  }
  SECTION("unknown media type") {
    auto m = ParseManifest(R"({"schemaVersion":2,"config":{}})", "application/vnd.example.thing+json", "img");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kUnsupported);
    CHECK_THAT(m.status().message(), Catch::Contains("application/vnd.example.thing+json"));
  }
  SECTION("over 4 MiB") {
    std::string big = std::string(R"({"schemaVersion":2,"x":")") + std::string(kMaxManifestBytes, 'a') + "\"}";
    auto m = ParseManifest(big, "application/vnd.oci.image.manifest.v1+json", "img");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Catch::Contains("4 MiB"));
  }
  SECTION("not JSON") {
    auto m = ParseManifest("<html>", "application/vnd.oci.image.manifest.v1+json", "img");
    REQUIRE_FALSE(m.ok());
    CHECK_THAT(m.status().message(), Catch::Contains("not a JSON object"));
  }
  SECTION("descriptor without a digest") {
    auto m = ParseManifest(R"({"schemaVersion":2,"config":{"size":1},"layers":[]})",
                           "application/vnd.oci.image.manifest.v1+json", "img");
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == StatusCode::kInvalidArgument);
  }
}
