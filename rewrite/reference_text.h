// Which strings in a manifest count as image references. The answer depends on where the string
// sits: a container's `image` field is an image whatever it says, while a word in a ConfigMap's
// free text is one only if it could hardly be anything else. This is what keeps Go import paths
// (github.com/knative/serving/cmd/controller), URLs, ko:// paths, versions ("v0.6.0"), label
// values and host:port addresses ("zipkin.istio-system:9411") out of the image list.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "mirror/image_reference.h"

namespace ferry {

enum class ReferenceContext {
  // A field that holds an image (containers[].image, caching Image spec.image, Knative's
  // queue-sidecar-image): anything ImageReference::Parse accepts, except "://" URLs.
  kImageField,
  // A value whose key names an image (an env variable FOO_IMAGE, a ConfigMap key or an annotation
  // ending in "image"/"Image", a "-foo-image" flag): must parse, have no "://", and have a path
  // ('/'), a digest, or a tag; a one-word "name:tag" only when it is not a host:port ('.' in the
  // word or an all-digit tag) and not a digest alone ("sha256:...").
  kNamedImage,
  // Any other value, and every word of free text: strong evidence only. Must parse, have no
  // "://", and either
  //  - carry a digest ("name@sha256:..."), or
  //  - start with an explicit registry host (a '.' or a port, or "localhost", before the first
  //    '/') and have a tag. Without a tag, "docker.io/istio" (Istio's hub) is a prefix and
  //    "gcr.io/cloud-builders/gcs-fetcher" counts only where the key says image.
  // So "system:auth-delegator", "default:info", "alpine:3.6", "prom/prometheus:v2" and
  // "zipkin.istio-system:9411" are not images here, nor are Go import paths
  // (github.com/knative/serving/cmd/controller).
  kValue,
};

// The reference `text` spells, if `context` accepts it as one.
std::optional<ImageReference> ReferenceIn(std::string_view text, ReferenceContext context);

// True for the bytes a reference is made of: [A-Za-z0-9._/:@-].
bool IsReferenceChar(char c);

// A candidate word of free text: a maximal run of reference bytes, without trailing '.' or ':'
// (end of a sentence, "image:"). `offset` is into the text that was split.
struct TextToken {
  size_t offset = 0;
  std::string_view text;
};

// The words of `text` that could be references, in order. The views point into `text`.
std::vector<TextToken> ReferenceTokens(std::string_view text);

}  // namespace ferry
