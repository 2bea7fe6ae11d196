// Errors that can list many items (images, files, kinds, lines) group them by cause, count each
// group and name only its first few: "27 images missing from REG/NS (a, b, c and 24 more)", one
// line per cause instead of one per item. With -v every name is listed.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

// How many names a line shows: `few`, or every one when -v (LogLevel::kInfo) is on.
size_t NamesShown(size_t few = 3);

// "a, b, c and 2 more": the first `few` of `names` and how many others there are.
std::string NameFirstFew(const std::vector<std::string>& names, size_t few = 3);

// "1 image", "27 images".
std::string Counted(size_t n, std::string_view singular, std::string_view plural);

// Names grouped by a cause key, groups in order of their first name, names in the order added.
class NameGroups {
 public:
  struct Group {
    std::string key;
    std::vector<std::string> names;
    size_t first = 0;  // the ordinal of the Add() that opened the group: where its representative is
  };

  // Adds `name` under `key`; returns the group's index.
  size_t Add(const std::string& key, std::string name);

  const std::vector<Group>& groups() const { return groups_; }
  bool empty() const { return groups_.empty(); }
  // Whether some group has more than `shown` names, so a line left names out.
  bool Truncated(size_t shown) const;

 private:
  std::vector<Group> groups_;
  size_t added_ = 0;
};

}  // namespace ferry
