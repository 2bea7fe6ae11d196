// Specification of FindImagesInStream: on several threads it gives exactly what a sequential scan
// gives, in the same order, reports the same first error, and reads only a few documents ahead.
#include "rewrite/document_pipeline.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <sstream>
#include <streambuf>
#include <string>
#include <vector>

#include "tests/corpus.h"

namespace ferry {
namespace {

// One line per occurrence and per document, in the order they were handed back.
Result<std::string> Trace(const std::string& bytes, const std::string& name, int threads) {
  std::istringstream in(bytes);
  std::string trace;
  Status status = FindImagesInStream(
      in, name,
      [&](const YamlDocument& doc, std::vector<ImageOccurrence>& found) {
        trace += "doc " + std::to_string(doc.index) + " at " + std::to_string(doc.offset) + "\n";
        for (const ImageOccurrence& o : found) {
          trace += o.text + " " + std::to_string(o.offset) + " " + o.yaml_path + "\n";
        }
        return Status::Ok();
      },
      threads);
  if (!status.ok()) return status;
  return trace;
}

// A stream of `count` small Deployments; document i names image gcr.io/x/app-i:1.
std::string Deployments(int count) {
  std::string text;
  for (int i = 0; i < count; ++i) {
    text += "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d" + std::to_string(i) +
            "}\nspec:\n  template:\n    spec:\n      containers:\n      - image: gcr.io/x/app-" +
            std::to_string(i) + ":1\n";
  }
  return text;
}

TEST_CASE("several threads give what one gives, in the stream's order") {
  std::string text = Deployments(500);
  Result<std::string> one = Trace(text, "d.yaml", 1);
  REQUIRE(one.ok());
  CHECK(one->find("gcr.io/x/app-499:1") != std::string::npos);
  for (int threads : {2, 4}) {
    INFO(threads << " threads");
    Result<std::string> many = Trace(text, "d.yaml", threads);
    REQUIRE(many.ok());
    CHECK(*many == *one);
  }
}

TEST_CASE("several threads give what one gives on every corpus file") {
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(CorpusDir())) {
    if (entry.path().extension() != ".yaml") continue;
    ++files;
    std::string bytes = ReadFile(entry.path());
    std::string name = entry.path().filename().string();
    INFO(name);
    Result<std::string> one = Trace(bytes, name, 1);
    Result<std::string> two = Trace(bytes, name, 2);
    REQUIRE(one.ok());
    REQUIRE(two.ok());
    CHECK(*two == *one);
  }
  CHECK(files >= 10);
}

TEST_CASE("the first error in the stream's order is the one reported") {
  // Documents 10 and 300 are malformed; on any number of threads document 10's error wins, and
  // nothing after it is handed back.
  std::string text;
  for (int i = 0; i < 400; ++i) {
    text += "---\nkind: ConfigMap\ndata: {a: \"gcr.io/x/y:" + std::to_string(i) + "\"}\n";
    if (i == 10 || i == 300) text += "oops: [\n";
  }
  for (int threads : {1, 2, 4}) {
    INFO(threads << " threads");
    std::istringstream in(text);
    int last = -1;
    Status status = FindImagesInStream(
        in, "c.yaml",
        [&](const YamlDocument& doc, std::vector<ImageOccurrence>&) {
          last = doc.index;
          return Status::Ok();
        },
        threads);
    CHECK(status.code() == StatusCode::kInvalidArgument);
    CHECK_THAT(status.message(), Catch::StartsWith("c.yaml:35:1: malformed YAML"));
    CHECK(last == 9);
  }
}

TEST_CASE("an error from the callback stops the scan and is returned") {
  std::string text = Deployments(100);
  std::istringstream in(text);
  int calls = 0;
  Status status = FindImagesInStream(
      in, "d.yaml",
      [&](const YamlDocument&, std::vector<ImageOccurrence>&) {
        return ++calls == 3 ? IoError("out: disk full") : Status::Ok();
      },
      2);
  CHECK(status.message() == "out: disk full");
  CHECK(calls == 3);
}

// A stream buffer over a string that counts what has been read from it.
class CountingBuffer : public std::stringbuf {
 public:
  explicit CountingBuffer(const std::string& text) : std::stringbuf(text) {}
  size_t consumed() { return static_cast<size_t>(gptr() - eback()); }
};

TEST_CASE("only a few documents are read ahead of the one handed back") {
  std::string text = Deployments(2000);
  CountingBuffer buffer(text);
  std::istream in(&buffer);
  size_t most_ahead = 0;  // documents read but not yet handed back
  Status status = FindImagesInStream(
      in, "d.yaml",
      [&](const YamlDocument& doc, std::vector<ImageOccurrence>&) {
        size_t end = doc.offset + doc.text.size();
        most_ahead = std::max(most_ahead, (buffer.consumed() - end) / doc.text.size());
        return Status::Ok();
      },
      2);
  REQUIRE(status.ok());
  // In flight: 3 per worker, and the reader is one line into the next document. Reading
  // everything first would put ~2000 ahead.
  CHECK(most_ahead <= 8);
}

}  // namespace
}  // namespace ferry
