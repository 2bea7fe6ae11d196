// Finds the image references in one document of a Kubernetes, Knative or Istio manifest, each with
// the exact bytes that spell it, so that a rewrite can replace those bytes and leave the rest of
// the file byte-identical.
//
// Where it looks, how sure it is, and what a value must look like at each place: the table in
// rewrite/image_places.h, with the reference shapes of rewrite/reference_text.h. In short:
//  kCertain  `image` of every item of containers / initContainers / ephemeralContainers (and
//            Build / Tekton steps and sidecars) wherever they appear, `image` of Knative
//            v1alpha1's single `container`, `spec.image` of Knative caching `Image` objects, and
//            ConfigMap keys `queueSidecarImage` / `queue-sidecar-image`: any parseable reference
//            ("disabled" too: Kubernetes would pull docker.io/library/disabled).
//  kLikely   a value whose key names an image (env FOO_IMAGE, "-foo-image" flags, ConfigMap keys
//            and annotations ending in "image"): a reference with a path, tag or digest; any
//            other value and every word of multi-line text (Istio's sidecar-injector template):
//            strong evidence only, a digest, or an explicit registry host and a tag.
//  kOptional words of a ConfigMap's `_example` block (Knative's documented, inactive settings,
//            e.g. logging.fluentd-sidecar-image).
// Never: fields that name other objects (roleRef, subjects, serviceAccountName, secret and
// ConfigMap references, ...), labels, and annotations whose key does not name an image; URLs,
// Go import paths, ko:// paths, versions, host:port addresses and "scope:level" / "key:value"
// words. A field value that does not parse at all is skipped.
//
// Templated values: an image field or named value with template markers ("{{", "}}", "${"), and
// a word that would be a reference but is joined to a template marker
// ("gcr.io/x/controller:{{ .Values.tag }}"), are reported with `templated` set, the text as far as
// the template reaches and no parsed reference. They must never be rewritten.
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
  // "env value", "flag argument", "argument", "annotation", "value", "in text",
  // "commented example".
  std::string why;
  // A reference built by a template ("controller:{{ .Values.tag }}"): `ref` is empty, `text` is
  // the templated text; never to be rewritten or mirrored.
  bool templated = false;
};

// Finds the references in `doc`, ordered by offset. `file` names the file in messages. Callable
// on any bytes (a fuzzer feeds it raw buffers as YamlDocument::text).
// Errors name file:line[:column]:
//  InvalidArgument: malformed YAML (with the parser's reason), a document that is not a mapping
//   (an empty or comment-only document is fine and has no images), bytes that are not UTF-8,
//   duplicate mapping keys, nesting deeper than 256 levels or an alias explosion;
//  Unsupported: a reference written with escapes or a line break inside a quoted string, whose
//   bytes therefore cannot be replaced in place.
Result<std::vector<ImageOccurrence>> FindImages(const YamlDocument& doc, const std::string& file);

}  // namespace ferry
