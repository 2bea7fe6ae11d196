// images.lock: what a mirror run produced, for rewrite and install to consume. One entry per
// source image: where it now lives (target reference pinned to its digest), media type, platforms,
// size, and the attachments that travelled with it (signatures, attestations, SBOMs, referrers; in
// the same target repository). Written in a stable order (by source) so the file diffs cleanly.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/attachments.h"
#include "mirror/image_reference.h"

namespace ferry {

struct LockEntry {
  ImageReference source;
  ImageReference target;  // with tag (if any) and digest
  std::string media_type;
  std::vector<std::string> platforms;
  int64_t size = 0;
  std::vector<AttachmentRecord> attachments;
};

struct ImageLock {
  static constexpr int kVersion = 1;
  std::vector<LockEntry> images;

  std::string Serialize() const;
  // Errors name `path` and the entry at fault.
  static Result<ImageLock> Parse(const std::string& text, const std::string& path);
  static Result<ImageLock> Read(const std::string& path);
};

struct CopyReport;
// The entries of the images a copy run (mirror/copy_engine.h) put in place; their names must be
// image references and their sink a registry.
ImageLock LockOf(const CopyReport& report);

}  // namespace ferry
