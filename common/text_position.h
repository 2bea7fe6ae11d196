// Where a byte offset falls in a text, as "line L, column C": for parse errors whose message must
// not quote the text itself (a kubeconfig plugin's output, a docker config: both may hold secrets).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ferry {

// "line L, column C" of the byte at `offset` (from 0) in `text`; lines and columns count from 1,
// columns in bytes. An offset past the end names the position just after the last byte.
std::string TextPosition(std::string_view text, size_t offset);

}  // namespace ferry
