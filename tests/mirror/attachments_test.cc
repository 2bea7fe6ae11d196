// Finding what is attached to an image (cosign tags, OCI 1.1 referrers with or without the API)
// and keeping a subject's referrers fallback index.
#include "mirror/attachments.h"

#include <catch2/catch.hpp>

#include "tests/mirror/test_images.h"

using namespace ferry;
using namespace ferry::test;

namespace {

// A source with the Referrers API: it lists referrers itself, no fallback tag.
class ApiSource : public MemorySource {
 public:
  using MemorySource::MemorySource;
  std::map<std::string, std::vector<Descriptor>> referrers;
  Result<std::optional<std::vector<Descriptor>>> Referrers(const std::string&, const std::string& digest) override {
    return std::optional<std::vector<Descriptor>>(referrers[digest]);
  }
};

}  // namespace

TEST_CASE("cosign's tags of an image and of its children are found by the image's digests") {
  TestImage index = MakeIndex("queue");
  const std::string& child = index.children[0].manifest.digest;
  MemorySource source("memory");
  std::vector<std::string> tags = {"v1", CosignTag(index.manifest.digest, "sig"), CosignTag(child, "att"),
                                   CosignTag(child, "sbom"), CosignTag("sha256:" + std::string(64, '0'), "sig")};
  Result<std::vector<Attachment>> found =
      FindAttachments(source, "queue", tags, {index.children[0].manifest.digest, index.manifest.digest});
  REQUIRE(found.ok());
  REQUIRE(found->size() == 3);
  CHECK((*found)[0].kind == AttachmentKind::kAttestation);
  CHECK((*found)[0].subject == child);
  CHECK((*found)[1].kind == AttachmentKind::kSbom);
  CHECK((*found)[2].kind == AttachmentKind::kSignature);
  CHECK((*found)[2].tag == "sha256-" + index.manifest.digest.substr(7) + ".sig");
}

TEST_CASE("referrers come from the Referrers API, else from the fallback tag's index") {
  TestImage app = MakeImage("app");
  TestImage sbom = MakeArtifact("sbom", app.manifest, "application/spdx+json");
  Descriptor d{sbom.manifest.media_type, sbom.manifest.digest, static_cast<int64_t>(sbom.manifest.bytes.size()), "",
               "application/spdx+json"};

  ApiSource api("api");
  api.referrers[app.manifest.digest] = {d};
  Result<std::vector<Attachment>> by_api = FindAttachments(api, "app", {"v1"}, {app.manifest.digest});
  REQUIRE(by_api.ok());
  REQUIRE(by_api->size() == 1);
  CHECK(by_api->front().kind == AttachmentKind::kReferrer);
  CHECK(by_api->front().digest == sbom.manifest.digest);
  CHECK(by_api->front().artifact_type == "application/spdx+json");

  MemorySource plain("plain");
  Result<std::optional<Manifest>> fallback = AddReferrer(std::nullopt, sbom.manifest);
  REQUIRE(fallback.ok());
  REQUIRE(fallback->has_value());
  plain.AddManifest("app", ReferrersTag(app.manifest.digest), **fallback);
  Result<std::vector<Attachment>> by_tag =
      FindAttachments(plain, "app", {"v1", ReferrersTag(app.manifest.digest)}, {app.manifest.digest});
  REQUIRE(by_tag.ok());
  REQUIRE(by_tag->size() == 1);
  CHECK(by_tag->front().digest == sbom.manifest.digest);
  CHECK(by_tag->front().artifact_type == "application/spdx+json");
}

TEST_CASE("the fallback index gains each referrer once, with its artifactType and annotations") {
  TestImage app = MakeImage("app");
  TestImage sbom = MakeArtifact("sbom", app.manifest, "application/spdx+json");
  TestImage vex = MakeArtifact("vex", app.manifest, "application/vnd.openvex+json");
  Result<std::optional<Manifest>> one = AddReferrer(std::nullopt, sbom.manifest);
  REQUIRE(one.ok());
  Result<std::optional<Manifest>> two = AddReferrer(**one, vex.manifest);
  REQUIRE(two.ok());
  REQUIRE(two->has_value());
  REQUIRE((*two)->children.size() == 2);
  CHECK((*two)->children[1].artifact_type == "application/vnd.openvex+json");
  CHECK(nlohmann::json::parse((*two)->bytes)["manifests"][0]["annotations"].contains("org.opencontainers.image.created"));
  Result<std::optional<Manifest>> again = AddReferrer(**two, sbom.manifest);
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
}

TEST_CASE("attachment records round-trip through JSON and refuse a bad digest") {
  std::vector<AttachmentRecord> records = {{"signature", "sha256-" + std::string(64, 'a') + ".sig",
                                            "sha256:" + std::string(64, 'b'), media_type::kOciManifest.data()},
                                           {"referrer", "", "sha256:" + std::string(64, 'c'), "x"}};
  nlohmann::ordered_json json = AttachmentsJson(records);
  CHECK_FALSE(json[1].contains("tag"));
  Result<std::vector<AttachmentRecord>> back = ParseAttachments(json, "here");
  REQUIRE(back.ok());
  CHECK(back->size() == 2);
  CHECK((*back)[0].tag == records[0].tag);
  json[0]["digest"] = "sha256:nope";
  CHECK_FALSE(ParseAttachments(json, "here").ok());
}
