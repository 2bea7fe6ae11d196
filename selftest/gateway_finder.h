// FindGateway: where the self-test sends its requests. Knative is reached through its ingress
// gateway with the Service's host name in the Host header, so the self-test needs one address.
//
// In order: the LoadBalancer ingress of Kourier (kourier-system/kourier) or Istio
// (istio-system/istio-ingressgateway) on port 80; else that Service's NodePort for port 80 on a
// node's address (ExternalIP, then InternalIP); else the --gateway the user gave. An explicit
// --gateway wins over discovery.
#pragma once

#include <string>

#include "common/status.h"
#include "installer/kube_client.h"
#include "selftest/selftest_report.h"

namespace ferry::selftest {

// `override_address` is --gateway (HOST:PORT, may be empty). NotFound, saying what was tried,
// when nothing gives an address.
Result<ReportGateway> FindGateway(installer::KubeClient& client, const std::string& override_address);

}  // namespace ferry::selftest
