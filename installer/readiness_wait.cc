// Polling objects until they are ready; see readiness_wait.h.
#include "installer/readiness_wait.h"

#include <cctype>
#include <map>
#include <set>
#include <thread>

#include "common/name_groups.h"
#include "installer/failure_report.h"

namespace ferry::installer {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

std::string NameOf(const json& object) {
  if (!object.contains("metadata")) return "";
  return object["metadata"].value("name", "");
}

// The live copies of `objects` (null where absent), from one List per resource and namespace.
KubeResult<std::vector<json>> ReadAll(KubeClient& client, const std::vector<ManifestObject>& objects,
                                      const std::vector<size_t>& which, Deadline deadline) {
  std::vector<json> live(objects.size());
  std::map<std::string, std::vector<size_t>> groups;  // "label/ns" -> indexes
  std::map<std::string, ResourceRef> refs;
  for (size_t i : which) {
    const json& o = objects[i].object;
    KubeResult<ResourceRef> ref = client.Resolve(o.value("apiVersion", ""), o.value("kind", ""));
    if (!ref.ok()) {
      if (ref.error().IsNotFound()) continue;  // the kind is not served (yet): not there
      return ref.error();
    }
    std::string ns = client.NamespaceFor(*ref, objects[i].key.ns);
    std::string group = ref->Label() + "/" + ns;
    groups[group].push_back(i);
    refs.emplace(group, *ref);
  }
  for (const auto& [group, indexes] : groups) {
    const ResourceRef& ref = refs.at(group);
    std::string ns = client.NamespaceFor(ref, objects[indexes.front()].key.ns);
    KubeResult<json> list = client.List(ref, ns, {.deadline = deadline});
    if (!list.ok()) {
      if (list.error().IsNotFound()) continue;
      return list.error();
    }
    std::map<std::string, const json*> by_name;
    for (const json& item : (*list)["items"]) by_name[NameOf(item)] = &item;
    for (size_t i : indexes) {
      auto it = by_name.find(objects[i].key.name);
      if (it != by_name.end()) live[i] = *it->second;
    }
  }
  return live;
}

std::string Summary(const std::vector<Readiness>& pending, size_t total) {
  std::string text = std::to_string(total - pending.size()) + " of " + std::to_string(total) + " ready";
  if (pending.empty()) return text;
  std::vector<std::string> waiting;
  for (const Readiness& r : pending) waiting.push_back(r.message);
  return text + "; waiting for " + NameFirstFew(waiting, NamesShown(4));
}

// A problem line with its counts blanked ("(3 restarts)"), so a growing count is not news.
std::string ProblemKey(const std::string& line) {
  std::string key;
  for (char c : line)
    if (!std::isdigit(static_cast<unsigned char>(c))) key += c;
  return key;
}

}  // namespace

KubeResult<WaitOutcome> WaitUntilReady(KubeClient& client, const std::vector<ManifestObject>& objects,
                                       const WaitOptions& options, InstallProgress& progress) {
  WaitOutcome outcome;
  std::vector<size_t> pending(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) pending[i] = i;
  std::vector<json> last(objects.size());
  std::string shown;
  std::set<std::string> problems_shown;
  auto next_problems = Clock::now() + options.problems_every;
  while (true) {
    ++outcome.rounds;
    KubeResult<std::vector<json>> live = ReadAll(client, objects, pending, options.deadline);
    if (!live.ok()) {
      // Transient trouble reading is not a reason to stop waiting while time remains.
      if (!live.error().IsRetryable() || Clock::now() >= options.deadline) return live.error();
    } else {
      std::vector<size_t> still;
      std::vector<Readiness> states;
      for (size_t i : pending) {
        last[i] = (*live)[i];
        Readiness r = last[i].is_null()
                          ? Readiness{ReadyState::kInProgress, objects[i].key.ToString() + ": not found yet"}
                          : ReadinessOf(last[i], options.readiness);
        if (r.waived) outcome.waived.push_back(r);
        if (r.state != ReadyState::kCurrent) {
          still.push_back(i);
          states.push_back(r);
        }
      }
      pending = std::move(still);
      std::string summary = Summary(states, objects.size());
      if (pending.empty()) {
        outcome.ready = true;
        return outcome;
      }
      if (summary != shown) {
        json waiting = json::array();
        for (const Readiness& r : states) waiting.push_back(r.message);
        progress.Emit({"waiting", "  " + options.what + ": " + summary,
                       {{"wait", options.what}, {"ready", objects.size() - pending.size()},
                        {"total", objects.size()}, {"pending", waiting}}});
        shown = summary;
      }
      outcome.pending = std::move(states);
      if (options.problems_every.count() > 0 && Clock::now() >= next_problems) {
        next_problems = Clock::now() + options.problems_every;
        std::vector<ManifestObject> workloads;
        std::vector<json> live_workloads;
        for (size_t i : pending)
          if (IsWorkloadKey(objects[i].key)) {
            workloads.push_back(objects[i]);
            live_workloads.push_back(last[i]);
          }
        if (!workloads.empty())
          for (const std::string& line : WorkloadPodProblems(client, workloads, live_workloads, options.deadline))
            if (problems_shown.insert(ProblemKey(line)).second)
              progress.Emit({"problem", "  not ready yet: " + line, {{"wait", options.what}, {"problem", line}}});
      }
    }
    if (Clock::now() + options.interval >= options.deadline) break;
    std::this_thread::sleep_for(options.interval);
  }
  outcome.pending.clear();
  for (size_t i : pending) {
    outcome.pending.push_back(last[i].is_null()
                                  ? Readiness{ReadyState::kInProgress, objects[i].key.ToString() + ": not found"}
                                  : ReadinessOf(last[i], options.readiness));
    outcome.pending_objects.push_back(last[i]);
    outcome.pending_manifests.push_back(objects[i]);
  }
  return outcome;
}

}  // namespace ferry::installer
