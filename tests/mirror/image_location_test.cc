// Transport names as skopeo spells them, and the ref names of OCI layouts.
#include "mirror/image_location.h"

#include <catch2/catch.hpp>

#include "mirror/layout_index.h"

using namespace ferry;

TEST_CASE("a location is named with skopeo's transport prefixes; a bare reference is docker://") {
  Result<ImageLocation> bare = ParseImageLocation("gcr.io/knative-releases/queue:v1");
  REQUIRE(bare.ok());
  CHECK(bare->transport == Transport::kDocker);
  CHECK(bare->reference.String() == "gcr.io/knative-releases/queue:v1");
  Result<ImageLocation> docker = ParseImageLocation("docker://alpine");
  REQUIRE(docker.ok());
  CHECK(docker->reference.String() == "docker.io/library/alpine");

  Result<ImageLocation> oci = ParseImageLocation("oci:/tmp/layout:gcr.io/x/y:v1");
  REQUIRE(oci.ok());
  CHECK(oci->transport == Transport::kOci);
  CHECK(oci->path == "/tmp/layout");
  CHECK(oci->name == "gcr.io/x/y:v1");
  CHECK(oci->String() == "oci:/tmp/layout:gcr.io/x/y:v1");

  Result<ImageLocation> archive = ParseImageLocation("oci-archive:b.tar");
  REQUIRE(archive.ok());
  CHECK(archive->transport == Transport::kOciArchive);
  CHECK(archive->name.empty());
  Result<ImageLocation> saved = ParseImageLocation("docker-archive:app.tar:@1");
  REQUIRE(saved.ok());
  CHECK(saved->transport == Transport::kDockerArchive);
  CHECK(saved->name == "@1");
}

TEST_CASE("unknown transports and empty paths are refused saying what ferry reads") {
  for (const char* text : {"dir:/tmp/x", "containers-storage:x", "docker-daemon:x:1", "ftp://x/y"}) {
    Result<ImageLocation> r = ParseImageLocation(text);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("docker://, oci:, oci-archive: and docker-archive:"));
  }
  CHECK_FALSE(ParseImageLocation("oci:").ok());
  CHECK_FALSE(ParseImageLocation("Docker/Docker").ok());
}

TEST_CASE("ref names split into repository, tag and digest, and back") {
  ImageLocator full = ParseRefName("gcr.io/x/y:v1@sha256:" + std::string(64, 'a'));
  CHECK(full.repository == "gcr.io/x/y");
  CHECK(full.tag == "v1");
  CHECK(full.digest == "sha256:" + std::string(64, 'a'));
  CHECK(ParseRefName("v1") == ImageLocator{"", "v1", ""});
  CHECK(ParseRefName("localhost:5000/x:2") == ImageLocator{"localhost:5000/x", "2", ""});
  CHECK(RefName({"gcr.io/x/y", "v1", ""}) == "gcr.io/x/y:v1");
  CHECK(RefName({"", "v1", ""}) == "v1");
  CHECK(RefName({"gcr.io/x/y", "", "sha256:" + std::string(64, 'b')}) == "gcr.io/x/y@sha256:" + std::string(64, 'b'));
}

TEST_CASE("attachment tags are cosign's and the referrers fallback, and nothing else") {
  std::string hex(64, 'c');
  CHECK(IsAttachmentTag("sha256-" + hex));
  CHECK(IsAttachmentTag("sha256-" + hex + ".sig"));
  CHECK(IsAttachmentTag("sha256-" + hex + ".att"));
  CHECK(IsAttachmentTag("sha256-" + hex + ".sbom"));
  CHECK_FALSE(IsAttachmentTag("sha256-" + hex + ".tar"));
  CHECK_FALSE(IsAttachmentTag("sha256-abc.sig"));
  CHECK_FALSE(IsAttachmentTag("v1.23.0"));
}
