// Attachments: what travels with an image besides its own manifests and blobs. Signatures,
// attestations and SBOMs that cosign stores under tags derived from the image's digest
// (sha256-<hex>.sig, .att, .sbom), and OCI 1.1 referrers: manifests whose `subject` names the image,
// listed by the Referrers API or, where a registry has none, by the index under the fallback tag
// sha256-<hex>. Each attachment is itself an image (a manifest and blobs) copied into the same
// repository as its subject: cosign's under the same tag, referrers by digest.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "mirror/image_source.h"
#include "mirror/manifest.h"

namespace ferry {

enum class AttachmentKind { kSignature, kAttestation, kSbom, kReferrer };

// "signature", "attestation", "sbom", "referrer".
std::string_view AttachmentKindName(AttachmentKind kind);
Result<AttachmentKind> ParseAttachmentKind(std::string_view name);

struct Attachment {
  AttachmentKind kind = AttachmentKind::kReferrer;
  std::string subject;        // the digest it is attached to
  std::string tag;            // cosign's tag ("sha256-<hex>.sig"); empty for a referrer (by digest)
  std::string digest;         // of its manifest (a referrer's is known when found; a tag's once read)
  std::string artifact_type;  // a referrer's artifactType, when its descriptor says
};

// An attachment as lock files and bundle.json record it.
struct AttachmentRecord {
  std::string kind;  // AttachmentKindName
  std::string tag;   // cosign's sha256-<hex>.sig/.att/.sbom; empty for a referrer
  std::string digest;
  std::string media_type;
};
// [{"kind", "tag" (when there is one), "digest", "mediaType"}]
nlohmann::ordered_json AttachmentsJson(const std::vector<AttachmentRecord>& records);
// Reads what AttachmentsJson wrote; `where` names the list in messages.
Result<std::vector<AttachmentRecord>> ParseAttachments(const nlohmann::ordered_json& list, const std::string& where);

// cosign's tag for `subject` ("sha256:<hex>") with `suffix` ("sig", "att", "sbom").
std::string CosignTag(const std::string& subject, std::string_view suffix);
// The OCI 1.1 referrers fallback tag of `subject`: "sha256-<hex>".
std::string ReferrersTag(const std::string& subject);

// What is attached to each of `subjects` in `repository` of `source`: the cosign tags among `tags`
// (the repository's tag list) and the referrers (the Referrers API, else the fallback tag's index).
Result<std::vector<Attachment>> FindAttachments(ImageSource& source, const std::string& repository,
                                                const std::vector<std::string>& tags,
                                                const std::vector<std::string>& subjects);

// The referrers fallback index of `referrer`'s subject with `referrer` added: `existing` (the index
// now under the fallback tag, if any) plus one descriptor with its artifactType and annotations.
// nullopt when `existing` lists it already.
Result<std::optional<Manifest>> AddReferrer(const std::optional<Manifest>& existing, const Manifest& referrer);

}  // namespace ferry
