#include "mirror/resolved_image.h"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace ferry;

namespace {
const char* kIndex = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","size":1,"platform":{"os":"linux","architecture":"amd64"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","size":2,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
 {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc","size":3,"platform":{"os":"windows","architecture":"amd64"}}],
 "annotations":{"kept":"yes"}})";
}  // namespace

TEST_CASE("a platform filter keeps the listed platforms, variants included, and everything else") {
  auto index = ParseManifest(kIndex, "application/vnd.oci.image.index.v1+json", "img");
  REQUIRE(index.ok());
  auto filtered = FilterPlatforms(*index, {"linux/arm64", "windows/amd64"}, "img");
  REQUIRE(filtered.ok());
  REQUIRE(filtered->children.size() == 2);
  CHECK(filtered->children[0].platform == "linux/arm64/v8");
  CHECK(filtered->children[1].platform == "windows/amd64");
  CHECK(nlohmann::json::parse(filtered->bytes)["annotations"]["kept"] == "yes");
  CHECK(filtered->digest != index->digest);
}

TEST_CASE("a platform filter that matches nothing says what the index offers") {
  auto index = ParseManifest(kIndex, "application/vnd.oci.image.index.v1+json", "img");
  REQUIRE(index.ok());
  auto filtered = FilterPlatforms(*index, {"linux/s390x"}, "img");
  REQUIRE_FALSE(filtered.ok());
  CHECK_THAT(filtered.status().message(), Catch::Contains("linux/amd64") && Catch::Contains("linux/arm64/v8"));
}
