// Pushing the embedded sample apps: see sample_push.h.
#include "selftest/sample_push.h"

#include "mirror/copy_engine.h"
#include "mirror/memory_source.h"
#include "mirror/registry_sink.h"
#include "selftest/embedded_samples.h"
#include "selftest/sample_image.h"

namespace ferry {

Result<ImageReference> ParseSampleNamespace(const std::string& text) {
  // A probe app name makes "REGISTRY" alone parse as a registry rather than a Docker Hub repository.
  Result<ImageReference> ref = ImageReference::Parse(text + "/app");
  if (!ref.ok() || !ref->tag.empty() || !ref->digest.empty() || text.find('@') != std::string::npos)
    return InvalidArgument("\"" + text + "\" is not REGISTRY/NAMESPACE (for example localhost:5000/knative-samples; " +
                           "no tag or digest: each sample gets its own repository)");
  const std::string& repository = ref->repository;  // "NS/app", or "app" when there is no NS
  ref->repository = repository == "app" ? "" : repository.substr(0, repository.size() - 4);
  return ref;
}

Result<std::vector<PushedSample>> PushSampleImages(const ImageReference& ns, const std::string& tag,
                                                   RegistryPool& registries) {
  if (!IsValidTag(tag)) return InvalidArgument("\"" + tag + "\" is not a valid tag");
  MemorySource source("the sample apps built into ferry");
  std::vector<CopyImage> images;
  for (const EmbeddedSampleApp& app : EmbeddedSampleApps()) {
    Result<SampleImage> image = BuildSampleImage(app.name, app.binary);
    if (!image.ok()) return image.status();
    ImageReference target = ns;
    target.repository = ns.repository.empty() ? std::string(app.name) : ns.repository + "/" + std::string(app.name);
    target.tag = tag;
    source.AddBlob(std::move(image->config));
    source.AddBlob(std::move(image->layer));
    source.AddManifest(std::string(app.name), tag, std::move(image->manifest));
    images.push_back({target.String(), {std::string(app.name), tag, ""}, {target.Name(), tag, ""}});
  }
  RegistrySink sink(registries, nullptr);
  CopyReport report = RunCopy(source, sink, images, {.jobs = 2, .attachments = false});
  std::vector<PushedSample> pushed;
  for (const ImageResult& r : report.images) {
    if (!r.status.ok()) return r.status.WithContext("pushing " + r.image.name);
    Result<ImageReference> image = ImageReference::Parse(r.image.name);
    if (!image.ok()) return image.status();
    image->digest = r.digest;
    pushed.push_back({.name = r.image.from.repository, .image = *image, .size = r.size});
  }
  return pushed;
}

}  // namespace ferry
