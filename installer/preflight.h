// The checks `ferry install` makes before it touches the cluster, so that an install that cannot
// succeed fails at once with one line per missing thing instead of half-way through:
//  - the cluster answers (GET /version);
//  - the identity may create what the install needs (SelfSubjectAccessReview: a CRD, a
//    ClusterRole, a Deployment);
//  - every kind of the release is served, or defined by a CRD of the release (a 0.6 release on a
//    modern cluster: "extensions/v1beta1 Deployment" is not served; a profile whose networking
//    layer must already run: its CRDs are missing);
//  - every image of the rewritten release exists at the mirror (manifest HEAD with the user's
//    credentials); a mirror that cannot be reached or refuses us is said once, not once per image,
//    and the missing images are one line per cause and place with a count and the first few names,
//    then one line saying how to copy them.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "common/task_pool.h"
#include "installer/install_progress.h"
#include "installer/kube_client.h"
#include "installer/manifest_objects.h"
#include "mirror/image_reference.h"
#include "mirror/registry_client.h"

namespace ferry::installer {

// How the release reached the mirror, for the line that says how to copy what is missing there.
struct MirrorHint {
  std::string ns;       // REGISTRY/NAMESPACE the images were mirrored under (--to, or the lock's); may be empty
  std::string release;  // how the command named the release: "--profile knative-1.23-kourier", "-f DIR"
  std::string naming;   // " --naming flatten" when not the default; empty otherwise
};

struct PreflightOptions {
  std::vector<ImageReference> images;  // the rewritten release's images, distinct
  MirrorHint hint;
  RegistryOptions registry;            // how to reach the mirror (credentials, TLS)
  std::string networking_layer;        // "istio", "kourier"
  bool networking_preinstalled = false;
  Deadline deadline{};
};

struct PreflightReport {
  std::vector<std::string> problems;  // one line each; empty when everything is in place
  std::string advice;                 // what to do about them, when one line says it (images missing)
  bool ok() const { return problems.empty(); }
};

// Each "apiVersion Kind" the objects use that is neither in `served` ("apps/v1 Deployment") nor
// defined by a CRD among the objects, in first-use order, with how many objects use it.
struct UnservedKind {
  std::string api_version, kind;
  int objects = 0;
};
std::vector<UnservedKind> UnservedKinds(const std::vector<ManifestObject>& objects, const std::set<std::string>& served);

// The one-line problems for unserved kinds: kinds of groups a preinstalled networking layer
// provides say that layer is missing; the rest say the cluster does not serve those versions.
std::vector<std::string> UnservedKindProblems(const std::vector<UnservedKind>& unserved, const std::string& layer,
                                              bool layer_preinstalled);

// The outcome of one image's manifest HEAD at the mirror.
struct ImageCheck {
  ImageReference image;
  Status status;         // not OK: the check itself failed (the message names registry and repository)
  bool missing = false;  // the registry answered that it has no manifest for the image
  bool repository_found = false;  // missing, but the repository lists tags: it holds other versions
};

// The problem lines for `checks`, in order of each cause's first image. Missing images are grouped
// by where they should be (the hint's namespace, else registry and the repository's parent) and by
// whether their repository exists: "27 images missing from REG/NS (a, b, c and 24 more): REASON";
// an image alone in its group is named in full; -v names every image in every line. When any is
// missing, `advice` gets one line saying how to copy them (ferry mirror with the same release, or
// bundle load) and, if names were left out, that -v lists them; else it is cleared. A failure
// that is about the registry (unreachable, TLS, credentials refused: the same status code at one
// registry) repeats for every image there, so it is one line naming the registry, how many images
// it affects, the first two (briefly: repository, tag, 12 digits of the digest; -v: all), and the first
// image's message with its hint; so is any other message repeated verbatim
// at one registry (an answer that is not a registry's). Other failures are one line per image.
std::vector<std::string> ImageCheckProblems(const std::vector<ImageCheck>& checks, const MirrorHint& hint = {},
                                            std::string* advice = nullptr);

// Runs every check (image HEADs concurrently on `pool`). An unreachable cluster stops the other
// cluster checks; the image checks run regardless.
PreflightReport RunPreflight(KubeClient& client, TaskPool& pool, const std::vector<ManifestObject>& objects,
                             const PreflightOptions& options, InstallProgress& progress);

}  // namespace ferry::installer
