// Deploying one of the built-in sample Knative Services for the self-test: pick the shape the
// cluster serves, point it at the chosen image and namespace, apply it, wait until it is Ready,
// and read back where it answers (host name) and which revision serves it.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <string_view>

#include "common/status.h"
#include "installer/kube_client.h"

namespace ferry::selftest {

// "serving.knative.dev/v1" when the cluster serves it, else "serving.knative.dev/v1alpha1" (Knative
// 0.6); NotFound when it serves neither (Knative Serving is not installed).
Result<std::string> ServedServiceApiVersion(installer::KubeClient& client);

// The sample `name` ("helloworld", "autoscale") in the shape of `api_version`, in namespace `ns`,
// with its container's image replaced by `image` unless that is empty.
Result<nlohmann::json> SampleService(std::string_view name, std::string_view api_version, const std::string& ns,
                                     const std::string& image);

struct DeployedSample {
  std::string name;      // the Knative Service: "helloworld-go"
  std::string host;      // the host name it answers to (status.url, or status.domain on 0.6)
  std::string revision;  // status.latestReadyRevisionName
};

struct DeployTimeouts {
  std::chrono::milliseconds ready{300000};  // until Ready=True
  // Until Knative's controller has given the Service any status at all; it does so within a
  // second when it runs. Past this, Knative Serving is not running (FailedPrecondition).
  std::chrono::milliseconds reconcile{20000};
  std::chrono::milliseconds poll_interval{200};
};

// Applies `service` and polls it until Ready=True, Failed, or a timeout. The error says what the
// Service's Ready condition said last, or (FailedPrecondition) that nothing reconciles it.
Result<DeployedSample> DeploySample(installer::KubeClient& client, const nlohmann::json& service,
                                    const DeployTimeouts& timeouts);

// "knative-serving/controller-5d9f (Running, ready), ..." for the pods of Knative Serving's
// controller (label app=controller in knative-serving), or a sentence saying there are none.
std::string KnativeControllerPods(installer::KubeClient& client);

// The container image and the TARGET variable of a sample Service object ("" when absent).
std::string SampleImage(const nlohmann::json& service);
std::string SampleTarget(const nlohmann::json& service);

}  // namespace ferry::selftest
