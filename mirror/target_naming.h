// Target naming: where each source image lands under a target prefix (`--to REGISTRY/NAMESPACE`).
// Shared by `ferry mirror` (where to push) and `ferry rewrite` (what to write into manifests), so
// it is pure: no I/O, and the same source set gives the same targets in any order.
//
// Strategies:
//  - preserve: <ns>/<source repository>; the source registry is dropped.
//  - flatten:  <ns>/<one component>, for registries that allow only namespace/repository
//              (Alibaba ACR Personal). The source path components joined with '-', without
//              uninformative parts (gcr.io/knative-releases/knative.dev/serving/cmd/queue ->
//              serving-queue, docker.io/library/alpine -> alpine). Sources whose names would be
//              equal get, together, the full path, then the registry ("docker.io-istio-proxyv2"
//              next to "quay.io-istio-proxyv2"), then a hash, until no name is shared. Names
//              over max_repository_length keep their last components plus an 8-hex hash.
//  - template: <ns>/<pattern with placeholders filled in>.
//
// Because of that disambiguation a flatten name depends on the whole source set (never on its
// order). `mirror` and `rewrite` must plan the same set, or `rewrite` must read the lock file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mirror/image_reference.h"

namespace ferry {

enum class NamingStrategy { kPreserve, kFlatten, kTemplate };

// "preserve" | "flatten" | "template"; InvalidArgument naming the input otherwise.
Result<NamingStrategy> ParseNamingStrategy(std::string_view text);

// Where mirrored images go: a registry and a namespace path under it (empty or multi-level).
struct TargetPrefix {
  std::string registry;  // "registry.cn-hangzhou.aliyuncs.com", "harbor.local:8443", "docker.io"
  std::string ns;        // "knative-mirror", "proj/sub", or empty

  // "REGISTRY[/NAMESPACE]". The first component must be a registry host (contain '.' or ':', or
  // be "localhost"): a bare "myuser" is rejected rather than guessed to mean Docker Hub. A
  // trailing '/' is tolerated. "index.docker.io" becomes "docker.io".
  static Result<TargetPrefix> Parse(std::string_view text);

  std::string String() const;  // registry[/ns]
  bool operator==(const TargetPrefix&) const = default;
};

// Default limit on a flattened name (the part under the namespace): ACR Enterprise documents
// repository names of 2-64 characters (alicloud_cr_ee_repo); ACR Personal accepts at least that.
inline constexpr std::size_t kDefaultMaxFlatLength = 64;

struct NamingOptions {
  NamingStrategy strategy = NamingStrategy::kPreserve;
  // Template strategy only. Placeholders: {registry} (legalised: "127.0.0.1:5000" ->
  // "127.0.0.1-5000"), {repository} (full source path), {basename} (last component), {parent}
  // (path without the basename, may be empty), {flat} (the flatten name), {hash} (8 hex of
  // sha256 of the source name). Runs of '/' left by empty placeholders are collapsed.
  std::string pattern;
  // Longest flatten name ({flat} too); longer names keep their last components and get a hash.
  // At least 10.
  std::size_t max_repository_length = kDefaultMaxFlatLength;
};

// Maps every source to its target: result[i] is the target of sources[i]. A target keeps the
// source tag and digest; a digest-only source gets the tag "<algorithm>-<first 16 hex>" so
// registries that garbage-collect untagged manifests keep it; a source with neither gets
// "latest". Fails, before anything is transferred, with InvalidArgument when the options are
// bad, a target repository is invalid (naming the source), or sources collide: two sources with
// different name or tag (or contradicting digests) landing on one repository:tag. All colliding
// groups are listed. The same source listed twice is not a collision.
Result<std::vector<ImageReference>> PlanTargets(const std::vector<ImageReference>& sources,
                                                const TargetPrefix& to,
                                                const NamingOptions& options);

}  // namespace ferry
