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
  // A whole scalar value, or a flag's value, anywhere else. Must parse, have no "://", and either
  //  - carry a digest, or
  //  - have a path ('/') and a tag, or
  //  - name a well-known registry host explicitly (gcr.io/cloud-builders/gcs-fetcher), or
  //  - be a one-word Docker Hub name with a tag ("alpine:3.6"), unless the word has a '.' or the
  //    tag is all digits (host:port, "10:30") or the word is a digest algorithm ("sha256:...").
  kValue,
  // A word inside longer text: as kValue, without the one-word case.
  kText,
};

// The reference `text` spells, if `context` accepts it as one.
std::optional<ImageReference> ReferenceIn(std::string_view text, ReferenceContext context);

// gcr.io and *.gcr.io, docker.io, quay.io, ghcr.io, registry.k8s.io, docker.elastic.co, *.pkg.dev,
// mcr.microsoft.com, public.ecr.aws.
bool IsWellKnownRegistry(std::string_view host);

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
