// Scanning and rewriting release files; see manifest_rewriter.h.
#include "rewrite/manifest_rewriter.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "common/atomic_file.h"
#include "rewrite/document_pipeline.h"
#include "rewrite/reference_text.h"

namespace ferry {
namespace {

// Bytes that may follow a reference in prose (sentence punctuation) before a blank or a quote.
bool EndsWord(char c) {
  return c == '\n' || c == ' ' || c == '\t' || c == '\r' || c == '"' || c == '\'' || c == '`' ||
         c == ',' || c == ')' || c == ']';
}

std::optional<std::string> NotAReference(std::string_view what, std::string_view text) {
  if (text.empty()) return std::string(what) + " is empty";
  for (char c : text) {
    if (!IsReferenceChar(c)) return std::string(what) + " \"" + std::string(text) + "\" has bytes no reference holds";
  }
  if (text.find("://") != std::string_view::npos || !ImageReference::Parse(text).ok()) {
    return std::string(what) + " \"" + std::string(text) + "\" is not a valid image reference";
  }
  return std::nullopt;
}

// Runs `body` on `file`'s bytes as a stream (standard input for "-").
Status WithInput(const ManifestInput& file, const std::function<Status(std::istream&)>& body) {
  if (file.path == "-") return body(std::cin);
  std::ifstream in(file.path, std::ios::binary);
  if (!in) return IoError(file.display + ": cannot read the file");
  return body(in);
}

// Runs `body` on a stream that ends up in `destination`: standard output for "-", else an
// AtomicFile committed over the destination only when `body` succeeded (a failure, Ctrl-C or kill
// leaves the old file and no temporary one).
Status WithOutput(const std::string& destination, const std::function<Status(std::ostream&)>& body) {
  if (destination == "-") return body(std::cout);
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path target(destination);
  // In place through a symbolic link: replace the file it points to, keep the link.
  if (fs::is_symlink(target, ec)) target = fs::canonical(target, ec);
  if (target.has_parent_path()) fs::create_directories(target.parent_path(), ec);
  Result<AtomicFile> file = AtomicFile::Create(target.string());
  if (!file.ok()) return IoError(destination + ": " + file.status().message());
  AtomicFileBuffer buffer(*file);
  std::ostream out(&buffer);
  FERRY_RETURN_IF_ERROR(body(out));
  out.flush();
  if (!buffer.status().ok()) return IoError(destination + ": " + buffer.status().message());
  if (!out) return IoError(destination + ": write failed");
  Status committed = file->Commit();
  if (!committed.ok()) return IoError(destination + ": " + committed.message());
  return Status::Ok();
}

// Copies `in` to `out` with `edits` applied; see ApplyEdits.
Result<int> CopyWithEdits(std::istream& in, std::ostream& out, const ManifestInput& file,
                          uint64_t size, std::span<const ByteEdit> edits) {
  auto changed = [&](const std::string& what) {
    return IoError(file.display + ": changed since it was scanned (" + what +
                   "); nothing was rewritten from it, run the command again");
  };
  std::vector<char> buffer(1 << 18);
  uint64_t pos = 0;  // bytes of `in` consumed
  auto copy = [&](uint64_t count) {
    while (count > 0) {
      auto chunk = static_cast<std::streamsize>(std::min<uint64_t>(count, buffer.size()));
      in.read(buffer.data(), chunk);
      std::streamsize got = in.gcount();
      out.write(buffer.data(), got);
      pos += static_cast<uint64_t>(got);
      if (got != chunk) return false;
      count -= static_cast<uint64_t>(chunk);
    }
    return true;
  };
  int applied = 0;
  std::string seen;
  for (const ByteEdit& edit : edits) {
    if (edit.offset < pos || edit.offset + edit.expected.size() > size) continue;
    if (!copy(edit.offset - pos)) return changed("it now ends at byte " + std::to_string(pos));
    seen.resize(edit.expected.size());
    in.read(seen.data(), static_cast<std::streamsize>(seen.size()));
    if (static_cast<size_t>(in.gcount()) != seen.size() || seen != edit.expected) {
      return changed("\"" + std::string(edit.expected) + "\" is no longer at byte " +
                     std::to_string(edit.offset));
    }
    out.write(edit.replacement.data(), static_cast<std::streamsize>(edit.replacement.size()));
    pos += seen.size();
    ++applied;
  }
  if (!copy(size - pos)) return changed("it now ends at byte " + std::to_string(pos));
  if (in.peek() != std::char_traits<char>::eof()) return changed("it now has more than " + std::to_string(size) + " bytes");
  if (in.bad()) return IoError(file.display + ": read failed");
  if (!out) return IoError(file.display + ": write failed");
  return applied;
}

}  // namespace

Surroundings SurroundingsAt(std::string_view text, size_t offset, size_t size) {
  Surroundings around;
  if (offset > 0 && offset <= text.size()) around.before = text[offset - 1];
  for (size_t i = 0; i < 2 && offset + size + i < text.size(); ++i) around.after[i] = text[offset + size + i];
  return around;
}

std::optional<std::string> SpliceProblem(std::string_view text, std::string_view replacement,
                                         const Surroundings& around) {
  if (auto problem = NotAReference("the text replaced", text)) return problem;
  if (auto problem = NotAReference("the replacement", replacement)) return problem;
  char next = around.after[0];
  bool alone_before = !IsReferenceChar(around.before);
  bool alone_after = !IsReferenceChar(next) || ((next == '.' || next == ':') && EndsWord(around.after[1]));
  if (!alone_before || !alone_after) {
    return "\"" + std::string(text) + "\" is joined to the bytes around it (\"" +
           std::string(1, around.before) + "\" before, \"" + std::string(around.after, 2) +
           "\" after), so it is not a whole reference";
  }
  return std::nullopt;
}

Status ScanManifest(const ManifestInput& file, const std::function<void(const ImageOccurrence&)>& each) {
  return WithInput(file, [&](std::istream& in) {
    return FindImagesInStream(in, file.display,
                              [&](const YamlDocument&, std::vector<ImageOccurrence>& found) {
                                for (const ImageOccurrence& o : found) each(o);
                                return Status::Ok();
                              });
  });
}

Result<int> RewriteStream(std::istream& in, std::ostream& out, const std::string& name, const Replacer& replace) {
  int replaced = 0;
  Status s = FindImagesInStream(in, name, [&](const YamlDocument& doc, std::vector<ImageOccurrence>& found) {
    // FindImages orders them by offset.
    size_t pos = 0;  // in doc.text
    for (const ImageOccurrence& o : found) {
      if (o.templated) continue;
      std::optional<std::string> with = replace(o);
      size_t at = o.offset - doc.offset;
      if (!with || at < pos) continue;
      if (auto problem = SpliceProblem(o.text, *with, SurroundingsAt(doc.text, at, o.text.size()))) {
        return InvalidArgument(o.file + ":" + std::to_string(o.line) + ":" + std::to_string(o.column) +
                               ": refusing to rewrite: " + *problem);
      }
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
  FERRY_RETURN_IF_ERROR(WithInput(file, [&](std::istream& in) {
    return WithOutput(destination, [&](std::ostream& out) {
      replaced = RewriteStream(in, out, file.display, replace);
      return replaced.status();
    });
  }));
  return replaced;
}

Result<int> ApplyEdits(const ManifestInput& file, const std::string& destination, uint64_t size,
                       std::span<const ByteEdit> edits) {
  Result<int> applied = 0;
  FERRY_RETURN_IF_ERROR(WithInput(file, [&](std::istream& in) {
    return WithOutput(destination, [&](std::ostream& out) {
      applied = CopyWithEdits(in, out, file, size, edits);
      return applied.status();
    });
  }));
  return applied;
}

}  // namespace ferry
