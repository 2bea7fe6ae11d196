// Path rules of image_places.h.
#include "rewrite/image_places.h"

#include <cstddef>

namespace ferry {
namespace {

bool IsContainerList(std::string_view key) {
  return key == "containers" || key == "initContainers" || key == "ephemeralContainers";
}

}  // namespace

ImagePlace PlaceOf(std::span<const PathStep> path, std::string_view kind) {
  size_t n = path.size();
  if (n == 0) return ImagePlace::kOther;
  const PathStep& last = path[n - 1];
  auto key_at = [&](size_t from_end) -> std::string_view { return path[n - 1 - from_end].key; };
  auto index_at = [&](size_t from_end) { return path[n - 1 - from_end].index; };

  if (last.index < 0 && last.key == "image") {
    // Generic on purpose: any list of containers is a PodSpec, whatever the workload kind.
    if (n >= 3 && index_at(1) >= 0 && IsContainerList(key_at(2)))
      return ImagePlace::kContainerImage;
    if (n >= 2 && key_at(1) == "container") return ImagePlace::kContainerImage;
    if (kind == "Image" && n == 2 && path[0].key == "spec") return ImagePlace::kCachedImage;
  }
  if (kind == "ConfigMap" && n == 2 && path[0].key == "data") {
    if (last.key == "queueSidecarImage" || last.key == "queue-sidecar-image") {
      return ImagePlace::kQueueImage;
    }
    if (last.key == "_example") return ImagePlace::kExample;
    return ImagePlace::kConfigMapValue;
  }
  if (n >= 3 && last.key == "value" && index_at(1) >= 0 && key_at(2) == "env") {
    return ImagePlace::kEnvValue;
  }
  if (last.index >= 0 && n >= 2 && (key_at(1) == "args" || key_at(1) == "command")) {
    return ImagePlace::kArgument;
  }
  return ImagePlace::kOther;
}

PlaceRule RuleFor(ImagePlace place, bool after_flag) {
  constexpr auto kCertain = Confidence::kCertain;
  constexpr auto kLikely = Confidence::kLikely;
  constexpr auto kField = ReferenceContext::kImageField;
  constexpr auto kValue = ReferenceContext::kValue;
  switch (place) {
    case ImagePlace::kContainerImage:
      return {kCertain, kField, "container image"};
    case ImagePlace::kCachedImage:
      return {kCertain, kField, "cached image"};
    case ImagePlace::kQueueImage:
      return {kCertain, kField, "queue sidecar image"};
    case ImagePlace::kExample:
      return {Confidence::kOptional, kValue, "commented example"};
    case ImagePlace::kConfigMapValue:
      return {kLikely, kValue, "ConfigMap value"};
    case ImagePlace::kEnvValue:
      return {kLikely, kValue, "env value"};
    case ImagePlace::kArgument:
      return {kLikely, kValue, after_flag ? "flag argument" : "argument"};
    case ImagePlace::kOther:
      break;
  }
  return {kLikely, kValue, "value"};
}

std::string PathString(const std::vector<PathStep>& path) {
  std::string out;
  for (const PathStep& step : path) {
    if (step.index >= 0) {
      out += '[' + std::to_string(step.index) + ']';
    } else {
      if (!out.empty()) out += '.';
      out.append(step.key);
    }
  }
  return out;
}

}  // namespace ferry
