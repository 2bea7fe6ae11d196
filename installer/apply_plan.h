// The install order: the objects of a release set grouped into waves by dependency, as kapp and
// cli-utils order them, with what to wait for after each wave. Objects inside a wave do not
// depend on each other and are applied concurrently. Pure: no cluster needed (`ferry install
// --plan` prints this).
//
// Waves, in order (empty waves are left out):
//  1. namespaces and CRDs           then wait: every CRD Established, then refresh discovery
//  2. configuration and RBAC        (roles, bindings, ServiceAccounts, ConfigMaps, Secrets,
//                                    Services, quotas, PDBs, ...)
//  3. workloads                     then wait: the Deployments behind the webhooks Available
//  4. admission and custom resources (webhook configurations, APIServices, objects of kinds a CRD
//                                    defines, whether the CRD is in the set or preinstalled)
//  5. the rest                      (Jobs, CronJobs, Ingresses, other built-in kinds)
// and after the last wave: wait until every object that has a readiness rule is ready.
// When the set has custom resources but no webhook configuration (Knative 0.6's webhook registers
// itself at run time), the wait after the workloads is for all of the wave's Deployments.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "installer/manifest_objects.h"

namespace ferry::installer {

// Holds the sha256 of a Job's spec, so that a changed Job (Jobs are immutable) is recognised and
// recreated rather than patched.
inline constexpr char kJobSpecHashAnnotation[] = "ferry.dev/job-spec-sha256";

enum class WaitFor {
  kNothing,
  kCrdsEstablished,       // CRDs Established, then discovery refreshed
  kDeploymentsAvailable,  // the webhook Deployments (or all of the wave's) Available
  kAllReady,              // every object with a readiness rule ready (readiness.h)
};

// "crds-established", "deployments-available", "all-ready", "nothing".
const char* WaitForName(WaitFor wait);

struct ApplyWave {
  std::string name;                     // "namespaces and CRDs", ...
  std::vector<ManifestObject> objects;  // grouped by kind (cli-utils order), file order inside
  WaitFor wait = WaitFor::kNothing;
  std::vector<ObjectKey> wait_for;  // the objects the wait is about
  std::string wait_text;            // "webhook Deployments available: knative-serving/webhook"
};

struct PlanOptions {
  std::string component = "serving";  // for stable Job names
  std::string version;                // "1.23.0"; empty: each Job's app.kubernetes.io/version label
};

struct ApplyPlan {
  std::vector<ApplyWave> waves;
  std::vector<ObjectKey> webhook_deployments;
  std::vector<std::string> warnings;  // things ferry cannot wait for, duplicates replaced, ...
};

// Plans `objects` (file order), after the air-gap edits (airgap_fixes.h) so that Job spec hashes
// cover them. Jobs named only by generateName get stable names first (NameGeneratedJobs). When
// two objects have the same key, the later one wins (as with kubectl apply); when their contents
// differ, a warning names both places. Errors: InvalidArgument naming file:line for an object
// other than a Job that has only generateName, or a Job whose version cannot be found.
Result<ApplyPlan> PlanApply(std::vector<ManifestObject> objects, const PlanOptions& options = {});

// The workloads (Deployment, StatefulSet, DaemonSet) that serve the set's admission webhooks and
// CRD conversion webhooks: clientConfig.service -> that Service's selector -> the workloads whose
// pod template labels match it. Webhooks whose Service or workload is not in the set are reported
// in `warnings` (may be null).
std::vector<ObjectKey> WebhookDeployments(const std::vector<ManifestObject>& objects,
                                          std::vector<std::string>* warnings);

// "<generateName><component>-<version>", as the Knative Operator names post-install Jobs:
// ("storage-version-migration-serving-", "serving", "1.23.0") ->
// "storage-version-migration-serving-serving-1.23.0".
std::string StableJobName(const std::string& generate_name, const std::string& component,
                          const std::string& version);

// Gives every Job that has only metadata.generateName its stable name (generateName removed) and
// sets kJobSpecHashAnnotation on every Job.
Status NameGeneratedJobs(std::vector<ManifestObject>& objects, const PlanOptions& options);

// True when the live Job must be deleted and created again: its spec hash differs from the one
// wanted (a live Job without the annotation was not made by ferry from this spec).
bool JobNeedsRecreate(const nlohmann::json& live, const nlohmann::json& wanted);

// For --plan: one line per wave, its objects ("  Kind namespace/name"), then the wait.
std::string RenderPlanText(const ApplyPlan& plan);

// {"waves": [{"name", "objects": [{"group","kind","namespace","name","file","line"}],
//   "wait": {"for", "objects": ["Kind ns/name", ...], "text"}}], "webhookDeployments", "warnings"}
nlohmann::json RenderPlanJson(const ApplyPlan& plan);

}  // namespace ferry::installer
