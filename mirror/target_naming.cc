#include "mirror/target_naming.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/sha256.h"
#include "common/strings.h"
#include "mirror/image_reference.h"

namespace ferry {
namespace {

constexpr std::size_t kHashLength = 8;
constexpr std::size_t kDigestTagHexLength = 16;
constexpr std::size_t kMinFlatLength = kHashLength + 2;  // "x-" + hash

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    std::size_t slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// Makes `s` one valid path component: lowercase letters and digits, separated by '.', '_', '__'
// or '-'s; any other run of punctuation becomes '-', and leading/trailing punctuation goes. Valid
// components come back unchanged. Used on registry hosts ("127.0.0.1:5000" -> "127.0.0.1-5000").
std::string Legalise(std::string_view s) {
  std::string out;
  std::string run;  // punctuation since the last letter or digit
  for (char c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (!IsLowerAlnum(c)) {
      run += c;
      continue;
    }
    if (!out.empty() && !run.empty()) {
      bool dashes = run.find_first_not_of('-') == std::string::npos;
      out += (run == "." || run == "_" || run == "__" || dashes) ? run : "-";
    }
    run.clear();
    out += c;
  }
  return out;
}

// First 8 hex of sha256 of the source name: stable across runs and source sets.
std::string ShortHash(const ImageReference& source) {
  return Sha256Digest(source.Name()).substr(std::string_view("sha256:").size(), kHashLength);
}

// Fixed prefixes that say nothing about which image it is, dropped for readable flatten names:
// every Knative release image sits under gcr.io/knative-releases/ and then the Go module root.
constexpr std::string_view kKnativeProject = "knative-releases/";
constexpr std::string_view kKnativeModuleRoots[] = {"github.com/knative/", "knative.dev/"};
constexpr std::string_view kDockerOfficial = "library/";

// The source path with uninformative parts dropped: Knative's project and module root and its
// "cmd" directories, Docker Hub's "library/". Uniqueness is restored by PlanFlatNames.
std::vector<std::string> ShortPath(const ImageReference& source) {
  std::string_view path = source.repository;
  bool knative = false;
  if (path.starts_with(kKnativeProject)) {
    path.remove_prefix(kKnativeProject.size());
    for (std::string_view root : kKnativeModuleRoots) {
      if (path.starts_with(root) && path.size() > root.size()) {
        path.remove_prefix(root.size());
        knative = true;
        break;
      }
    }
  } else if (source.registry == kDockerHub && path.starts_with(kDockerOfficial)) {
    path.remove_prefix(kDockerOfficial.size());
  }
  std::vector<std::string> parts;
  for (std::string_view part : SplitPath(path)) {
    if (knative && part == "cmd") continue;
    parts.emplace_back(part);
  }
  if (parts.empty()) parts.emplace_back(path);
  return parts;
}

// How specific a flatten name is; a source moves up only while its name collides with another's.
enum class FlatLevel {
  kShort,         // serving-controller
  kFullPath,      // knative-releases-knative.dev-serving-cmd-controller
  kWithRegistry,  // gcr.io-knative-releases-knative.dev-serving-cmd-controller
  kWithHash,      // ...-1a2b3c4d
};

// Joins components with '-'. When `force_hash` or too long, appends "-<hash>" and, to fit,
// drops leading components first (the last ones tell images apart), then cuts the last one.
std::string RenderFlat(std::vector<std::string> parts, bool force_hash, std::size_t max,
                       const std::string& hash) {
  std::string joined = Join(parts, "-");
  if (!force_hash && joined.size() <= max) return joined;
  std::size_t room = max - hash.size() - 1;
  while (parts.size() > 1 && Join(parts, "-").size() > room) parts.erase(parts.begin());
  std::string head = Join(parts, "-");
  if (head.size() > room) head.resize(room);
  while (!head.empty() && !IsLowerAlnum(head.back())) head.pop_back();
  return head.empty() ? hash : head + "-" + hash;
}

std::string FlatName(const ImageReference& source, FlatLevel level, std::size_t max) {
  std::vector<std::string> parts;
  if (level == FlatLevel::kShort) {
    parts = ShortPath(source);
  } else {
    if (level >= FlatLevel::kWithRegistry) {
      std::string registry = Legalise(source.registry);
      if (!registry.empty()) parts.push_back(registry);
    }
    for (std::string_view part : SplitPath(source.repository)) parts.emplace_back(part);
  }
  return RenderFlat(std::move(parts), level == FlatLevel::kWithHash, max, ShortHash(source));
}

// Flatten names for every distinct source name (registry/repository), keyed by Name(). Each
// starts short; all members of a group sharing a name move one level up, until no names are
// shared. Groups move together so no source keeps an ambiguous short name, and the result
// depends on the set of names only, not their order.
std::map<std::string, std::string> PlanFlatNames(const std::vector<ImageReference>& sources,
                                                 std::size_t max) {
  std::map<std::string, std::pair<const ImageReference*, FlatLevel>> levels;
  for (const ImageReference& source : sources) {
    levels.emplace(source.Name(), std::make_pair(&source, FlatLevel::kShort));
  }
  std::map<std::string, std::string> names;
  while (true) {
    std::map<std::string, std::vector<std::string>> owners;  // flat name -> source names
    for (const auto& [name, entry] : levels) {
      names[name] = FlatName(*entry.first, entry.second, max);
      owners[names[name]].push_back(name);
    }
    bool moved = false;
    for (const auto& [flat, group] : owners) {
      if (group.size() < 2) continue;
      for (const std::string& name : group) {
        FlatLevel& level = levels[name].second;
        if (level == FlatLevel::kWithHash) continue;  // left to the collision check
        level = static_cast<FlatLevel>(static_cast<int>(level) + 1);
        moved = true;
      }
    }
    if (!moved) return names;
  }
}

// One piece of a naming template: literal text, or a placeholder name.
struct TemplatePiece {
  bool placeholder;
  std::string text;
};

constexpr std::string_view kPlaceholders[] = {"registry", "repository", "basename",
                                              "parent",   "flat",       "hash"};

Result<std::vector<TemplatePiece>> ParseTemplate(std::string_view pattern) {
  auto fail = [pattern](const std::string& reason) {
    return InvalidArgument("invalid naming template " + Quote(pattern) + ": " + reason);
  };
  if (pattern.empty()) return fail("the template strategy needs a pattern, e.g. {flat}");
  std::string known;
  for (std::string_view name : kPlaceholders) {
    known += (known.empty() ? "{" : ", {") + std::string(name) + "}";
  }

  std::vector<TemplatePiece> pieces;
  std::size_t i = 0;
  while (i < pattern.size()) {
    std::size_t open = pattern.find('{', i);
    if (open != i) {
      pieces.push_back({false, std::string(pattern.substr(i, open - i))});
      if (open == std::string_view::npos) break;
    }
    std::size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) {
      return fail("'{' at offset " + std::to_string(open) + " is not closed by '}'");
    }
    std::string name(pattern.substr(open + 1, close - open - 1));
    if (std::find(std::begin(kPlaceholders), std::end(kPlaceholders), name) ==
        std::end(kPlaceholders)) {
      return fail("unknown placeholder {" + name + "}; known: " + known);
    }
    pieces.push_back({true, name});
    i = close + 1;
  }
  return pieces;
}

std::string ExpandTemplate(const std::vector<TemplatePiece>& pieces, const ImageReference& source,
                           const std::string& flat) {
  std::string_view repository = source.repository;
  std::size_t slash = repository.rfind('/');
  std::string_view basename =
      slash == std::string_view::npos ? repository : repository.substr(slash + 1);
  std::string_view parent =
      slash == std::string_view::npos ? std::string_view() : repository.substr(0, slash);

  std::string raw;
  for (const TemplatePiece& piece : pieces) {
    if (!piece.placeholder) {
      raw += piece.text;
    } else if (piece.text == "registry") {
      raw += Legalise(source.registry);
    } else if (piece.text == "repository") {
      raw += repository;
    } else if (piece.text == "basename") {
      raw += basename;
    } else if (piece.text == "parent") {
      raw += parent;
    } else if (piece.text == "flat") {
      raw += flat;
    } else {
      raw += ShortHash(source);
    }
  }
  // An empty {parent} would leave "//" or a leading '/'; the user meant no component there.
  std::string out;
  for (char c : raw) {
    if (c == '/' && (out.empty() || out.back() == '/')) continue;
    out += c;
  }
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// The tag a target is pushed under. A digest-only source gets "<algorithm>-<16 hex>": a tag keeps
// the manifest from being garbage-collected as untagged, the digest prefix keeps it deterministic
// and tells pins apart (64 bits are plenty within one repository; the full digest is on the
// target anyway), and '-' because ':' is not allowed in a tag.
std::string TargetTag(const ImageReference& source) {
  if (!source.tag.empty()) return source.tag;
  if (source.digest.empty()) return "latest";
  std::size_t colon = source.digest.find(':');
  return source.digest.substr(0, colon) + "-" + source.digest.substr(colon + 1, kDigestTagHexLength);
}

Status CheckCollisions(const std::vector<ImageReference>& sources,
                       const std::vector<ImageReference>& targets) {
  struct Group {
    std::set<std::pair<std::string, std::string>> identities;  // (source name, tag)
    std::set<std::string> digests;
    std::set<std::string> spellings;
  };
  std::map<std::string, Group> groups;  // target registry/repository:tag -> sources
  for (std::size_t i = 0; i < sources.size(); ++i) {
    Group& group = groups[targets[i].Name() + ":" + targets[i].tag];
    group.identities.emplace(sources[i].Name(), targets[i].tag);
    if (!sources[i].digest.empty()) group.digests.insert(sources[i].digest);
    group.spellings.insert(sources[i].String());
  }
  std::string listing;
  std::size_t count = 0;
  for (const auto& [target, group] : groups) {
    // Different digests under one name:tag contradict each other: the tag could hold only one.
    if (group.identities.size() < 2 && group.digests.size() < 2) continue;
    ++count;
    listing += "\n  " + target + " <- ";
    bool first = true;
    for (const std::string& spelling : group.spellings) {
      listing += (first ? "" : ", ") + spelling;
      first = false;
    }
  }
  if (count == 0) return Status::Ok();
  return InvalidArgument(std::to_string(count) + " target " + (count == 1 ? "name is" : "names are") +
                         " claimed by more than one source image; choose another naming strategy "
                         "or a template that keeps them apart (e.g. with {registry} or {hash}):" +
                         listing);
}

}  // namespace

Result<NamingStrategy> ParseNamingStrategy(std::string_view text) {
  if (text == "preserve") return NamingStrategy::kPreserve;
  if (text == "flatten") return NamingStrategy::kFlatten;
  if (text == "template") return NamingStrategy::kTemplate;
  return InvalidArgument("unknown naming strategy " + Quote(text) +
                         "; expected preserve, flatten or template");
}

Result<TargetPrefix> TargetPrefix::Parse(std::string_view text) {
  auto fail = [text](const std::string& reason) {
    return InvalidArgument("invalid target " + Quote(text) + ": " + reason +
                           " (expected REGISTRY[/NAMESPACE], e.g. "
                           "registry.cn-hangzhou.aliyuncs.com/knative-mirror)");
  };
  std::string_view s = text;
  if (s.ends_with('/')) s.remove_suffix(1);
  if (s.empty()) return fail("it is empty");
  std::size_t slash = s.find('/');
  std::string_view registry = s.substr(0, slash);
  std::string_view ns = slash == std::string_view::npos ? std::string_view() : s.substr(slash + 1);

  // The reference grammar decides what is a registry: parse "<registry>/x/y" and see whether the
  // first component was taken as one (two components, so Docker Hub's "library/" is not added).
  Result<ImageReference> probe = ImageReference::Parse(std::string(registry) + "/x/y");
  if (!probe.ok()) return fail(probe.status().message());
  if (probe->repository != "x/y") {
    return fail(Quote(registry) +
                " is not a registry host (it needs a '.' or ':' or to be localhost; for Docker "
                "Hub write docker.io/" + std::string(registry) + ")");
  }
  TargetPrefix prefix;
  prefix.registry = probe->registry;
  if (!ns.empty()) {
    Status valid = ValidateRepository(ns);
    if (!valid.ok()) return fail("namespace: " + valid.message());
    prefix.ns = ns;
  }
  return prefix;
}

std::string TargetPrefix::String() const { return ns.empty() ? registry : registry + "/" + ns; }

Result<std::vector<ImageReference>> PlanTargets(const std::vector<ImageReference>& sources,
                                                const TargetPrefix& to,
                                                const NamingOptions& options) {
  if (options.max_repository_length < kMinFlatLength) {
    return InvalidArgument("maximum repository length " +
                           std::to_string(options.max_repository_length) +
                           " is too short to hold a name and its hash; use at least " +
                           std::to_string(kMinFlatLength));
  }
  std::vector<TemplatePiece> pieces;
  if (options.strategy == NamingStrategy::kTemplate) {
    Result<std::vector<TemplatePiece>> parsed = ParseTemplate(options.pattern);
    if (!parsed.ok()) return parsed.status();
    pieces = std::move(parsed).value();
  }
  std::map<std::string, std::string> flat;
  if (options.strategy != NamingStrategy::kPreserve) {
    flat = PlanFlatNames(sources, options.max_repository_length);
  }

  std::vector<ImageReference> targets;
  targets.reserve(sources.size());
  for (const ImageReference& source : sources) {
    std::string under_ns;
    switch (options.strategy) {
      case NamingStrategy::kPreserve:
        under_ns = source.repository;
        break;
      case NamingStrategy::kFlatten:
        under_ns = flat[source.Name()];
        break;
      case NamingStrategy::kTemplate:
        under_ns = ExpandTemplate(pieces, source, flat[source.Name()]);
        break;
    }
    ImageReference target;
    target.registry = to.registry;
    target.repository = to.ns.empty() ? under_ns : to.ns + "/" + under_ns;
    target.tag = TargetTag(source);
    target.digest = source.digest;
    Status valid = ValidateRepository(target.repository);
    if (!valid.ok()) {
      return InvalidArgument("cannot name the target of " + source.String() + " under " +
                             to.String() + ": " + valid.message());
    }
    targets.push_back(std::move(target));
  }
  FERRY_RETURN_IF_ERROR(CheckCollisions(sources, targets));
  return targets;
}

}  // namespace ferry
