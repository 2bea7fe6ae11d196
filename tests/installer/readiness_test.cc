// Readiness rules, one table per kind, each row a small object as the API server would return it.
#include "installer/readiness.h"

#include <catch2/catch.hpp>

using namespace ferry::installer;
using nlohmann::json;

namespace {

struct Row {
  const char* what;
  const char* object;  // JSON
  ReadyState state;
  const char* message;  // expected message, or a part of it
};

void CheckRows(const std::vector<Row>& rows) {
  for (const Row& row : rows) {
    INFO(row.what);
    Readiness r = ReadinessOf(json::parse(row.object));
    INFO(r.message);
    CHECK(ReadyStateName(r.state) == std::string(ReadyStateName(row.state)));
    CHECK(r.message.find(row.message) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("generic rules come before the kind's", "[readiness]") {
  CheckRows({
      {"being deleted",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n","deletionTimestamp":"2024-01-01T00:00:00Z"}})",
       ReadyState::kTerminating, "Deployment n/d: being deleted"},
      {"generation not observed",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n","generation":3},
          "spec":{"replicas":1},"status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1}})",
       ReadyState::kInProgress, "generation 3 not yet observed"},
      {"Stalled", R"({"apiVersion":"example.dev/v1","kind":"Thing","metadata":{"name":"t"},
          "status":{"conditions":[{"type":"Stalled","status":"True","reason":"Broken","message":"no way"}]}})",
       ReadyState::kFailed, "Thing t: stalled (Broken: no way)"},
      {"Reconciling", R"({"apiVersion":"example.dev/v1","kind":"Thing","metadata":{"name":"t"},
          "status":{"conditions":[{"type":"Reconciling","status":"True"},{"type":"Ready","status":"True"}]}})",
       ReadyState::kInProgress, "reconciling"},
  });
}

TEST_CASE("Deployment", "[readiness]") {
  CheckRows({
      {"just created",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"webhook","namespace":"knative-serving"},"spec":{"replicas":1}})",
       ReadyState::kInProgress, "Deployment knative-serving/webhook: 0 of 1 replicas available"},
      {"replicas default to 1",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{}})",
       ReadyState::kInProgress, "0 of 1 replicas available"},
      {"pod running, not ready",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{"replicas":2},
          "status":{"replicas":2,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1}})",
       ReadyState::kInProgress, "1 of 2 replicas available"},
      {"rolling update: old replicas remain",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{"replicas":1},
          "status":{"replicas":2,"updatedReplicas":1,"readyReplicas":2,"availableReplicas":2}})",
       ReadyState::kInProgress, "1 old replicas still terminating"},
      {"progress deadline exceeded",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{"replicas":1},
          "status":{"conditions":[{"type":"Progressing","status":"False","reason":"ProgressDeadlineExceeded","message":"ReplicaSet d-1 has timed out progressing."}]}})",
       ReadyState::kFailed,
       "progress deadline exceeded (ProgressDeadlineExceeded: ReplicaSet d-1 has timed out progressing.)"},
      {"counts reached, rollout condition not yet",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{"replicas":1},
          "status":{"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,
          "conditions":[{"type":"Progressing","status":"True","reason":"ReplicaSetUpdated"},{"type":"Available","status":"True"}]}})",
       ReadyState::kInProgress, "rollout not finished"},
      {"available",
       R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","namespace":"n","generation":2},"spec":{"replicas":1},
          "status":{"observedGeneration":2,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,
          "conditions":[{"type":"Progressing","status":"True","reason":"NewReplicaSetAvailable"},{"type":"Available","status":"True"}]}})",
       ReadyState::kCurrent, "1 of 1 replicas available"},
      {"extensions group is the same kind",
       R"({"apiVersion":"extensions/v1beta1","kind":"Deployment","metadata":{"name":"d","namespace":"n"},"spec":{"replicas":1}})",
       ReadyState::kInProgress, "0 of 1 replicas available"},
  });
}

TEST_CASE("StatefulSet and DaemonSet", "[readiness]") {
  CheckRows({
      {"sts OnDelete",
       R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","namespace":"n"},"spec":{"updateStrategy":{"type":"OnDelete"}}})",
       ReadyState::kCurrent, "OnDelete"},
      {"sts not ready",
       R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","namespace":"n"},"spec":{"replicas":3},
          "status":{"replicas":3,"readyReplicas":2}})",
       ReadyState::kInProgress, "2 of 3 replicas ready"},
      {"sts revision pending",
       R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","namespace":"n"},"spec":{"replicas":1},
          "status":{"replicas":1,"readyReplicas":1,"currentReplicas":1,"currentRevision":"s-1","updateRevision":"s-2"}})",
       ReadyState::kInProgress, "revision s-2"},
      {"sts partition done",
       R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","namespace":"n"},
          "spec":{"replicas":3,"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}},
          "status":{"replicas":3,"readyReplicas":3,"updatedReplicas":1}})",
       ReadyState::kCurrent, "partitioned rollout complete"},
      {"sts ready",
       R"({"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","namespace":"n"},"spec":{"replicas":1},
          "status":{"replicas":1,"readyReplicas":1,"currentReplicas":1,"currentRevision":"s-1","updateRevision":"s-1"}})",
       ReadyState::kCurrent, "1 of 1 replicas ready"},
      {"ds never observed",
       R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d","namespace":"n"},"status":{"desiredNumberScheduled":0}})",
       ReadyState::kInProgress, "not yet observed"},
      {"ds pods unavailable",
       R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d","namespace":"n"},
          "status":{"observedGeneration":1,"desiredNumberScheduled":3,"currentNumberScheduled":3,"updatedNumberScheduled":3,"numberAvailable":2,"numberReady":2}})",
       ReadyState::kInProgress, "2 of 3 pods available"},
      {"ds ready", R"({"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"d","namespace":"n"},
          "status":{"observedGeneration":1,"desiredNumberScheduled":2,"currentNumberScheduled":2,"updatedNumberScheduled":2,"numberAvailable":2,"numberReady":2}})",
       ReadyState::kCurrent, "2 of 2 pods ready"},
  });
}

TEST_CASE("Job is ready only when complete (stricter than kstatus)", "[readiness]") {
  CheckRows({
      {"not started", R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"n"}})",
       ReadyState::kInProgress, "Job n/j: not started yet"},
      {"running", R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"n"},
          "status":{"startTime":"2024-01-01T00:00:00Z","active":1}})",
       ReadyState::kInProgress, "running, not complete (1 active, 0 succeeded, 0 failed)"},
      {"complete", R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"n"},
          "status":{"startTime":"x","succeeded":1,"conditions":[{"type":"Complete","status":"True"}]}})",
       ReadyState::kCurrent, "complete"},
      {"failed", R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j","namespace":"n"},
          "status":{"failed":11,"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit"}]}})",
       ReadyState::kFailed,
       "failed after 11 failed pods (BackoffLimitExceeded: Job has reached the specified backoff limit)"},
  });
}

TEST_CASE("CRD and APIService", "[readiness]") {
  CheckRows({
      {"crd new",
       R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"images.caching.internal.knative.dev"}})",
       ReadyState::kInProgress,
       "CustomResourceDefinition images.caching.internal.knative.dev: not yet Established"},
      {"crd installing",
       R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"c"},
          "status":{"conditions":[{"type":"Established","status":"False","reason":"Installing"}]}})",
       ReadyState::kInProgress, "not yet Established"},
      {"crd names rejected",
       R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"c"},
          "status":{"conditions":[{"type":"NamesAccepted","status":"False","reason":"ListKindConflict","message":"taken"}]}})",
       ReadyState::kFailed, "names not accepted (ListKindConflict: taken)"},
      {"crd established",
       R"({"apiVersion":"apiextensions.k8s.io/v1beta1","kind":"CustomResourceDefinition","metadata":{"name":"c"},
          "status":{"conditions":[{"type":"NamesAccepted","status":"True"},{"type":"Established","status":"True"}]}})",
       ReadyState::kCurrent, "established"},
      {"apiservice without status",
       R"({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"v1beta1.custom.metrics.k8s.io"}})",
       ReadyState::kInProgress, "condition Available is not True"},
      {"apiservice unavailable",
       R"({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"a"},
          "status":{"conditions":[{"type":"Available","status":"False","reason":"MissingEndpoints"}]}})",
       ReadyState::kInProgress, "(MissingEndpoints)"},
      {"apiservice available",
       R"({"apiVersion":"apiregistration.k8s.io/v1","kind":"APIService","metadata":{"name":"a"},
          "status":{"conditions":[{"type":"Available","status":"True"}]}})",
       ReadyState::kCurrent, "available"},
  });
}

TEST_CASE("Service: a LoadBalancer needs an address (stricter than kstatus)", "[readiness]") {
  CheckRows({
      {"cluster IP",
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n"},"spec":{"clusterIP":"10.0.0.1"}})",
       ReadyState::kCurrent, "service"},
      {"lb pending",
       R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kourier","namespace":"kourier-system"},
          "spec":{"type":"LoadBalancer","clusterIP":"10.0.0.2"},"status":{"loadBalancer":{}}})",
       ReadyState::kInProgress, "Service kourier-system/kourier: waiting for a load balancer address"},
      {"lb empty ingress", R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n"},
          "spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[]}}})",
       ReadyState::kInProgress, "status.loadBalancer.ingress is empty"},
      {"lb ready", R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s","namespace":"n"},
          "spec":{"type":"LoadBalancer"},"status":{"loadBalancer":{"ingress":[{"ip":"192.0.2.10"}]}}})",
       ReadyState::kCurrent, "load balancer at 192.0.2.10"},
  });
}

TEST_CASE("Service: without waiting for load balancers, a missing address is waived", "[readiness]") {
  json pending = json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"kourier","namespace":"kourier-system"},
      "spec":{"type":"LoadBalancer","clusterIP":"10.0.0.2"},"status":{"loadBalancer":{}}})");
  Readiness r = ReadinessOf(pending, {.wait_for_load_balancer = false});
  CHECK(r.state == ReadyState::kCurrent);
  CHECK(r.waived);
  CHECK(r.message == "Service kourier-system/kourier: no LoadBalancer address");
  CHECK_FALSE(ReadinessOf(pending).waived);

  json with_address = pending;
  with_address["status"]["loadBalancer"]["ingress"] = json::array({{{"ip", "192.0.2.10"}}});
  Readiness ready = ReadinessOf(with_address, {.wait_for_load_balancer = false});
  CHECK(ready.state == ReadyState::kCurrent);
  CHECK_FALSE(ready.waived);
}

TEST_CASE("Knative objects by their Ready condition", "[readiness]") {
  CheckRows({
      {"ready",
       R"({"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"default"},
          "status":{"conditions":[{"type":"Ready","status":"True"}]}})",
       ReadyState::kCurrent, "Service default/hello: Ready"},
      {"unknown",
       R"({"apiVersion":"serving.knative.dev/v1","kind":"Service","metadata":{"name":"hello","namespace":"default"},
          "status":{"conditions":[{"type":"Ready","status":"Unknown","reason":"RevisionMissing","message":"Configuration \"hello\" is waiting for a Revision to become ready."}]}})",
       ReadyState::kInProgress,
       "Ready is Unknown (RevisionMissing: Configuration \"hello\" is waiting for a Revision to become "
       "ready.)"},
      {"false",
       R"({"apiVersion":"serving.knative.dev/v1","kind":"Revision","metadata":{"name":"hello-1","namespace":"default"},
          "status":{"conditions":[{"type":"Ready","status":"False","reason":"ContainerMissing","message":"Unable to fetch image"}]}})",
       ReadyState::kInProgress, "Ready is False (ContainerMissing: Unable to fetch image)"},
      {"nothing reconciles it",
       R"({"apiVersion":"caching.internal.knative.dev/v1alpha1","kind":"Image","metadata":{"name":"queue-proxy","namespace":"knative-serving"},
          "spec":{"image":"x"}})",
       ReadyState::kCurrent, "no Ready condition"},
      {"anything else", R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"n"}})",
       ReadyState::kCurrent, "ConfigMap n/c"},
  });
}

TEST_CASE("Pod and PVC", "[readiness]") {
  CheckRows({
      {"pod pending",
       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},"status":{"phase":"Pending"}})",
       ReadyState::kInProgress, "phase Pending"},
      {"pod ready", R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},
          "status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}})",
       ReadyState::kCurrent, "running and ready"},
      {"pod failed",
       R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"n"},"status":{"phase":"Failed","reason":"Evicted"}})",
       ReadyState::kFailed, "failed (Evicted)"},
      {"pvc bound",
       R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"c","namespace":"n"},"status":{"phase":"Bound"}})",
       ReadyState::kCurrent, "bound"},
  });
}

TEST_CASE("which objects are worth waiting for", "[readiness]") {
  CHECK(HasReadinessRule(
      json::parse(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"}})")));
  CHECK(HasReadinessRule(json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"j"}})")));
  CHECK(HasReadinessRule(json::parse(
      R"({"apiVersion":"networking.internal.knative.dev/v1alpha1","kind":"Certificate","metadata":{"name":"c"}})")));
  CHECK(HasReadinessRule(json::parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"LoadBalancer"}})")));
  CHECK_FALSE(HasReadinessRule(json::parse(
      R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"type":"ClusterIP"}})")));
  CHECK_FALSE(
      HasReadinessRule(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}})")));
  CHECK_FALSE(HasReadinessRule(json::parse(
      R"({"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"r"}})")));
}
