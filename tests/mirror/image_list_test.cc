#include "common/log.h"
#include "mirror/image_list.h"

#include <catch2/catch.hpp>

using namespace ferry;

TEST_CASE("an image list takes one reference per line, skipping comments and blank lines") {
  auto images = ParseImageList(
      "# Knative Serving\n"
      "gcr.io/knative-releases/knative.dev/serving/cmd/queue:v1.23.0   # the queue-proxy\n"
      "\n"
      "  alpine:3.6\r\n"
      "docker.io/library/alpine:3.6\n",  // the same image spelled out: kept once
      "list.txt");
  REQUIRE(images.ok());
  REQUIRE(images->size() == 2);
  CHECK((*images)[0].repository == "knative-releases/knative.dev/serving/cmd/queue");
  CHECK((*images)[1].String() == "docker.io/library/alpine:3.6");
}

TEST_CASE("the bad lines of an image list are counted and reported with file and line") {
  auto images = ParseImageList("alpine:3.6\nlibrary/UPPER:1\nok/image:1\nbad tag\n", "list.txt");
  REQUIRE_FALSE(images.ok());
  CHECK_THAT(images.status().message(), Catch::StartsWith("list.txt: 2 lines are not image references:\n  list.txt:2: ") &&
                                            Catch::Contains("\n  list.txt:4: "));
}

TEST_CASE("a file of many bad lines names the first three and counts the rest; -v names every one") {
  std::string text;
  for (int i = 0; i < 40; ++i) text += "not an image: " + std::to_string(i) + "\n";
  auto images = ParseImageList(text, "values.yaml");
  REQUIRE_FALSE(images.ok());
  const std::string& message = images.status().message();
  CHECK_THAT(message, Catch::StartsWith("values.yaml: 40 lines are not image references:\n  values.yaml:1: ") &&
                          Catch::Contains("\n  values.yaml:3: ") &&
                          Catch::EndsWith("\n  and 37 more (-v lists every one)"));
  CHECK(message.find("values.yaml:4:") == std::string::npos);
  SetLogLevel(LogLevel::kInfo);
  std::string all = ParseImageList(text, "values.yaml").status().message();
  SetLogLevel(LogLevel::kWarning);
  CHECK(all.find("values.yaml:40: ") != std::string::npos);
  CHECK(all.find(" more") == std::string::npos);
}

TEST_CASE("one bad line is said as it is") {
  auto images = ParseImageList("alpine:3.6\nbad tag\n", "list.txt");
  REQUIRE_FALSE(images.ok());
  CHECK_THAT(images.status().message(), Catch::StartsWith("list.txt:2: "));
}

TEST_CASE("an image list with no references is an error, not an empty success") {
  auto images = ParseImageList("# nothing here\n\n", "empty.txt");
  REQUIRE_FALSE(images.ok());
  CHECK_THAT(images.status().message(), Catch::Contains("empty.txt"));
}

TEST_CASE("an unreadable image list names the file") {
  auto images = ReadImageList("/nonexistent/images.txt");
  REQUIRE_FALSE(images.ok());
  CHECK_THAT(images.status().message(), Catch::Contains("/nonexistent/images.txt"));
}
