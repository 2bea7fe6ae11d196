// The in-memory rewrite an install applies: what it rewrites is what `ferry rewrite` would.
#include "installer/release_rewrite.h"

#include <catch2/catch.hpp>

#include "mirror/target_naming.h"
#include "tests/installer/scratch_files.h"

using namespace ferry;
using ferry::installer::testing::ScratchDir;

TEST_CASE("install rewrites commented _example references only when asked, as ferry rewrite does",
          "[release_rewrite]") {
  ScratchDir dir;
  const std::string file = dir.Write("release.yaml", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: config-observability, namespace: knative-serving}
data:
  _example: |
    logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: controller, namespace: knative-serving}
spec:
  template:
    spec:
      containers:
      - name: controller
        image: gcr.io/knative-releases/controller:v1
)");
  Result<ManifestSet> set = CollectManifests({file});
  REQUIRE(set.ok());
  Result<ImageReference> controller = ImageReference::Parse("gcr.io/knative-releases/controller:v1");
  Result<ImageReference> fluentd = ImageReference::Parse("k8s.gcr.io/fluentd-elasticsearch:v2.0.4");
  Result<TargetPrefix> to = TargetPrefix::Parse("mirror.example.com/knative");
  REQUIRE((controller.ok() && fluentd.ok() && to.ok()));
  Result<ReferenceMap> map = ReferenceMap::FromNaming({*controller, *fluentd}, *to, NamingOptions{});
  REQUIRE(map.ok());

  Result<installer::RewrittenRelease> plain = installer::RewriteRelease(*set, *map, /*include_optional=*/false);
  REQUIRE(plain.ok());
  REQUIRE(plain->files.size() == 1);
  CHECK(plain->files[0].text.find("logging.fluentd-sidecar-image: k8s.gcr.io/fluentd-elasticsearch:v2.0.4") !=
        std::string::npos);
  CHECK(plain->files[0].text.find("image: mirror.example.com/knative/") != std::string::npos);
  CHECK(plain->images.size() == 1);

  Result<installer::RewrittenRelease> with = installer::RewriteRelease(*set, *map, /*include_optional=*/true);
  REQUIRE(with.ok());
  CHECK(with->files[0].text.find("k8s.gcr.io/fluentd") == std::string::npos);
  CHECK(with->images.size() == 2);
}
