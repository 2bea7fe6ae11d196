#include "mirror/image_list.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

namespace ferry {

Result<std::vector<ImageReference>> ParseImageList(const std::string& text, const std::string& name) {
  std::vector<ImageReference> images;
  std::set<std::string> seen;
  std::string errors;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos) continue;
    line = line.substr(begin, line.find_last_not_of(" \t\r") - begin + 1);
    Result<ImageReference> ref = ImageReference::Parse(line);
    if (!ref.ok()) {
      errors += (errors.empty() ? "" : "\n") + name + ":" + std::to_string(number) + ": " + ref.status().message();
      continue;
    }
    if (seen.insert(ref->String()).second) images.push_back(*ref);
  }
  if (!errors.empty()) return InvalidArgument(errors);
  if (images.empty()) return InvalidArgument(name + ": no image references in it");
  return images;
}

Result<std::vector<ImageReference>> ReadImageList(const std::string& path) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
    return ParseImageList(text.str(), "standard input");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read image list " + path);
  text << in.rdbuf();
  return ParseImageList(text.str(), path);
}

}  // namespace ferry
