// The pods behind a Knative Service, as the self-test watches them: how many a revision has (and
// how many of them are ready), and for a failed check what its pods are waiting for.
#pragma once

#include <string>

#include "installer/kube_client.h"

namespace ferry::selftest {

struct PodCount {
  int present = 0;  // pods of the revision not being deleted
  int ready = 0;    // of those, Running with Ready=True
};

// Lists the pods labelled serving.knative.dev/revision=<revision> in `ns`.
installer::KubeResult<PodCount> CountRevisionPods(installer::KubeClient& client, const std::string& ns,
                                                  const std::string& revision);

// What the pods of Knative Service `service` are waiting for, one finding per "; " (installer's
// DiagnosePod: ImagePullBackOff with the image, CrashLoopBackOff, Pending); empty when nothing is
// wrong with them or they cannot be read.
std::string DiagnoseServicePods(installer::KubeClient& client, const std::string& ns, const std::string& service);

}  // namespace ferry::selftest
