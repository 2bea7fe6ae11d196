// Pushing the embedded sample apps: see sample_push.h.
#include "selftest/sample_push.h"

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
  std::vector<PushedSample> pushed;
  for (const EmbeddedSampleApp& app : EmbeddedSampleApps()) {
    ImageReference target = ns;
    target.repository = ns.repository.empty() ? std::string(app.name) : ns.repository + "/" + std::string(app.name);
    target.tag = tag;
    Result<SampleImage> image = BuildSampleImage(app.name, app.binary);
    if (!image.ok()) return image.status();
    Result<RegistryClient*> registry = registries.For(target, /*push=*/true);
    if (!registry.ok()) return registry.status().WithContext(target.String());
    Status status = PushSampleImage(**registry, target.repository, tag, *image);
    if (!status.ok()) return status.WithContext("pushing " + target.String());
    target.digest = image->manifest.digest;
    pushed.push_back({.name = std::string(app.name),
                      .image = target,
                      .size = static_cast<int64_t>(image->manifest.bytes.size() + image->config.size() +
                                                   image->layer.size())});
  }
  return pushed;
}

}  // namespace ferry
