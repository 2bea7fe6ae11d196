// Release profiles: which upstream release files make one Knative install, in install order, each
// with its URL and sha256, plus the networking layer and the samples that go with the release.
//
// A profile is a small YAML file (manifests/*.yaml are built in; a user may pass their own path):
//
//   name: knative-1.23-kourier                    # [a-z0-9][a-z0-9.-]*; a built-in's file name
//   description: Knative Serving v1.23.0 on Kourier   # optional, one line
//   networking:
//     layer: kourier                              # istio, kourier, ...
//     preinstalled: false                         # true: the layer must already run on the cluster
//   serviceApiVersion: serving.knative.dev/v1     # of the samples' Knative Service (v1alpha1 for 0.6)
//   samples: [helloworld, autoscale]              # optional
//   files:                                        # in install order, at least one
//     - name: knative-serving-v1.23.0-serving-crds.yaml  # local file name, unique, no '/'
//       url: https://raw.githubusercontent.com/...       # http or https
//       sha256: b172ff49...                              # 64 hex; "" or absent: not known in advance
//
// Unknown keys are errors (a typo must not silently drop a checksum). Errors name the profile (its
// path, or "built-in profile NAME"), the line and the field: "x.yaml:12: files[1].sha256: ...".
// A file whose sha256 is not known in advance gets it recorded at first download (see
// rewrite/manifest_fetch.h); ToJson() of a profile with every sum filled in is that record, and is
// itself a loadable profile (YAML reads JSON).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ferry {

struct ProfileFile {
  std::string name;    // "knative-serving-v1.23.0-serving-core.yaml"
  std::string url;     // where upstream publishes it
  std::string sha256;  // 64 lowercase hex digits; empty when not known in advance

  bool sha256_known() const { return !sha256.empty(); }
};

struct ReleaseProfile {
  std::string name;
  std::string description;
  std::string networking_layer;             // "istio", "kourier"
  bool networking_preinstalled = false;     // the files do not install the layer; it must already exist
  std::string service_api_version;          // "serving.knative.dev/v1"
  std::vector<std::string> samples;         // "helloworld", "autoscale"
  std::vector<ProfileFile> files;           // install order
  std::string origin;  // where it was read: "built-in profile NAME" or the path; for messages

  // The file entry called `name`, or nullptr.
  const ProfileFile* File(std::string_view name) const;

  // The profile as a JSON document in the profile schema (stable key order, two-space indent).
  std::string ToJson() const;
};

// Parses and validates profile text. `origin` names it in errors (a path, or "built-in profile X").
Result<ReleaseProfile> ParseReleaseProfile(std::string_view text, const std::string& origin);

// Reads a profile file; errors name `path`.
Result<ReleaseProfile> ReadReleaseProfile(const std::string& path);

// Names of the built-in profiles, sorted.
std::vector<std::string> BuiltinProfileNames();

// A built-in profile by name; an unknown name is kNotFound: "unknown profile 'x'; known: a, b, ...".
Result<ReleaseProfile> BuiltinReleaseProfile(std::string_view name);

// What `--profile` takes: a built-in name, or a path. An argument with a '/' or ending in .yaml,
// .yml or .json is a path; anything else must be a built-in name (write ./name for a file named so).
Result<ReleaseProfile> LoadReleaseProfile(const std::string& name_or_path);

// True for 64 lowercase hex digits.
bool IsSha256Hex(std::string_view text);

}  // namespace ferry
