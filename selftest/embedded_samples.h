// The sample apps' static executables (samples/apps/), embedded in ferry at build time so that
// `ferry samples push` works from the single ferry binary on a machine with no network.
#pragma once

#include <span>
#include <string_view>

namespace ferry {

struct EmbeddedSampleApp {
  std::string_view name;    // "helloworld", "autoscale": also the image's repository name
  std::string_view binary;  // the static ELF executable's bytes; lives as long as the process
};

// Every embedded app, in a fixed order (helloworld, autoscale).
std::span<const EmbeddedSampleApp> EmbeddedSampleApps();

// The app called `name`; null when there is none.
const EmbeddedSampleApp* FindEmbeddedSampleApp(std::string_view name);

}  // namespace ferry
