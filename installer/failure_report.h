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

// The findings for one pod, from the pod and the events about it (core/v1 Events). `logs` gives
// the last log lines of a container (for CrashLoopBackOff); it may return "" when unknown.
std::vector<std::string> DiagnosePod(const nlohmann::json& pod, const std::vector<nlohmann::json>& events,
                                     const std::function<std::string(const std::string& container)>& logs);

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

}  // namespace ferry::installer
