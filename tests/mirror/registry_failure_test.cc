// Which failed images share a cause: one registry failing alike, whatever repository each names.
#include <catch2/catch.hpp>

#include "mirror/registry_failure.h"

using namespace ferry;

TEST_CASE("the registry a client message is about, with or without a port", "[registry_failure]") {
  CHECK(RegistryNamedIn("registry gcr.io, repository knative-releases/x: Connection refused") == "gcr.io");
  CHECK(RegistryNamedIn("registry 127.0.0.1:5000: TLS failed") == "127.0.0.1:5000");
  CHECK(RegistryNamedIn("registry 127.0.0.1:5000, repository a: manifest 1: HTTP 503") == "127.0.0.1:5000");
  CHECK(RegistryNamedIn("manifest sha256:1 claims digest sha256:2") == "");
  CHECK(RegistryNamedIn("registry") == "");
}

TEST_CASE("registry failures share a key per registry and code; other failures per message", "[registry_failure]") {
  Status a = Unavailable("registry r.local, repository a: Connection refused");
  Status b = Unavailable("registry r.local, repository b: Connection refused");
  CHECK(FailureCauseKey("r.local", a) == FailureCauseKey("r.local", b));
  CHECK(FailureCauseKey("r.local", a) != FailureCauseKey("s.local", b));
  CHECK(FailureCauseKey("r.local", a) != FailureCauseKey("r.local", TlsError("registry r.local: TLS failed")));
  Status bad1 = DataLoss("registry r.local, repository a: manifest claims sha256:1");
  Status bad2 = DataLoss("registry r.local, repository b: manifest claims sha256:2");
  CHECK(FailureCauseKey("r.local", bad1) != FailureCauseKey("r.local", bad2));
  CHECK(FailureCauseKey("r.local", bad1) == FailureCauseKey("r.local", bad1));
  CHECK(IsRegistryFailure(StatusCode::kPermissionDenied));
  CHECK_FALSE(IsRegistryFailure(StatusCode::kNotFound));
}
