// Path rules of image_places.h.
#include "rewrite/image_places.h"

#include <cstddef>

namespace ferry {
namespace {

bool IsContainerList(std::string_view key) {
  return key == "containers" || key == "initContainers" || key == "ephemeralContainers" ||
         key == "steps" || key == "sidecars";  // Knative Build / Tekton steps are containers
}

// Keys whose value is, or whose values are, names of other objects, labels or selectors.
bool NamesObjects(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "roleRef",        "subjects",        "ownerReferences", "selector",     "matchLabels",
      "matchExpressions", "nodeSelector",  "labels",          "finalizers",   "imagePullSecrets",
      "secretRef",      "secretKeyRef",    "configMapRef",    "configMapKeyRef", "secret",
      "configMap",      "projected",       "persistentVolumeClaim", "serviceAccountName",
      "serviceAccount", "secretName",      "claimName",       "name",         "namespace",
      "generateName",   "kind",            "apiVersion",      "uid",          "resourceVersion",
      "priorityClassName", "storageClassName", "schedulerName", "runtimeClassName",
      "volumeName",     "nodeName",        "mountPath",       "subPath",      "path"};
  for (std::string_view k : kKeys) {
    if (key == k) return true;
  }
  return false;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool NamesImage(std::string_view key) {
  // The last word of a name in any spelling: "image", "x-image", "x_image", "x.image", "xImage",
  // "X_IMAGE", "sidecar.istio.io/proxyImage".
  if (key == "image" || key == "IMAGE" || key == "Image") return true;
  for (std::string_view word : {"image", "IMAGE"}) {
    if (!EndsWith(key, word) || key.size() == word.size()) continue;
    char before = key[key.size() - word.size() - 1];
    if (before == '-' || before == '_' || before == '.' || before == '/') return true;
  }
  return EndsWith(key, "Image") && key.size() > 5 && key[key.size() - 6] >= 'a' &&
         key[key.size() - 6] <= 'z';
}

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
  if (n >= 2 && last.index < 0 && key_at(1) == "annotations") return ImagePlace::kAnnotation;
  for (const PathStep& step : path) {
    if (step.index < 0 && NamesObjects(step.key)) return ImagePlace::kNamesObject;
  }
  return ImagePlace::kOther;
}

PlaceRule RuleFor(ImagePlace place, std::string_view key, bool after_flag) {
  constexpr auto kCertain = Confidence::kCertain;
  constexpr auto kLikely = Confidence::kLikely;
  constexpr auto kField = ReferenceContext::kImageField;
  // Outside image fields, a key that names an image is evidence of its own.
  const ReferenceContext named = NamesImage(key) ? ReferenceContext::kNamedImage : ReferenceContext::kValue;
  switch (place) {
    case ImagePlace::kContainerImage:
      return {false, kField, kCertain, "container image"};
    case ImagePlace::kCachedImage:
      return {false, kField, kCertain, "cached image"};
    case ImagePlace::kQueueImage:
      return {false, kField, kCertain, "queue sidecar image"};
    case ImagePlace::kExample:
      return {false, ReferenceContext::kValue, Confidence::kOptional, "commented example"};
    case ImagePlace::kConfigMapValue:
      return {false, named, kLikely, "ConfigMap value"};
    case ImagePlace::kEnvValue:
      return {false, named, kLikely, "env value"};
    case ImagePlace::kArgument:
      return {false, named, kLikely, after_flag ? "flag argument" : "argument"};
    case ImagePlace::kAnnotation:
      return {named != ReferenceContext::kNamedImage, named, kLikely, "annotation"};
    case ImagePlace::kNamesObject:
      return {true, ReferenceContext::kValue, kLikely, "names an object"};
    case ImagePlace::kOther:
      break;
  }
  return {false, named, kLikely, "value"};
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
