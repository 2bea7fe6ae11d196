// The places in a Kubernetes object where an image may be named, told apart by the path from the
// object's root, and what a value must look like at each place to count as an image. Used by the
// image finder (rewrite/image_finder.h). Evidence is positive only: a place says an image may be
// there, and the value must then have the shape the place asks for.
//
// | place (path from the object's root)                         | what counts              | certainty |
// |-------------------------------------------------------------|--------------------------|-----------|
// | containers / initContainers / ephemeralContainers / steps / | any reference            | certain   |
// |   sidecars [i].image, in any PodSpec-like path; v1alpha1    |                          |           |
// |   Knative `container.image`                                 |                          |           |
// | Knative caching `Image`: spec.image                         | any reference            | certain   |
// | ConfigMap data.queueSidecarImage / data.queue-sidecar-image | any reference            | certain   |
// | a key that names an image: env value of a variable named    | kNamedImage: a path, tag | likely    |
// |   *_IMAGE / *Image, ConfigMap data key or annotation key    |   or digest              |           |
// |   ending in "image"/"Image", a "-foo-image" flag's value,   |                          |           |
// |   any other key spelled `image` / `*-image` / `*Image`      |                          |           |
// | ConfigMap data._example (Knative's commented defaults)      | words: kValue            | optional  |
// | other ConfigMap data values, env values, args, any other    | kValue: digest, or       | likely    |
// |   scalar; every word of multi-line text                     |   registry host + tag    |           |
// | fields that name other objects or label them: roleRef,      | never                    |           |
// |   subjects, ownerReferences, selectors, labels,             |                          |           |
// |   imagePullSecrets, secret / ConfigMap references, volumes' |                          |           |
// |   secret and configMap, keys name, namespace, generateName, |                          |           |
// |   kind, apiVersion, serviceAccountName, secretName, ...;    |                          |           |
// |   annotation values unless the key names an image           |                          |           |
//
// The reference shapes (kImageField, kNamedImage, kValue) are defined in rewrite/reference_text.h.
// A value with template markers ("{{", "}}", "${") is never a reference to rewrite; the finder
// reports it as templated where the place would otherwise take it (image_finder.h).
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
  kAnnotation,      // a value under an `annotations` mapping
  kNamesObject,     // a field that names or labels another object: never an image
  kOther,
};

// `path` starts at the object's root; `kind` is the object's kind.
ImagePlace PlaceOf(std::span<const PathStep> path, std::string_view kind);

// True for a key, variable or flag name that says its value is an image: "image", "IMAGE",
// "queue-sidecar-image", "BROKER_INGRESS_IMAGE", "proxyImage", "-creds-image",
// "sidecar.istio.io/proxyImage"; not "imagePullPolicy", "IMAGE_PULL_SECRETS" or "images".
bool NamesImage(std::string_view key);

// What a value found at a place is taken for, when it is a single word; words of multi-line text
// are always kValue, "in text" (kOptional, "commented example" in _example blocks).
struct PlaceRule {
  bool never = false;  // kNamesObject, or an annotation whose key does not name an image
  ReferenceContext context = ReferenceContext::kValue;
  Confidence confidence = Confidence::kLikely;
  const char* why = "value";  // ImageOccurrence::why
};

// `key` is the name that says what the value is: the last mapping key, an env item's variable
// name, a flag ("--image" for the item after it, or the "-foo-image" of "-foo-image=REF").
PlaceRule RuleFor(ImagePlace place, std::string_view key, bool after_flag);

// "spec.template.spec.containers[0].image".
std::string PathString(const std::vector<PathStep>& path);

}  // namespace ferry
