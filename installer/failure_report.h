// What went wrong when an install timed out: for each workload that is not ready, its pods'
// waiting reasons (ImagePullBackOff with the image and the kubelet's message, CrashLoopBackOff
// with the last log lines, Pending with the scheduler's reason), for a LoadBalancer Service with
// no address the NodePort and the flag that does not wait for one, then recent Warning events in
// the install's namespaces. One line per finding, so a missing mirrored image is one line.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

#include "installer/kube_client.h"
#include "installer/readiness_wait.h"

namespace ferry::installer {

// The last log lines of a container (of its previous run with `previous`); "" when unknown.
using PodLogs = std::function<std::string(const std::string& container, bool previous)>;

// The findings for one pod, from the pod and the events about it (core/v1 Events): a container
// waiting for a reason other than starting (a pull that failed with the kubelet's message, a crash
// loop with its last log lines, a configuration error), one that just exited non-zero, one running
// but not ready (with the last failed probe; without one only when `starting_counts`: while a
// wait goes on, that is most likely a container still starting), or a pod the scheduler could not
// place.
std::vector<std::string> DiagnosePod(const nlohmann::json& pod, const std::vector<nlohmann::json>& events,
                                     const PodLogs& logs, bool starting_counts = true);

// For a LoadBalancer Service without an address: one line saying the cluster may have no
// load-balancer controller, naming --no-wait-load-balancer and the NodePort of its HTTP port
// (port 80, else one named http/http2, else the first). Empty for any other object.
std::vector<std::string> DiagnoseLoadBalancer(const nlohmann::json& service);

// One line per Warning event ("Warning <reason> <Kind> <ns>/<name>: <message>"), newest last, at most
// `limit`, skipping messages already in `seen`.
std::vector<std::string> WarningEventLines(const std::vector<nlohmann::json>& events, size_t limit,
                                           const std::vector<std::string>& seen);

// Reads the pods of every pending workload in `outcome` and the Warning events of `namespaces`,
// and returns the findings. Errors reading are reported as findings, never hidden.
std::vector<std::string> DiagnoseUnready(KubeClient& client, const WaitOutcome& outcome,
                                         const std::vector<std::string>& namespaces, Deadline deadline);

// The problems of the pods of the workloads among `objects` (their live copies in `live`, null
// when absent), one DiagnosePod line each, without the events' warnings: what a wait shows while it
// goes on, so an image missing at the mirror is seen at once, not only at the timeout.
std::vector<std::string> WorkloadPodProblems(KubeClient& client, const std::vector<ManifestObject>& objects,
                                             const std::vector<nlohmann::json>& live, Deadline deadline);

// When applies keep failing because an admission webhook cannot be called (`error` is the apply's
// error text, which names the webhook): the webhook configuration and the Service it calls, an
// empty caBundle, and why that Service's pods are not ready, with DiagnosePod's one-line reasons
// (or that no pod matches). Empty when `error` names no webhook.
std::vector<std::string> DiagnoseWebhook(KubeClient& client, const std::string& error, Deadline deadline);

}  // namespace ferry::installer
