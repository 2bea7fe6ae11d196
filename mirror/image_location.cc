#include "mirror/image_location.h"

#include "mirror/archive_sink.h"
#include "mirror/docker_archive_source.h"
#include "mirror/layout_sink.h"
#include "mirror/layout_source.h"
#include "mirror/registry_sink.h"
#include "mirror/registry_source.h"

namespace ferry {
namespace {

struct Prefix {
  std::string_view text;
  Transport transport;
};
constexpr Prefix kPrefixes[] = {{"docker://", Transport::kDocker},
                                {"oci-archive:", Transport::kOciArchive},
                                {"docker-archive:", Transport::kDockerArchive},
                                {"oci:", Transport::kOci}};

std::string_view PrefixOf(Transport t) {
  for (const Prefix& p : kPrefixes)
    if (p.transport == t) return p.text;
  return "";
}

}  // namespace

std::string ImageLocation::String() const {
  if (transport == Transport::kDocker) return "docker://" + reference.String();
  return std::string(PrefixOf(transport)) + path + (name.empty() ? "" : ":" + name);
}

Result<ImageLocation> ParseImageLocation(std::string_view text) {
  ImageLocation location;
  for (const Prefix& p : kPrefixes) {
    if (!text.starts_with(p.text)) continue;
    location.transport = p.transport;
    std::string_view rest = text.substr(p.text.size());
    if (p.transport == Transport::kDocker) break;
    size_t colon = rest.find(':');
    location.path = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) location.name = std::string(rest.substr(colon + 1));
    if (location.path.empty())
      return InvalidArgument("\"" + std::string(text) + "\": no path after " + std::string(p.text));
    return location;
  }
  std::string_view reference = text.starts_with("docker://") ? text.substr(9) : text;
  if (reference.find("://") != std::string_view::npos || reference.starts_with("dir:") ||
      reference.starts_with("containers-storage:") || reference.starts_with("docker-daemon:"))
    return InvalidArgument("\"" + std::string(text) + "\": unknown transport; ferry reads docker://, oci:, " +
                           "oci-archive: and docker-archive:");
  Result<ImageReference> ref = ImageReference::Parse(reference);
  if (!ref.ok()) return ref.status();
  location.reference = *ref;
  return location;
}

Result<OpenedSource> OpenSource(const ImageLocation& location, RegistryPool& registries) {
  OpenedSource opened;
  switch (location.transport) {
    case Transport::kDocker:
      opened.source = std::make_unique<RegistrySource>(registries, 0);
      opened.image = {location.reference.Name(), location.reference.tag, location.reference.digest};
      if (opened.image.identifier().empty()) opened.image.tag = "latest";
      return opened;
    case Transport::kOci:
    case Transport::kOciArchive: {
      Result<std::unique_ptr<LayoutSource>> layout = LayoutSource::Open(location.path);
      if (!layout.ok()) return layout.status();
      if (location.name.empty()) {
        // Like skopeo: the only image of the layout.
        Result<std::vector<std::string>> tags = (*layout)->ListTags("");
        std::vector<LayoutImage> images;
        if (Result<std::vector<LayoutImage>> all = (*layout)->Images(); all.ok()) images = *all;
        if (images.size() == 1) opened.image = images.front().at;
        else if (tags.ok() && tags->size() == 1) opened.image = {"", tags->front(), ""};
        else return InvalidArgument(location.String() + ": name the image (" + std::string(PrefixOf(location.transport)) +
                                    location.path + ":NAME): the layout does not hold exactly one");
      } else {
        opened.image = ParseRefName(location.name);
      }
      opened.source = std::move(*layout);
      return opened;
    }
    case Transport::kDockerArchive: {
      Result<std::unique_ptr<DockerArchiveSource>> archive = DockerArchiveSource::Open(location.path);
      if (!archive.ok()) return archive.status();
      Result<ImageLocator> image = (*archive)->Find(location.name);
      if (!image.ok()) return image.status();
      opened.image = *image;
      opened.source = std::move(*archive);
      return opened;
    }
  }
  return Internal("unknown transport");
}

Result<OpenedSink> OpenSink(const ImageLocation& location, const std::string& source_tag, RegistryPool& registries,
                            BlobLocations* locations) {
  OpenedSink opened;
  switch (location.transport) {
    case Transport::kDocker: {
      const ImageReference& ref = location.reference;
      opened.sink = std::make_unique<RegistrySink>(registries, locations);
      opened.image = {ref.Name(), ref.tag, ref.digest};
      // Like docker: a destination without tag or digest takes the source's tag.
      if (opened.image.tag.empty() && opened.image.digest.empty()) opened.image.tag = source_tag;
      return opened;
    }
    case Transport::kOci: {
      Result<std::unique_ptr<LayoutSink>> layout = LayoutSink::Open(location.path);
      if (!layout.ok()) return layout.status();
      opened.sink = std::move(*layout);
      opened.image = location.name.empty() ? ImageLocator{"", source_tag, ""} : ParseRefName(location.name);
      return opened;
    }
    case Transport::kOciArchive: {
      Result<std::unique_ptr<ArchiveSink>> archive = ArchiveSink::Create(location.path, {}, std::nullopt);
      if (!archive.ok()) return archive.status();
      opened.sink = std::move(*archive);
      opened.image = location.name.empty() ? ImageLocator{"", source_tag, ""} : ParseRefName(location.name);
      return opened;
    }
    case Transport::kDockerArchive:
      return InvalidArgument(location.String() + ": ferry does not write docker-archive files; use " +
                             "oci-archive:FILE[:NAME], which docker, containerd and skopeo read too");
  }
  return Internal("unknown transport");
}

}  // namespace ferry
