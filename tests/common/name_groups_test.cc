// The one way ferry lists many items in an error: grouped by cause, counted, the first few named.
#include <catch2/catch.hpp>

#include "common/log.h"
#include "common/name_groups.h"

using namespace ferry;

TEST_CASE("NameFirstFew names a few and counts the rest", "[name_groups]") {
  CHECK(NameFirstFew({}) == "");
  CHECK(NameFirstFew({"a"}) == "a");
  CHECK(NameFirstFew({"a", "b", "c"}) == "a, b, c");
  CHECK(NameFirstFew({"a", "b", "c", "d", "e"}) == "a, b, c and 2 more");
  CHECK(NameFirstFew({"a", "b", "c"}, 1) == "a and 2 more");
}

TEST_CASE("Counted says one in the singular and the rest in the plural", "[name_groups]") {
  CHECK(Counted(0, "image", "images") == "0 images");
  CHECK(Counted(1, "image", "images") == "1 image");
  CHECK(Counted(27, "image", "images") == "27 images");
}

TEST_CASE("NamesShown is a few, or every name with -v", "[name_groups]") {
  SetLogLevel(LogLevel::kWarning);
  CHECK(NamesShown() == 3);
  CHECK(NamesShown(2) == 2);
  SetLogLevel(LogLevel::kInfo);
  std::vector<std::string> thirty(30, "x");
  CHECK(NameFirstFew(thirty, NamesShown()).find("more") == std::string::npos);
  SetLogLevel(LogLevel::kWarning);
  CHECK(NameFirstFew(thirty, NamesShown()).ends_with("x, x, x and 27 more"));
}

TEST_CASE("NameGroups keeps groups in order of first appearance, names in order added", "[name_groups]") {
  NameGroups groups;
  CHECK(groups.empty());
  CHECK(groups.Add("unreachable b", "b1") == 0);
  CHECK(groups.Add("missing", "m1") == 1);
  CHECK(groups.Add("unreachable b", "b2") == 0);
  CHECK(groups.Add("missing", "m2") == 1);
  CHECK(groups.Add("unreachable b", "b3") == 0);
  REQUIRE(groups.groups().size() == 2);
  CHECK(groups.groups()[0].key == "unreachable b");
  CHECK(groups.groups()[0].names == std::vector<std::string>{"b1", "b2", "b3"});
  CHECK(groups.groups()[0].first == 0);
  CHECK(groups.groups()[1].names == std::vector<std::string>{"m1", "m2"});
  CHECK(groups.groups()[1].first == 1);  // the second name added opened it
  CHECK(groups.Truncated(2));
  CHECK_FALSE(groups.Truncated(3));
}
