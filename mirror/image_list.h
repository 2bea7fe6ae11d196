// Reads `--images FILE`: one image reference per line; blank lines and '#' comments ignored.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "mirror/image_reference.h"

namespace ferry {

// Parses `text` (from `name`, for messages). Every bad line is reported, as name:line: reason.
// Duplicates are kept once, in first-seen order.
Result<std::vector<ImageReference>> ParseImageList(const std::string& text, const std::string& name);
// Reads a file, or standard input for "-".
Result<std::vector<ImageReference>> ReadImageList(const std::string& path);

}  // namespace ferry
