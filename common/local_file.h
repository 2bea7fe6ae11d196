// Reading a whole local file into memory: for the small files ferry reads whole (docker config,
// kubeconfig, token and CA files), never for blobs or archives, which are streamed.
#pragma once

#include <string>

#include "common/status.h"

namespace ferry {

// The whole file. On failure the Status (NotFound for a missing file, else IoError) carries only
// the system's reason, for the caller to put after the place.
Result<std::string> ReadLocalFile(const std::string& path);

}  // namespace ferry
