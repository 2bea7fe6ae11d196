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

TEST_CASE("every bad line of an image list is reported with file and line") {
  auto images = ParseImageList("alpine:3.6\nlibrary/UPPER:1\nok/image:1\nbad tag\n", "list.txt");
  REQUIRE_FALSE(images.ok());
  CHECK_THAT(images.status().message(), Catch::Contains("list.txt:2:") && Catch::Contains("list.txt:4:"));
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
