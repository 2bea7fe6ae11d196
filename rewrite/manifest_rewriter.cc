#include "rewrite/manifest_rewriter.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "rewrite/yaml_stream.h"

namespace ferry {
namespace {

// Runs `body` on `file`'s bytes as a stream (standard input for "-").
Status WithInput(const ManifestInput& file, const std::function<Status(std::istream&)>& body) {
  if (file.path == "-") return body(std::cin);
  std::ifstream in(file.path, std::ios::binary);
  if (!in) return IoError(file.display + ": cannot read the file");
  return body(in);
}

}  // namespace

Status ScanManifest(const ManifestInput& file, const std::function<void(const ImageOccurrence&)>& each) {
  return WithInput(file, [&](std::istream& in) {
    return ForEachDocument(in, [&](const YamlDocument& doc) -> Status {
      Result<std::vector<ImageOccurrence>> found = FindImages(doc, file.display);
      if (!found.ok()) return found.status();
      for (const ImageOccurrence& o : *found) each(o);
      return Status::Ok();
    });
  });
}

Result<int> RewriteStream(std::istream& in, std::ostream& out, const std::string& name, const Replacer& replace) {
  int replaced = 0;
  Status s = ForEachDocument(in, [&](const YamlDocument& doc) -> Status {
    Result<std::vector<ImageOccurrence>> found = FindImages(doc, name);
    if (!found.ok()) return found.status();
    std::vector<ImageOccurrence>& occurrences = *found;
    std::sort(occurrences.begin(), occurrences.end(),
              [](const ImageOccurrence& a, const ImageOccurrence& b) { return a.offset < b.offset; });
    size_t pos = 0;  // in doc.text
    for (const ImageOccurrence& o : occurrences) {
      std::optional<std::string> with = replace(o);
      size_t at = o.offset - doc.offset;
      if (!with || at < pos) continue;
      out.write(doc.text.data() + pos, static_cast<std::streamsize>(at - pos));
      out << *with;
      pos = at + o.text.size();
      ++replaced;
    }
    out.write(doc.text.data() + pos, static_cast<std::streamsize>(doc.text.size() - pos));
    return out ? Status::Ok() : IoError(name + ": write failed");
  });
  if (!s.ok()) return s;
  return replaced;
}

Result<int> RewriteManifest(const ManifestInput& file, const std::string& destination, const Replacer& replace) {
  Result<int> replaced = 0;
  if (destination == "-") {
    FERRY_RETURN_IF_ERROR(WithInput(file, [&](std::istream& in) {
      replaced = RewriteStream(in, std::cout, file.display, replace);
      return replaced.status();
    }));
    return replaced;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target(destination);
  // In place through a symbolic link: replace the file it points to, keep the link.
  if (fs::is_symlink(target, ec)) target = fs::canonical(target, ec);
  std::string final_path = target.string();
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  std::string temp = final_path + ".ferry-tmp." + std::to_string(getpid());
  Status s = WithInput(file, [&](std::istream& in) {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return IoError(destination + ": cannot create " + temp);
    replaced = RewriteStream(in, out, file.display, replace);
    if (!replaced.ok()) return replaced.status();
    out.flush();
    return out ? Status::Ok() : IoError(destination + ": write failed");
  });
  if (s.ok()) {
    // Keep the original's permissions when replacing it in place.
    if (fs::exists(target, ec)) fs::permissions(temp, fs::status(target, ec).permissions(), ec);
    fs::rename(temp, target, ec);
    if (ec) s = IoError(destination + ": cannot replace the file: " + ec.message());
  }
  if (!s.ok()) {
    fs::remove(temp, ec);
    return s;
  }
  return replaced;
}

}  // namespace ferry
