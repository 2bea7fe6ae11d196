// Specification of ForEachDocument: how a YAML stream is cut into documents, and that no byte is
// lost, added or moved (every corpus file is reassembled byte for byte).
#include "rewrite/yaml_stream.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "tests/corpus.h"

namespace ferry {
namespace {

std::vector<YamlDocument> Split(const std::string& text) {
  std::istringstream in(text);
  std::vector<YamlDocument> docs;
  Status status = ForEachDocument(in, [&](const YamlDocument& doc) {
    docs.push_back(doc);
    return Status::Ok();
  });
  REQUIRE(status.ok());
  return docs;
}

std::vector<std::string> Texts(const std::vector<YamlDocument>& docs) {
  std::vector<std::string> texts;
  for (const YamlDocument& doc : docs) texts.push_back(doc.text);
  return texts;
}

struct SplitCase {
  std::string name;
  std::string input;
  std::vector<std::string> documents;
};

TEST_CASE("a stream is cut at --- lines, and every byte lands in one document") {
  const std::vector<SplitCase> cases = {
      {"empty file: no documents", "", {}},
      {"no separator: one document", "a: 1\nb: 2\n", {"a: 1\nb: 2\n"}},
      {"no final newline is kept", "a: 1\n---\nb: 2", {"a: 1\n", "---\nb: 2"}},
      {"leading --- belongs to the first document", "---\na: 1\n---\nb: 2\n",
       {"---\na: 1\n", "---\nb: 2\n"}},
      {"comments before the first --- lead into that document", "# license\n\n---\na: 1\n",
       {"# license\n\n---\na: 1\n"}},
      {"comments after content stay with it", "a: 1\n# end of a\n---\n# about b\nb: 2\n",
       {"a: 1\n# end of a\n", "---\n# about b\nb: 2\n"}},
      {"empty documents between separators are kept", "---\n---\na: 1\n---\n",
       {"---\n", "---\na: 1\n", "---\n"}},
      {"--- with content on its line", "--- !map\na: 1\n--- |\n  text\n",
       {"--- !map\na: 1\n", "--- |\n  text\n"}},
      {"... ends a document and belongs to it", "a: 1\n...\n---\nb: 2\n...\n",
       {"a: 1\n...\n", "---\nb: 2\n...\n"}},
      {"a bare document after ...", "a: 1\n...\nb: 2\n", {"a: 1\n...\n", "b: 2\n"}},
      {"comments after the last ... form an empty document", "a: 1\n...\n# bye\n",
       {"a: 1\n...\n", "# bye\n"}},
      {"directives lead into the next document", "a: 1\n...\n%YAML 1.2\n---\nb: 2\n",
       {"a: 1\n...\n", "%YAML 1.2\n---\nb: 2\n"}},
      {"---x and indented --- are content", "a: |\n  ---\n---x: 1\n", {"a: |\n  ---\n---x: 1\n"}},
      {"CRLF and trailing spaces are kept", "a: 1  \r\n---\r\nb: 2\t\r\n",
       {"a: 1  \r\n", "---\r\nb: 2\t\r\n"}},
      {"--- followed by a tab or a comment", "a: 1\n---\t# two\nb: 2\n",
       {"a: 1\n", "---\t# two\nb: 2\n"}},
  };
  for (const SplitCase& c : cases) {
    SECTION(c.name) {
      std::vector<YamlDocument> docs = Split(c.input);
      CHECK(Texts(docs) == c.documents);
    }
  }
}

TEST_CASE("each document knows its offset, first line and index in the file") {
  std::string text = "# head\r\n---\r\na: 1\r\n---\r\n\r\nb: |\r\n  x\r\n";
  std::vector<YamlDocument> docs = Split(text);
  REQUIRE(docs.size() == 2);
  CHECK(docs[0].offset == 0);
  CHECK(docs[0].first_line == 1);
  CHECK(docs[0].index == 0);
  CHECK(docs[1].offset == text.find("---\r\n\r\nb"));
  CHECK(docs[1].first_line == 4);
  CHECK(docs[1].index == 1);
  for (const YamlDocument& doc : docs) CHECK(text.substr(doc.offset, doc.text.size()) == doc.text);
}

TEST_CASE("an error from the callback stops the walk and is returned") {
  std::istringstream in("a: 1\n---\nb: 2\n---\nc: 3\n");
  int calls = 0;
  Status status = ForEachDocument(in, [&](const YamlDocument& doc) {
    ++calls;
    if (doc.index == 1) return InvalidArgument("stop at b");
    return Status::Ok();
  });
  CHECK(calls == 2);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message() == "stop at b");
}

TEST_CASE("every corpus file is reassembled byte for byte from its documents") {
  std::filesystem::path dir = ferry::CorpusDir();
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string original((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::ifstream stream(entry.path(), std::ios::binary);
    std::string joined;
    int line = 1, index = 0;
    Status status = ForEachDocument(stream, [&](const YamlDocument& doc) {
      CHECK(doc.offset == joined.size());
      CHECK(doc.first_line == line);
      CHECK(doc.index == index++);
      joined += doc.text;
      line += static_cast<int>(std::count(doc.text.begin(), doc.text.end(), '\n'));
      return Status::Ok();
    });
    INFO(entry.path().filename().string());
    CHECK(status.ok());
    CHECK(joined == original);
    // With CRLF endings too.
    std::string crlf;
    for (char c : original) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    std::string crlf_joined;
    for (const YamlDocument& doc : Split(crlf)) crlf_joined += doc.text;
    CHECK(crlf_joined == crlf);
  }
  CHECK(files >= 15);
}

}  // namespace
}  // namespace ferry
