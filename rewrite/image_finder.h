// Finds the image references in one document of a Kubernetes, Knative or Istio manifest, each with
// the exact bytes that spell it, so that a rewrite can replace those bytes and leave the rest of
// the file byte-identical.
//
// Where it looks, and how sure it is:
//  kCertain  `image` of every item of containers / initContainers / ephemeralContainers wherever
//            they appear (Pod, Deployment, DaemonSet, StatefulSet, ReplicaSet,
//            ReplicationController, Job, CronJob's jobTemplate, Knative Service / Configuration /
//            Revision templates), `image` of Knative v1alpha1's single `container`
//            (runLatest.configuration.revisionTemplate.spec.container), `spec.image` of Knative
//            caching `Image` objects, and ConfigMap keys `queueSidecarImage` /
//            `queue-sidecar-image`. These fields take any parseable reference.
//  kLikely   any other scalar value that is a reference: ConfigMap values, env values, container
//            args ("-flag=REF", or REF as the item after a "--flag" item), and words of multi-line
//            text (Istio's sidecar-injector template, with `image: "..."` lines and
//            [[ annotation ... "docker.io/istio/proxyv2:1.1.3" ]]).
//  kOptional words of a ConfigMap's `_example` block (Knative's documented, inactive settings,
//            e.g. logging.fluentd-sidecar-image).
// Outside image fields a value must look unmistakably like an image to count (rules in
// rewrite/reference_text.h): no URLs, Go import paths, ko:// paths, versions, label values,
// host:port addresses or single words like "disabled". Inside an image field "disabled" is
// reported (Kubernetes would pull docker.io/library/disabled); a field value that does not parse
// at all (a template placeholder) is skipped.
//
// An anchored value used again through aliases is reported once, at the anchor (an alias has no
// bytes of its own), with the path, reason and confidence of its strongest use.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/image_reference.h"
#include "rewrite/yaml_stream.h"

namespace ferry {

// Container image field / value that is exactly a reference or inside a string / commented example.
enum class Confidence { kCertain, kLikely, kOptional };

struct ImageOccurrence {
  std::string text;    // the reference exactly as written in the file (what gets replaced)
  ImageReference ref;  // parsed
  std::string file;    // as passed to FindImages
  size_t offset = 0;   // byte offset of `text` in the FILE (document offset + offset in document)
  int line = 0, column = 0;    // 1-based, in the file; column counts bytes
  std::string kind, ns, name;  // of the enclosing Kubernetes object (empty if none)
  // Where the value sits, e.g. spec.template.spec.containers[0].image, data.queue-sidecar-image,
  // data.config (for a word inside that text).
  std::string yaml_path;
  Confidence confidence = Confidence::kCertain;
  // Short reason: "container image", "cached image", "queue sidecar image", "ConfigMap value",
  // "env value", "flag argument", "argument", "value", "in text", "commented example".
  std::string why;
};

// Finds the references in `doc`, ordered by offset. `file` names the file in messages.
// Errors name file:line[:column]:
//  InvalidArgument: malformed YAML (with the parser's reason), a document that is not a mapping
//   (an empty or comment-only document is fine and has no images), bytes that are not UTF-8,
//   duplicate mapping keys, nesting deeper than 256 levels or an alias explosion;
//  Unsupported: a reference written with escapes or a line break inside a quoted string, whose
//   bytes therefore cannot be replaced in place.
Result<std::vector<ImageOccurrence>> FindImages(const YamlDocument& doc, const std::string& file);

}  // namespace ferry
