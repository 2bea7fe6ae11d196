// Whether an applied object is ready, computed from the object alone (as read back from the
// cluster), following kstatus's Compute (cli-utils pkg/kstatus/status) with stricter rules where
// kstatus would call an object ready too early.
//
// Generic rules first: metadata.deletionTimestamp -> Terminating; status.observedGeneration set
// and different from metadata.generation -> InProgress; condition Reconciling=True -> InProgress;
// Stalled=True -> Failed. Then per kind:
//  Deployment   Failed on ProgressDeadlineExceeded; Current when status replicas, updated, ready
//               and available all reach spec.replicas (default 1), no old replicas remain,
//               Progressing=True/NewReplicaSetAvailable and Available=True.
//  StatefulSet  Current with updateStrategy OnDelete; else replicas, ready, current (or updated
//               above a partition) reach spec.replicas and currentRevision == updateRevision.
//  DaemonSet    needs status.observedGeneration; current, updated, available and ready reach
//               desiredNumberScheduled.
//  Job          Current only when Complete=True (stricter: kstatus accepts a started Job);
//               Failed when Failed=True.
//  CRD          Failed when NamesAccepted=False or Established=False (not "Installing");
//               Current when Established=True.
//  APIService   Current only when Available=True (kstatus has no rule and says Current).
//  Service      type LoadBalancer: Current only when status.loadBalancer.ingress is non-empty
//               (kstatus only checks spec.clusterIP), unless ReadinessOptions says not to wait
//               for it: then Current and `waived`; other types are Current.
//  Pod          Current when Succeeded, or Running with Ready=True; Failed when Failed.
//  PVC          Current when Bound.
//  Knative objects (API group *.knative.dev) and any other object with a Ready condition:
//               Ready=True -> Current; False or Unknown -> InProgress, the message carrying the
//               condition's reason and message. Without a Ready condition: Current (an object
//               nothing reconciles, like the caching Image, never reports one).
//  anything else: Current.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ferry::installer {

enum class ReadyState { kCurrent, kInProgress, kFailed, kTerminating };

// "Current", "InProgress", "Failed", "Terminating" (kstatus's spelling).
const char* ReadyStateName(ReadyState state);

struct Readiness {
  ReadyState state = ReadyState::kInProgress;
  // Starts with "Kind namespace/name: " and says what is still awaited or what failed:
  // "Deployment knative-serving/webhook: 0 of 1 replicas available".
  std::string message;
  // Current only because ReadinessOptions skipped the wait (the message says what is missing).
  bool waived = false;
};

// What the caller chose not to wait for.
struct ReadinessOptions {
  // false: a LoadBalancer Service without an address is Current (waived). Clusters with no
  // load-balancer controller (kind, bare metal, many private clusters) never give one; users
  // there reach the gateway through its NodePort.
  bool wait_for_load_balancer = true;
};

Readiness ReadinessOf(const nlohmann::json& object, const ReadinessOptions& options = {});

// True for the objects worth waiting for after applying (those with a rule above, and Knative
// objects); ConfigMaps, RBAC and the like are ready as soon as they are stored.
bool HasReadinessRule(const nlohmann::json& object);

}  // namespace ferry::installer
