// Whole-file reads; see local_file.h.
#include "common/local_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ferry {

Result<std::string> ReadLocalFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    int error = errno;
    return Status(error == ENOENT ? StatusCode::kNotFound : StatusCode::kIo, std::strerror(error));
  }
  std::string text;
  char buf[8192];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, file)) > 0) text.append(buf, n);
  bool failed = std::ferror(file);
  int error = errno;
  std::fclose(file);
  if (failed) return IoError(std::strerror(error));
  return text;
}

}  // namespace ferry
