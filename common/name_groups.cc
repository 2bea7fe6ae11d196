// Grouped, counted name lists; see name_groups.h.
#include "common/name_groups.h"

#include <algorithm>

#include "common/log.h"

namespace ferry {

size_t NamesShown(size_t few) { return LogEnabled(LogLevel::kInfo) ? static_cast<size_t>(-1) : few; }

std::string NameFirstFew(const std::vector<std::string>& names, size_t few) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < few; ++i) out += (i == 0 ? "" : ", ") + names[i];
  if (names.size() > few) out += " and " + std::to_string(names.size() - few) + " more";
  return out;
}

std::string Counted(size_t n, std::string_view singular, std::string_view plural) {
  return std::to_string(n) + " " + std::string(n == 1 ? singular : plural);
}

size_t NameGroups::Add(const std::string& key, std::string name) {
  auto it = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.key == key; });
  if (it == groups_.end()) it = groups_.insert(groups_.end(), Group{.key = key, .first = added_});
  ++added_;
  it->names.push_back(std::move(name));
  return static_cast<size_t>(it - groups_.begin());
}

bool NameGroups::Truncated(size_t shown) const {
  return std::any_of(groups_.begin(), groups_.end(), [&](const Group& g) { return g.names.size() > shown; });
}

}  // namespace ferry
