// The places in a Kubernetes object where an image may be named, told apart by the path from the
// object's root. Used by the image finder (rewrite/image_finder.h) to decide how strict to be and
// what to report.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "rewrite/image_finder.h"
#include "rewrite/reference_text.h"

namespace ferry {

// One step of a path: a mapping key, or a sequence index (index >= 0). The key views the parsed
// document, which outlives the path.
struct PathStep {
  std::string_view key;
  int index = -1;
};

enum class ImagePlace {
  kContainerImage,  // containers[i].image (any PodSpec-like path), v1alpha1 container.image
  kCachedImage,     // caching.internal.knative.dev Image: spec.image
  kQueueImage,      // ConfigMap data.queueSidecarImage / data.queue-sidecar-image
  kExample,         // ConfigMap data._example
  kConfigMapValue,  // any other ConfigMap data value
  kEnvValue,        // env[i].value
  kArgument,        // args[i] or command[i]
  kOther,
};

// `path` starts at the object's root; `kind` is the object's kind.
ImagePlace PlaceOf(std::span<const PathStep> path, std::string_view kind);

// What a value found at a place is taken for, when it is a single word; words of multi-line text
// are always kText, "in text" (kOptional, "commented example" in _example blocks).
struct PlaceRule {
  Confidence confidence;
  ReferenceContext context;
  const char* why;  // ImageOccurrence::why
};

// `after_flag`: the value is an args item following a "--flag" item.
PlaceRule RuleFor(ImagePlace place, bool after_flag);

// "spec.template.spec.containers[0].image".
std::string PathString(const std::vector<PathStep>& path);

}  // namespace ferry
