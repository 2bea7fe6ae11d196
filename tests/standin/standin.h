// The stand-in image: one small static program that takes the place of every Knative, Kourier and
// Istio image of a release on the real test node, so the release really comes up there without
// any Knative code. What it does comes from /standin.json, written into each image by the test
// (tests/lib/ferrytest/standin.py) from the release's own container specs:
//
//   {"mode": "serve" | "drain" | "job" | "crash",
//    "ports": [8012, 8443, 18000],             every port the containers name or probe
//    "tls": {"cert": PEM, "key": PEM, "ca": PEM},
//    "webhooks": [{"namespace": "knative-serving", "service": "webhook"}]}
//
// serve: listens on every port; each connection is sniffed: TLS (first byte 0x16) is served with
// the certificate, an HTTP/2 preface gets a gRPC health answer (SERVING), anything else HTTP/1.1
// `200 ok`, except a POST carrying an AdmissionReview, which is allowed. For each entry of
// `webhooks` it keeps the CA in the caBundle of every webhook configuration (and CRD conversion
// webhook) that points at that Service, through the API server (the pod's ServiceAccount), as
// Knative's webhook does. SIGTERM ends it at once with status 0; in mode drain it is ignored (the
// pod then holds its namespace for its whole termination grace period, as a draining activator).
// job: prints one line and exits 0 (post-install Jobs). crash: prints a few lines, exits 1.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <vector>

namespace standin {

struct Tls {
  std::string cert, key, ca;  // PEM
};

struct WebhookService {
  std::string ns, name;
};

struct Config {
  std::string mode = "serve";
  std::vector<int> ports;
  Tls tls;
  std::vector<WebhookService> webhooks;
};

// Serves every port of `config` until the process is signalled. Returns when a port cannot be
// bound (after saying so on stderr).
int ServePorts(const Config& config);

// Keeps the caBundle of every webhook pointing at config.webhooks in step with config.tls.ca,
// forever (every couple of seconds, as a controller resyncs). Logs each change.
void KeepCaBundles(const Config& config);

// Answers an AdmissionReview request body: allowed, the same uid.
std::string AdmissionAnswer(const std::string& body);

void Log(const std::string& line);

}  // namespace standin
