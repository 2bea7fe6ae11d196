// The sample Knative Services built into ferry (samples/*.yaml, embedded by samples/CMakeLists.txt):
// what a release profile's `samples: [helloworld, autoscale]` names. Each sample exists in the
// serving.knative.dev/v1 shape (samples/NAME.yaml) and in older shapes (samples/VERSION/NAME.yaml,
// e.g. v1alpha1 with spec.template for Knative 0.6), so a profile gets the shape its
// `serviceApiVersion` says.
#pragma once

#include <span>
#include <string>
#include <string_view>

namespace ferry {

struct EmbeddedSample {
  std::string_view path;  // relative to samples/, without .yaml: "helloworld", "v1alpha1/helloworld"
  std::string_view text;  // the file's bytes, exactly
};

// Every built-in sample file, sorted by path.
std::span<const EmbeddedSample> EmbeddedSamples();

// The sample `name` in the shape of `service_api_version` ("serving.knative.dev/v1alpha1"); null
// when ferry has no such sample or not in that shape.
const EmbeddedSample* FindSample(std::string_view name, std::string_view service_api_version);

// The names of the samples (of any shape), comma-separated, for messages.
std::string SampleNames();

}  // namespace ferry
