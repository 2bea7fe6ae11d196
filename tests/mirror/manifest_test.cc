#include "mirror/manifest.h"

#include <catch2/catch.hpp>

#include "common/sha256.h"

using namespace ferry;

namespace {
const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');
const std::string kC = "sha256:" + std::string(64, 'c');
const std::string kOciImage = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
 "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + kA + R"(","size":10},
 "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" + kB + R"(","size":20}]})";
const std::string kIndex = R"({"schemaVersion":2,"manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + kC + R"(","size":30,
  "platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]})";

// An OCI image manifest whose one layer has `digest` and `size` (JSON text, as written).
std::string ImageWithLayer(const std::string& digest, const std::string& size) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"digest":")" +
         kA + R"(","size":2},"layers":[{"digest":)" + digest + R"(,"size":)" + size + "}]}";
}

Status ParseImageWithLayer(const std::string& digest, const std::string& size) {
  return ParseManifest(ImageWithLayer(digest, size), "application/vnd.oci.image.manifest.v1+json", "img").status();
}
}  // namespace

TEST_CASE("an image manifest lists its config then its layers, and keeps its exact bytes") {
  auto m = ParseManifest(kOciImage, "application/vnd.oci.image.manifest.v1+json", "img");
  REQUIRE(m.ok());
  CHECK(m->kind == ManifestKind::kImage);
  CHECK(m->bytes == kOciImage);
  CHECK(m->digest == Sha256Digest(kOciImage));
  REQUIRE(m->blobs.size() == 2);
  CHECK(m->blobs[0].digest == kA);
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

TEST_CASE("a descriptor's digest must be a valid digest: it becomes part of URLs and file names") {
  CHECK(ParseImageWithLayer("\"" + kB + "\"", "5").ok());
  CHECK(ParseImageWithLayer("\"sha512:" + std::string(128, 'e') + "\"", "5").ok());
  for (const std::string& bad :
       {std::string("sha256:../../../etc/passwd"), std::string("sha256:") + std::string(63, 'a'),
        std::string("sha256:") + std::string(64, 'A'), std::string("sha256:") + std::string(64, 'a') + "/x",
        std::string("md5:") + std::string(32, 'a'), std::string("sha256:") + std::string(64, 'a') + "?x=1",
        std::string(""), std::string("sha256"), std::string("sha256:") + std::string(64, 'a') + "\\n"}) {
    INFO(bad);
    Status s = ParseImageWithLayer("\"" + bad + "\"", "5");
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains("img") && Catch::Contains("invalid digest"));
  }
  SECTION("in an index too") {
    std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
      "manifests":[{"digest":"sha256:..%2f..%2fblobs","size":3}]})";
    Status s = ParseManifest(index, "", "idx").status();
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("invalid digest"));
  }
}

TEST_CASE("a descriptor's size must be from 0 to the limit, so sizes can be added up safely") {
  CHECK(ParseImageWithLayer("\"" + kB + "\"", "0").ok());
  CHECK(ParseImageWithLayer("\"" + kB + "\"", std::to_string(kMaxBlobBytes)).ok());
  for (const std::string& bad : {std::string("-1"), std::to_string(kMaxBlobBytes + 1), std::string("9223372036854775807"),
                                 std::string("9223372036854775808"), std::string("18446744073709551615")}) {
    INFO(bad);
    Status s = ParseImageWithLayer("\"" + kB + "\"", bad);
    REQUIRE_FALSE(s.ok());
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(s.message(), Catch::Contains(kB));
  }
  SECTION("a child manifest of an index is at most 4 MiB") {
    std::string index = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",
      "manifests":[{"digest":")" + kC + R"(","size":)" + std::to_string(kMaxManifestBytes + 1) + "}]}";
    Status s = ParseManifest(index, "", "idx").status();
    REQUIRE_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains(kC));
  }
}

TEST_CASE("fields of the wrong JSON type are refused, never thrown (found by fuzzing)") {
  for (const char* body : {R"({"schemaVersion": "nameb: &x", "fsLayers": []})",
                           R"({"schemaVersion": 2, "manifests": [{"digest": 1, "size": 2}]})",
                           R"({"schemaVersion": 2, "manifests": [{"digest": "sha256:x", "size": "2"}]})"}) {
    INFO(body);
    CHECK_FALSE(ParseManifest(body, "application/json", "img").ok());
  }
}
