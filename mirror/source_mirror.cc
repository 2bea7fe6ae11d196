#include "mirror/source_mirror.h"

#include <string>
#include <string_view>
#include <utility>

namespace ferry {
namespace {

// Whether `host` is a registry host in the reference grammar, and its normalised spelling: parse
// "<host>/x/y" and check the first component was taken as the registry.
Result<std::string> NormaliseRegistry(std::string_view host) {
  Result<ImageReference> probe = ImageReference::Parse(std::string(host) + "/x/y");
  if (!probe.ok()) return probe.status();
  if (probe->repository != "x/y") {
    return InvalidArgument("\"" + std::string(host) +
                           "\" is not a registry host (it needs a '.' or ':' or to be localhost)");
  }
  return probe->registry;
}

}  // namespace

Result<SourceMirror> ParseSourceMirror(std::string_view spec) {
  auto fail = [spec](const std::string& reason) {
    return InvalidArgument("invalid --source-mirror \"" + std::string(spec) + "\": " + reason +
                           " (expected REGISTRY=HOST[/PREFIX], e.g. gcr.io=127.0.0.1:5000/gcr)");
  };
  std::size_t equals = spec.find('=');
  if (equals == std::string_view::npos) return fail("no '='");
  std::string_view registry = spec.substr(0, equals);
  std::string_view location = spec.substr(equals + 1);
  if (location.ends_with('/')) location.remove_suffix(1);
  if (registry.empty()) return fail("the registry before '=' is empty");
  if (location.empty()) return fail("the host after '=' is empty");
  if (registry.find('/') != std::string_view::npos) {
    return fail("the part before '=' must be a registry alone, without a path");
  }

  SourceMirror mirror;
  Result<std::string> original = NormaliseRegistry(registry);
  if (!original.ok()) return fail(original.status().message());
  mirror.registry = std::move(original).value();

  std::size_t slash = location.find('/');
  Result<std::string> host = NormaliseRegistry(location.substr(0, slash));
  if (!host.ok()) return fail(host.status().message());
  mirror.host = std::move(host).value();
  if (slash != std::string_view::npos) {
    mirror.prefix = location.substr(slash + 1);
    Status valid = ValidateRepository(mirror.prefix);
    if (!valid.ok()) return fail("prefix: " + valid.message());
  }
  return mirror;
}

Status SourceMirrors::Add(SourceMirror mirror) {
  auto [it, inserted] = mirrors_.emplace(mirror.registry, mirror);
  if (inserted || it->second == mirror) return Status::Ok();
  auto spell = [](const SourceMirror& m) {
    return m.prefix.empty() ? m.host : m.host + "/" + m.prefix;
  };
  return InvalidArgument("two source mirrors for " + mirror.registry + ": " + spell(it->second) +
                         " and " + spell(mirror) + "; give one --source-mirror per registry");
}

ImageReference SourceMirrors::Resolve(const ImageReference& original) const {
  auto it = mirrors_.find(original.registry);
  if (it == mirrors_.end()) return original;
  ImageReference fetch = original;
  fetch.registry = it->second.host;
  if (!it->second.prefix.empty()) fetch.repository = it->second.prefix + "/" + original.repository;
  return fetch;
}

}  // namespace ferry
