#include "mirror/image_list.h"

#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "common/name_groups.h"

namespace ferry {
namespace {

// One bad line as it is; several under a count, the first few of them (a file that is not an
// image list at all would otherwise print every line of it); -v lists every one.
std::string BadLines(const std::vector<std::string>& errors, const std::string& name) {
  if (errors.size() == 1) return errors[0];
  std::string out = name + ": " + Counted(errors.size(), "line is", "lines are") + " not image references:";
  size_t shown = NamesShown();
  for (size_t i = 0; i < errors.size() && i < shown; ++i) out += "\n  " + errors[i];
  if (errors.size() > shown) out += "\n  and " + std::to_string(errors.size() - shown) + " more (-v lists every one)";
  return out;
}

}  // namespace

Result<std::vector<ImageReference>> ParseImageList(const std::string& text, const std::string& name) {
  std::vector<ImageReference> images;
  std::set<std::string> seen;
  std::vector<std::string> errors;  // "NAME:LINE: why", one per bad line
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    size_t begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos) continue;
    line = line.substr(begin, line.find_last_not_of(" \t\r") - begin + 1);
    Result<ImageReference> ref = ImageReference::Parse(line);
    if (!ref.ok()) {
      errors.push_back(name + ":" + std::to_string(number) + ": " + ref.status().message());
      continue;
    }
    if (seen.insert(ref->String()).second) images.push_back(*ref);
  }
  if (!errors.empty()) return InvalidArgument(BadLines(errors, name));
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
