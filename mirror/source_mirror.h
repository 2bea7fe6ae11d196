// Source mirrors (`--source-mirror gcr.io=HOST[/PREFIX]`, repeatable): fetch a source registry's
// images from another endpoint, such as a pull-through cache or, in tests, a local registry,
// while naming, planning and recording the original reference. Only the fetch goes elsewhere, so
// target names and the lock file are the same with or without a mirror.
//
// Plain value types; thread-compatible.
#pragma once

#include <map>
#include <string>
#include <string_view>

#include "common/status.h"
#include "mirror/image_reference.h"

namespace ferry {

struct SourceMirror {
  std::string registry;  // the original registry, normalised: "gcr.io", "docker.io"
  std::string host;      // where to fetch from: "127.0.0.1:5000", "mirror.example.com"
  std::string prefix;    // repository prefix on `host`, may be empty or multi-level: "gcr"

  bool operator==(const SourceMirror&) const = default;
};

// "REGISTRY=HOST[/PREFIX]", e.g. "gcr.io=127.0.0.1:5000/gcr". REGISTRY is normalised like an
// image reference ("index.docker.io" -> "docker.io"); HOST must be a registry host. Errors are
// InvalidArgument naming the spec.
Result<SourceMirror> ParseSourceMirror(std::string_view spec);

class SourceMirrors {
 public:
  // Registers a mirror. Adding the same mirror twice is fine; a second, different mirror for one
  // registry is InvalidArgument, since which one wins would be a guess.
  Status Add(SourceMirror mirror);

  // The reference to fetch `original` from: its registry replaced by the mirror host and its
  // repository prefixed; tag and digest kept. `original` itself when no mirror covers its
  // registry.
  ImageReference Resolve(const ImageReference& original) const;

  bool empty() const { return mirrors_.empty(); }

 private:
  std::map<std::string, SourceMirror> mirrors_;  // by original registry
};

}  // namespace ferry
