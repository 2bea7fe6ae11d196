// Why a deleted namespace is still there: the pods still in it (with their termination grace
// period and how much of it is left) and, when no pod holds it, the namespace's own conditions
// (NamespaceContentRemaining, NamespaceFinalizersRemaining). Knative's activator asks for 600 s
// of grace, so an uninstall can sit on a terminating namespace for ten minutes; this says so.
// ForceDeletePods is `kubectl delete pod --force --grace-period=0` for the pods found.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "installer/kube_client.h"

namespace ferry::installer {

struct PodHolder {
  std::string name;
  bool terminating = false;  // deletionTimestamp set
  int grace_seconds = 30;    // deletionGracePeriodSeconds, else spec.terminationGracePeriodSeconds
  int seconds_left = -1;     // until deletionTimestamp (the kill); -1 when not terminating
};

struct NamespaceHolders {
  bool exists = false;
  std::vector<PodHolder> pods;
  std::string conditions;  // the namespace's *Remaining / *Failure condition messages that are True
};

// `now` is the local clock's idea of the server's time (for seconds_left).
NamespaceHolders HoldersOf(const nlohmann::json& ns, const nlohmann::json& pods,
                           std::chrono::system_clock::time_point now);

KubeResult<NamespaceHolders> ReadNamespaceHolders(KubeClient& client, const std::string& ns, Deadline deadline);

// "pod activator-x (terminating, grace period 600 s, about 583 s left), ..." (at most 4 named), or the
// conditions when no pod is left; "" when nothing is known.
std::string DescribeHolders(const NamespaceHolders& holders);

// Deletes each pod with gracePeriodSeconds=0: the API object goes at once and the kubelet kills the
// containers without waiting. Then annotates the namespace, which makes the namespace controller
// look again at once instead of after the grace period it expected. Returns how many were deleted.
KubeResult<int> ForceDeletePods(KubeClient& client, const std::string& ns, const NamespaceHolders& holders,
                                Deadline deadline);

}  // namespace ferry::installer
