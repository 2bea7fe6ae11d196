// UTF-8 validation for manifests: YAML is Unicode text, and a rewrite must not pass on bytes that
// a Kubernetes API server would reject.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace ferry {

// Offset of the first byte that does not belong to a well-formed UTF-8 sequence (overlong forms,
// surrogates and code points above U+10FFFF are ill-formed), or nullopt if `text` is valid.
std::optional<size_t> FirstInvalidUtf8(std::string_view text);

// OK, or InvalidArgument "file:line:column: invalid UTF-8 (byte 0xE9); ..." where `text` starts
// at line `first_line` of `file`.
Status CheckUtf8(std::string_view text, const std::string& file, int first_line);

}  // namespace ferry
