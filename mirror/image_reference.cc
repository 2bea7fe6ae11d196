#include "mirror/image_reference.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/http_client.h"
#include "common/strings.h"

namespace ferry {
namespace {

constexpr std::string_view kLegacyDockerHub = "index.docker.io";
constexpr std::string_view kDockerHubApiHost = "registry-1.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr std::string_view kDockerTransport = "docker://";
constexpr std::size_t kMaxRepositoryLength = 255;
constexpr std::size_t kMaxTagLength = 128;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsAlnum(char c) { return IsLowerAlnum(c) || IsUpper(c); }
bool IsWord(char c) { return IsAlnum(c) || c == '_'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsLowerHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f'); }

bool HasUpper(std::string_view s) {
  for (char c : s) {
    if (IsUpper(c)) return true;
  }
  return false;
}

bool AllOf(std::string_view s, bool (*pred)(char)) {
  for (char c : s) {
    if (!pred(c)) return false;
  }
  return true;
}

// "a/b//c" -> {"a", "b", "", "c"}; empty parts are kept so callers can report them.
std::vector<std::string_view> Split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    std::size_t end = s.find(separator, start);
    if (end == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, end - start));
    start = end + 1;
  }
}

std::string CharName(char c) {
  if (c == ' ') return "a space";
  auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u >= 0x7f) return "a control or non-ASCII character";
  return std::string("'") + c + "'";
}

// The checks below return an empty string when the part is valid, else the reason it is not.

// One path component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
std::string CheckPathComponent(std::string_view component) {
  const std::string kAllowed =
      "; a path component is lowercase letters and digits, separated by '.', '_', '__' or '-'";
  std::size_t i = 0;
  while (true) {
    std::size_t run = i;
    while (i < component.size() && IsLowerAlnum(component[i])) ++i;
    if (i == run) {
      if (i < component.size() &&
          std::string_view("._-").find(component[i]) == std::string_view::npos) {
        return "path component " + Quote(component) + " contains " + CharName(component[i]) +
               kAllowed;
      }
      if (i == 0) {
        return "path component " + Quote(component) +
               " must start with a lowercase letter or digit" + kAllowed;
      }
      if (i == component.size()) {
        return "path component " + Quote(component) + " must not end with a separator" + kAllowed;
      }
      return "path component " + Quote(component) + " has separators in a row" + kAllowed;
    }
    if (i == component.size()) return "";
    char c = component[i];
    if (c == '.') {
      ++i;
    } else if (c == '_') {
      ++i;
      if (i < component.size() && component[i] == '_') ++i;
    } else if (c == '-') {
      while (i < component.size() && component[i] == '-') ++i;
    } else {
      return "path component " + Quote(component) + " contains " + CharName(c) + kAllowed;
    }
  }
}

std::string CheckPath(std::string_view path) {
  if (path.empty()) return "repository name is empty";
  if (HasUpper(path)) return "repository name must be lowercase";
  for (std::string_view component : Split(path, '/')) {
    if (component.empty()) {
      return "repository name " + Quote(path) +
             " has an empty path component (a leading, trailing or doubled '/')";
    }
    if (std::string reason = CheckPathComponent(component); !reason.empty()) return reason;
  }
  if (path.size() > kMaxRepositoryLength) {
    return "repository name must not be more than " + std::to_string(kMaxRepositoryLength) +
           " characters (it has " + std::to_string(path.size()) + ")";
  }
  return "";
}

std::string CheckPort(std::string_view registry, std::string_view port) {
  if (!port.empty() && AllOf(port, IsDigit)) return "";
  std::string reason =
      "registry " + Quote(registry) + " has port " + Quote(port) + ", which is not a number";
  if (port.find(':') != std::string_view::npos) {
    reason += " (an IPv6 address must be written in brackets, e.g. [::1]:5000)";
  }
  return reason;
}

// host[:port], where host is a DNS-like name, an IPv4 address, or an IPv6 address in brackets.
std::string CheckRegistry(std::string_view registry) {
  if (registry.empty()) return "registry is empty";
  if (registry.front() == '[') {
    std::size_t close = registry.find(']');
    if (close == std::string_view::npos) {
      return "registry " + Quote(registry) + " opens an IPv6 address with '[' but has no ']'";
    }
    std::string_view address = registry.substr(1, close - 1);
    if (address.empty() || !AllOf(address, [](char c) { return IsHex(c) || c == ':'; })) {
      return "registry " + Quote(registry) +
             " is not a valid IPv6 address: only hex digits and ':' may appear in brackets "
             "(no zone, no embedded IPv4)";
    }
    std::string_view after = registry.substr(close + 1);
    if (after.empty()) return "";
    if (after.front() != ':') {
      return "registry " + Quote(registry) + " has " + CharName(after.front()) +
             " after ']' where only :port may follow";
    }
    return CheckPort(registry, after.substr(1));
  }

  std::size_t colon = registry.find(':');
  std::string_view host = registry.substr(0, colon);
  if (host.empty()) return "registry " + Quote(registry) + " has an empty host name";
  for (std::string_view label : Split(host, '.')) {
    if (label.empty()) {
      return "registry host " + Quote(host) +
             " has an empty label (a leading, trailing or doubled '.')";
    }
    for (char c : label) {
      if (!IsAlnum(c) && c != '-') {
        return "registry host " + Quote(host) + " contains " + CharName(c) +
               "; a host name is letters, digits, '-' and '.'";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "registry host " + Quote(host) + " has a label that starts or ends with '-'";
    }
  }
  if (colon == std::string_view::npos) return "";
  return CheckPort(registry, registry.substr(colon + 1));
}

// [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
std::string CheckTag(std::string_view tag) {
  if (tag.empty()) return "tag is empty after ':'";
  if (!IsWord(tag.front())) {
    return "tag " + Quote(tag) + " must start with a letter, digit or '_'";
  }
  for (char c : tag) {
    if (!IsWord(c) && c != '.' && c != '-') {
      return "tag " + Quote(tag) + " contains " + CharName(c) +
             "; a tag is letters, digits, '_', '.' and '-'";
    }
  }
  if (tag.size() > kMaxTagLength) {
    return "tag must not be more than " + std::to_string(kMaxTagLength) + " characters (it has " +
           std::to_string(tag.size()) + ")";
  }
  return "";
}

// algorithm ":" hex, where the grammar allows algorithm components joined by [-_+.] and 32+ hex
// digits; of those only the algorithms a registry can verify are accepted, with exact lengths.
std::string CheckDigest(std::string_view digest) {
  const std::string kExample = "; expected e.g. sha256:<64 lowercase hex characters>";
  if (digest.empty()) return "digest is empty after '@'";
  std::size_t colon = digest.find(':');
  if (colon == std::string_view::npos) {
    return "digest " + Quote(digest) + " has no algorithm" + kExample;
  }
  std::string_view algorithm = digest.substr(0, colon);
  std::string_view hex = digest.substr(colon + 1);

  bool component_start = true;
  for (char c : algorithm) {
    bool ok = component_start ? (IsLower(c) || IsUpper(c))
                              : (IsAlnum(c) || c == '-' || c == '_' || c == '+' || c == '.');
    if (!ok) return "digest algorithm " + Quote(algorithm) + " is malformed" + kExample;
    component_start = (c == '-' || c == '_' || c == '+' || c == '.');
  }
  if (algorithm.empty() || component_start) {
    return "digest algorithm " + Quote(algorithm) + " is malformed" + kExample;
  }
  for (char c : hex) {
    if (!IsHex(c)) {
      return "digest " + Quote(digest) + " contains " + CharName(c) + " in its hex part" + kExample;
    }
  }

  std::size_t want = 0;
  if (algorithm == "sha256") {
    want = 64;
  } else if (algorithm == "sha384") {
    want = 96;
  } else if (algorithm == "sha512") {
    want = 128;
  } else {
    return "digest algorithm " + Quote(algorithm) +
           " is not supported (supported: sha256, sha384, sha512)";
  }
  if (hex.size() != want) {
    return std::string(algorithm) + " digest must have " + std::to_string(want) +
           " hex characters (it has " + std::to_string(hex.size()) + ")";
  }
  if (!AllOf(hex, IsLowerHex)) return "digest " + Quote(digest) + " must use lowercase hex";
  return "";
}

// Mirrors splitDockerDomain: which first components name a registry rather than a path.
bool LooksLikeRegistry(std::string_view first) {
  return first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
         HasUpper(first);
}

// What `docker images` prints as IMAGE ID, in full; never a name.
bool IsImageId(std::string_view s) { return s.size() == 64 && AllOf(s, IsLowerHex); }

}  // namespace

Result<ImageReference> ImageReference::Parse(std::string_view text) {
  auto fail = [text](const std::string& reason) {
    return InvalidArgument("invalid image reference " + Quote(text) + ": " + reason);
  };

  std::string_view s = text;
  if (s.starts_with(kDockerTransport)) s.remove_prefix(kDockerTransport.size());
  if (s.empty()) return fail(text.empty() ? "reference is empty" : "nothing follows docker://");
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return fail("contains " + CharName(c) + ", which no part of a reference may hold");
    }
  }
  if (s.find("://") != std::string_view::npos) {
    return fail(
        "looks like a URL; write the reference without a scheme (only the docker:// "
        "transport prefix is accepted)");
  }
  if (IsImageId(s)) {
    return fail(
        "cannot specify 64-byte hexadecimal strings: this looks like an image ID, not a name "
        "(write repository@sha256:<hex> to pin a digest)");
  }

  // name[:tag][@digest]: neither a name nor a tag may contain '@'.
  std::size_t at = s.find('@');
  std::string_view name_and_tag = s.substr(0, at);
  std::string_view digest = at == std::string_view::npos ? std::string_view() : s.substr(at + 1);

  ImageReference ref;
  std::string_view rest = name_and_tag;
  std::size_t slash = name_and_tag.find('/');
  std::string_view first = name_and_tag.substr(0, slash);
  if (slash != std::string_view::npos && LooksLikeRegistry(first)) {
    ref.registry = first == kLegacyDockerHub ? std::string(kDockerHub) : std::string(first);
    rest = name_and_tag.substr(slash + 1);
  } else {
    ref.registry = kDockerHub;
  }

  // The registry is split off, so the first ':' left can only start the tag.
  std::size_t colon = rest.find(':');
  std::string_view path = rest.substr(0, colon);
  if (path.empty()) return fail("repository name is empty");
  if (HasUpper(path)) return fail("repository name must be lowercase");
  if (ref.registry == kDockerHub && path.find('/') == std::string_view::npos) {
    ref.repository = kOfficialPrefix;
  }
  ref.repository += path;

  if (std::string reason = CheckRegistry(ref.registry); !reason.empty()) return fail(reason);
  if (std::string reason = CheckPath(ref.repository); !reason.empty()) return fail(reason);
  if (colon != std::string_view::npos) {
    ref.tag = rest.substr(colon + 1);
    if (std::string reason = CheckTag(ref.tag); !reason.empty()) return fail(reason);
  }
  if (at != std::string_view::npos) {
    ref.digest = digest;
    if (std::string reason = CheckDigest(ref.digest); !reason.empty()) return fail(reason);
  }
  return ref;
}

std::string ImageReference::Name() const { return registry + "/" + repository; }

std::string ImageReference::String() const {
  std::string out = Name();
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string ImageReference::Familiar() const {
  std::string out;
  if (registry == kDockerHub) {
    std::string_view path = repository;
    std::string_view first = path.substr(0, path.find('/'));
    if (path.starts_with(kOfficialPrefix) &&
        path.substr(kOfficialPrefix.size()).find('/') == std::string_view::npos) {
      out = path.substr(kOfficialPrefix.size());
    } else if (path.find('/') != std::string_view::npos && LooksLikeRegistry(first)) {
      // Upstream would print "foo.bar/app", which reads back as registry foo.bar.
      out = Name();
    } else {
      out = path;
    }
  } else {
    out = Name();
  }
  if (tag.empty() && digest.empty() && IsImageId(out)) {
    out = Name();  // a bare 64-hex string would read back as an image ID
  }
  if (!tag.empty()) out += ":" + tag;
  if (!digest.empty()) out += "@" + digest;
  return out;
}

std::string ImageReference::ManifestIdentifier() const {
  if (!digest.empty()) return digest;
  if (!tag.empty()) return tag;
  return "latest";
}

std::string ImageReference::ApiHost() const {
  return registry == kDockerHub ? std::string(kDockerHubApiHost) : registry;
}

bool ImageReference::IsLoopback() const { return IsLoopbackHost(registry); }

Status ValidateRepository(std::string_view repository) {
  if (std::string reason = CheckPath(repository); !reason.empty()) {
    return InvalidArgument("invalid repository " + Quote(repository) + ": " + reason);
  }
  return Status::Ok();
}

bool IsValidTag(std::string_view tag) { return CheckTag(tag).empty(); }

bool IsValidDigest(std::string_view digest) { return CheckDigest(digest).empty(); }

}  // namespace ferry
