// ImageReference: a container image name as users and manifests write it ("alpine:3.6",
// "gcr.io/x/y@sha256:..."), parsed and normalised the way Docker does, so that two spellings of
// the same image compare equal and every other module can ask "which registry, which repository,
// which manifest".
//
// The grammar and the normalisation follow github.com/distribution/reference
// (ParseNormalizedNamed): the first path component is a registry only if it contains '.' or
// ':', is "localhost", or has an uppercase letter; otherwise the registry is docker.io, and
// one-component Docker Hub names get the "library/" prefix. "index.docker.io" becomes "docker.io".
//
// Deliberate differences from upstream, all rejections of inputs upstream would accept:
//  - a first component that looks like a registry but is not a valid host ("my_host.local/app")
//    is an error here; upstream silently returns a reference with no registry at all;
//  - digests must use a known algorithm with the exact hex length: sha256 (64), sha384 (96),
//    sha512 (128), lowercase hex (go-digest's rule, which upstream applies too when the hash is
//    registered).
// A leading "docker://" (the containers/image transport prefix, as skopeo writes it) is accepted
// and stripped. A missing tag is kept missing; ManifestIdentifier() supplies "latest".
//
// Plain value type; thread-compatible.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

// Docker Hub's canonical registry name; index.docker.io and registry-1.docker.io are its aliases.
inline constexpr std::string_view kDockerHub = "docker.io";

struct ImageReference {
  std::string registry;    // normalised host[:port]: "docker.io", "gcr.io", "localhost:5000", "[::1]:5000"
  std::string repository;  // "library/alpine", "knative-releases/github.com/knative/serving/cmd/queue"
  std::string tag;         // empty when absent
  std::string digest;      // "sha256:<hex>", empty when absent

  // Parses and normalises `text`. On failure the InvalidArgument message names the input and says
  // which part is wrong, e.g. `invalid image reference "docker/Docker": repository name must be
  // lowercase`.
  static Result<ImageReference> Parse(std::string_view text);

  std::string Name() const;      // registry/repository
  std::string String() const;    // registry/repository[:tag][@digest]; Parse(String()) == *this
  // Docker's short form: "alpine:3.6", "user/app", "gcr.io/x/y:1". Unlike upstream it keeps
  // "docker.io/" where dropping it would change the meaning ("docker.io/foo.bar/app"), so
  // Parse(Familiar()) == *this always holds.
  std::string Familiar() const;

  // What to ask the registry for: the digest if present, else the tag, else "latest".
  std::string ManifestIdentifier() const;

  // The host to talk HTTP to: "registry-1.docker.io" for docker.io, otherwise `registry`.
  std::string ApiHost() const;

  // True when the registry host is loopback: IsLoopbackHost (common/http_client.h), the one test.
  bool IsLoopback() const;

  bool operator==(const ImageReference&) const = default;
};

// Validates a repository path without registry, tag or digest ("library/alpine"): lowercase
// components separated by '/', at most 255 characters. Returns OK or InvalidArgument.
Status ValidateRepository(std::string_view repository);

// True for a tag Parse accepts: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.
bool IsValidTag(std::string_view tag);

// True for a digest Parse accepts: "sha256:" + 64, "sha384:" + 96 or "sha512:" + 128 lowercase hex.
bool IsValidDigest(std::string_view digest);

}  // namespace ferry
