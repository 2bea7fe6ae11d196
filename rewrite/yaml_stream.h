// Splits a YAML stream ("---"-separated documents, optionally "..."-terminated) into its documents
// without loading the whole file: memory grows with the largest document, not with the file.
//
// Every byte of the input lands in exactly one document, unchanged (CRLF, trailing spaces, a
// missing final newline): concatenating the `text` of all documents in order gives back the file.
// Where the bytes go:
//  - a "---" line starts a new document and belongs to it, except when the lines before it hold no
//    content yet (comments, blank lines, "%" directives): those lead into this same document;
//  - comments after a document's content stay with it until the next "---";
//  - a "..." line ends its document and belongs to it; what follows belongs to the next document
//    (an empty one, if only comments follow).
// A file with no "---" is one document; an empty file has none.
#pragma once

#include <cstddef>
#include <functional>
#include <istream>
#include <string>

#include "common/status.h"

namespace ferry {

struct YamlDocument {
  std::string text;    // the document's exact bytes, including its "---" / "..." lines
  size_t offset = 0;   // byte offset of text[0] in the file
  int first_line = 1;  // 1-based line number of text[0] in the file
  int index = 0;       // 0-based position among the file's documents
};

// Calls `each` for every document (including empty ones, so nothing is lost); stops at the first
// error, from `each` or from reading `in` (IoError).
Status ForEachDocument(std::istream& in, const std::function<Status(const YamlDocument&)>& each);

}  // namespace ferry
