// The embedded sample apps: symbols defined by ferry_sample_binaries (samples/apps/CMakeLists.txt).
#include "selftest/embedded_samples.h"

#include <array>

extern "C" {
extern const char ferry_sample_helloworld_begin[], ferry_sample_helloworld_end[];
extern const char ferry_sample_autoscale_begin[], ferry_sample_autoscale_end[];
}

namespace ferry {
namespace {

std::string_view Bytes(const char* begin, const char* end) {
  return {begin, static_cast<size_t>(end - begin)};
}

}  // namespace

std::span<const EmbeddedSampleApp> EmbeddedSampleApps() {
  static const std::array<EmbeddedSampleApp, 2> apps = {{
      {"helloworld", Bytes(ferry_sample_helloworld_begin, ferry_sample_helloworld_end)},
      {"autoscale", Bytes(ferry_sample_autoscale_begin, ferry_sample_autoscale_end)},
  }};
  return apps;
}

const EmbeddedSampleApp* FindEmbeddedSampleApp(std::string_view name) {
  for (const EmbeddedSampleApp& app : EmbeddedSampleApps())
    if (app.name == name) return &app;
  return nullptr;
}

}  // namespace ferry
