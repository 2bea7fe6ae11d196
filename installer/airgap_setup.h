// The air-gap fixes an install makes by default (airgap_fixes.h holds each edit): the queue-proxy
// image must point at the mirror; the mirror skips Knative's tag resolution, or its CA is given to
// the controller; the domain and the ingress class are set; a pull secret for the mirror goes into
// every namespace and ServiceAccount. Run on the rewritten objects, before planning.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

struct AirgapSettings {
  std::string registry;          // the mirror's host[:port]
  std::string dockerconfigjson;  // the pull secret's content; empty: no pull secret
  std::string ca_pem;            // non-empty: trust this CA instead of skipping tag resolution
  std::string ca_source;         // the file it came from, for messages
  std::string domain;            // empty: leave config-domain as the release has it
  std::string ingress;           // "kourier", "istio", or empty
};

// Edits `objects` (and appends what it adds). Returns one note per change, for the user. A release
// without the ConfigMap an edit needs (0.6 has no config-deployment) gets a note, not an error,
// except for --domain, which the user asked for by name.
Result<std::vector<std::string>> ApplyAirgapSettings(std::vector<ManifestObject>& objects, const AirgapSettings& settings);

}  // namespace ferry::installer
