// Line-by-line splitting of a YAML stream; see yaml_stream.h for where each byte goes.
#include "rewrite/yaml_stream.h"

#include <algorithm>
#include <string_view>

namespace ferry {
namespace {

// "---" or "..." at column 0, followed by nothing, a blank or a line break.
bool IsMarker(std::string_view line, std::string_view marker) {
  if (line.substr(0, 3) != marker) return false;
  if (line.size() == 3) return true;
  char next = line[3];
  return next == ' ' || next == '\t' || next == '\r' || next == '\n';
}

// True for a line that holds YAML content, as opposed to a blank or comment line.
bool HoldsContent(std::string_view line) {
  size_t first = line.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && line[first] != '#';
}

class Splitter {
 public:
  explicit Splitter(const std::function<Status(const YamlDocument&)>& each) : each_(each) {}

  Status AddLine(std::string_view line) {
    if (IsMarker(line, "---")) {
      if (has_content_ || has_start_) FERRY_RETURN_IF_ERROR(Flush());
      Append(line);
      has_start_ = true;
      return Status::Ok();
    }
    if (IsMarker(line, "...")) {
      Append(line);
      return Flush();
    }
    // A directive is only a directive before its document starts; later it is content.
    bool directive = line.starts_with('%') && !has_content_ && !has_start_;
    if (HoldsContent(line) && !directive) has_content_ = true;
    Append(line);
    return Status::Ok();
  }

  Status Flush() {
    has_content_ = false;
    has_start_ = false;
    if (doc_.text.empty()) return Status::Ok();
    FERRY_RETURN_IF_ERROR(each_(doc_));
    doc_.offset += doc_.text.size();
    doc_.first_line += static_cast<int>(std::count(doc_.text.begin(), doc_.text.end(), '\n'));
    doc_.index++;
    doc_.text.clear();
    return Status::Ok();
  }

 private:
  void Append(std::string_view line) { doc_.text.append(line); }

  const std::function<Status(const YamlDocument&)>& each_;
  YamlDocument doc_;
  bool has_content_ = false;  // a non-comment line since the document began
  bool has_start_ = false;    // the document has its own "---" line
};

}  // namespace

Status ForEachDocument(std::istream& in, const std::function<Status(const YamlDocument&)>& each) {
  Splitter splitter(each);
  std::string line;
  while (std::getline(in, line)) {
    // getline drops the '\n'; it was there unless the stream ended first.
    if (!in.eof()) line.push_back('\n');
    FERRY_RETURN_IF_ERROR(splitter.AddLine(line));
  }
  if (in.bad()) return IoError("reading YAML stream failed");
  return splitter.Flush();
}

}  // namespace ferry
