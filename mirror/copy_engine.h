// The copy engine: the one way images move in ferry, from any ImageSource to any ImageSink
// (`ferry mirror`, `copy`, `bundle save`, `bundle load` and `samples push` only choose the source,
// the sink and the images).
//
// For a run of many images it
//  - reads each image's manifests (children too) and asks the sink whether the image is already
//    there with the same digest;
//  - finds the image's attachments (cosign signatures, attestations, SBOMs; OCI referrers) and
//    copies them too, into the same repository (CopyOptions::attachments);
//  - moves each distinct blob once: per sink repository it is kept when already there, mounted
//    when another repository of the sink has it (placed earlier in the run, or a hint from an
//    earlier one), and otherwise read from the source and written, its digest checked before the
//    sink commits it (blob_stream.h);
//  - pushes an image's manifests once all its blobs are in place, children before their index,
//    and reads the digest back.
// Blobs start as soon as their image is known. The blob that unblocks the most work goes first
// (its size times the repositories waiting for it: a base layer many images share, a large
// layer), so the long transfers overlap with everything else; once a blob is in one repository the
// others mount it all at once; small blobs go on connections of their own so they never wait
// behind large ones. A source that can only be read front to back (an archive) is read in passes
// instead: its manifests first, then its blobs are handed to the transfers as the pass reaches
// them. A sink that must lay out everything up front (an archive) is given the whole plan first.
//
// One retry policy at one level: registry clients used by the engine do not retry; each step (read
// an image, place a blob in a repository, push an image's manifests) is retried as a whole on
// transient failures, and a blob read cut short resumes where it stopped within the same step.
//
// Every image is attempted even when others fail, each failure kept with its reason, except that
// a run whose sink or source is an archive stops before the first manifest once anything failed,
// so a bad archive tags nothing and an archive is never written half.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/retry.h"
#include "mirror/attachments.h"
#include "mirror/image_sink.h"
#include "mirror/image_source.h"

namespace ferry {

struct CopyImage {
  std::string name;  // how reports, locks and bundles name it: the source as the user wrote it
  ImageLocator from;  // at the source
  ImageLocator to;    // at the sink: a tag, or none (pushed by digest); a digest there must match
};

enum class BlobAction { kSkipped, kMounted, kCopied };

struct CopyOptions {
  int jobs = 8;                        // transfers (and manifest reads) at once
  std::vector<std::string> platforms;  // "os/arch[/variant]"; empty = every platform, digest-exact
  bool attachments = true;             // carry signatures, attestations, SBOMs and referrers
  bool dry_run = false;                // read and compare; write nothing
  RetryPolicy retry;                   // for each step of the run
};

// An attachment that arrived (or was already there) with its image.
struct CopiedAttachment {
  Attachment attachment;  // digest filled in
  std::string media_type;
  int64_t size = 0;

  AttachmentRecord Record() const {
    return {std::string(AttachmentKindName(attachment.kind)), attachment.tag, attachment.digest, media_type};
  }
};

struct ImageResult {
  CopyImage image;
  Status status;
  bool already_present = false;
  std::string digest;         // at the sink: the source's, unless a platform filter rewrote the index
  std::string source_digest;  // the index's digest at the source when a platform filter rewrote it
  std::string media_type;
  std::vector<std::string> platforms;  // of an index's children; empty for a single image
  int64_t size = 0;                    // manifests plus every blob they reference
  std::vector<CopiedAttachment> attachments;
};

struct CopyTotals {
  int images_copied = 0, images_present = 0, images_failed = 0;
  int blobs = 0;  // distinct blobs of the images not already present
  int blobs_copied = 0, blobs_mounted = 0, blobs_skipped = 0;  // per blob and sink repository
  int64_t bytes_copied = 0, bytes_mounted = 0, bytes_skipped = 0;
  int64_t bytes_missing = 0;  // dry run: what a real run would transfer (once per distinct blob)
  int attachments = 0;        // attachments carried with the images
  int passes = 0;             // passes over a source read front to back
  std::chrono::milliseconds elapsed{0};
};

struct CopyReport {
  std::vector<ImageResult> images;  // in input order
  CopyTotals totals;
  // Why a run with an archive as source or sink stopped before any manifest was written (an
  // image that could not be read, a corrupt archive, a blob that could not be placed); else OK.
  Status stopped;
};

// Told what happens, from worker threads: implementations must be thread-safe.
class CopyObserver {
 public:
  virtual ~CopyObserver() = default;
  virtual void OnImageResolved(const ImageResult& /*result*/) {}
  // A distinct blob joined the run: the total to transfer grows by its size.
  virtual void OnBlobPlanned(const Descriptor& /*blob*/) {}
  virtual void OnBlobStarted(const std::string& /*image*/, const Descriptor& /*blob*/) {}
  virtual void OnBytes(const std::string& /*image*/, size_t /*bytes*/) {}
  virtual void OnBlobDone(const Descriptor& /*blob*/, BlobAction /*action*/) {}
  virtual void OnImageDone(const ImageResult& /*result*/) {}
};

CopyReport RunCopy(ImageSource& source, ImageSink& sink, const std::vector<CopyImage>& images,
                   const CopyOptions& options, CopyObserver* observer = nullptr);

}  // namespace ferry
