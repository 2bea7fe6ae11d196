// `ferry bundle inspect` and `ferry bundle verify`: what a bundle (or another tool's OCI layout)
// holds, and whether every byte of it is what its digests say.
//
// Inspect reads index.json, ferry/bundle.json and the manifests, and stops as soon as it knows every
// image (in a ferry bundle, before the first layer); it lists each image's attachments
// (signatures, attestations, SBOMs, referrers) too. Verify reads everything: it re-hashes every
// blob against its name and every release file (and ferry's own package) against bundle.json, checks that every manifest and
// blob the images need is there with the size their descriptors give, and lists each mismatch with
// its entry path. An unsafe entry, a truncation or an invalid bundle.json is an error, not a finding.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mirror/bundle_format.h"
#include "mirror/bundle_reader.h"

namespace ferry {

struct BundleSummary {
  std::string where;
  bool ferry_bundle = false;  // has ferry/bundle.json
  int format_version = 0;
  std::string ferry_version, profile;
  std::vector<std::string> platform_filter;  // bundle.json's platformFilter (bundle save --platform)
  std::vector<BundleImage> images;  // in index order; platforms, sizes, attachments from the manifests
  std::vector<BundleFile> files;    // release files and samples (ferry bundles only)
  std::optional<BundlePackage> ferry_package;  // ferry itself (bundle save --include-ferry)
  int blobs = 0;                    // distinct configs and layers
  int64_t bytes = 0;                // manifests plus distinct blobs
};

struct BundleProblem {
  std::string path;  // entry path in the archive
  std::string message;
};

struct BundleVerifyReport {
  BundleSummary summary;
  int entries = 0;
  int64_t bytes_read = 0;
  std::vector<BundleProblem> problems;  // empty when the bundle is intact
};

Result<BundleSummary> InspectBundle(const std::string& path);
Result<BundleVerifyReport> VerifyBundle(const std::string& path);

}  // namespace ferry
