// The default air-gap edits in order; see airgap_setup.h.
#include "installer/airgap_setup.h"

#include "installer/airgap_fixes.h"

namespace ferry::installer {

Result<std::vector<std::string>> ApplyAirgapSettings(std::vector<ManifestObject>& objects, const AirgapSettings& settings) {
  std::vector<std::string> notes;
  Status queue = CheckQueueProxyImage(objects, settings.registry);
  if (!queue.ok() && queue.code() != StatusCode::kNotFound) return queue;
  if (settings.ca_pem.empty()) {
    Status skip = SkipTagResolution(objects, settings.registry);
    if (skip.ok()) notes.push_back("config-deployment: " + settings.registry + " skips tag resolution");
    else if (skip.code() == StatusCode::kNotFound) notes.push_back("tag resolution left as is: " + skip.message());
    else return skip;
  } else {
    Result<ManifestObject> ca = TrustRegistryCa(objects, settings.ca_pem, settings.ca_source);
    if (!ca.ok()) return ca.status();
    objects.push_back(std::move(*ca));
    notes.push_back("the controller trusts the registry CA from " + settings.ca_source);
  }
  if (!settings.domain.empty()) {
    FERRY_RETURN_IF_ERROR(SetDomain(objects, settings.domain));
    notes.push_back("config-domain: " + settings.domain);
  }
  if (!settings.ingress.empty()) {
    Status ingress = SelectIngress(objects, settings.ingress);
    if (ingress.ok()) notes.push_back("config-network: ingress class " + settings.ingress);
    else if (ingress.code() == StatusCode::kNotFound || ingress.code() == StatusCode::kUnsupported)
      notes.push_back("ingress class left as is: " + ingress.message());
    else return ingress;
  }
  if (!settings.dockerconfigjson.empty()) {
    Result<std::vector<ManifestObject>> secrets = AddPullSecret(objects, settings.registry, settings.dockerconfigjson);
    if (!secrets.ok()) return secrets.status();
    notes.push_back("pull secret " + std::string(kPullSecretName) + " in " + std::to_string(secrets->size()) + " namespace(s)");
    for (ManifestObject& s : *secrets) objects.push_back(std::move(s));
  }
  return notes;
}

}  // namespace ferry::installer
