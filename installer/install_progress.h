// What an install or uninstall tells its user while it runs: one InstallEvent per step (a wave
// begins, an object is applied, a wait is still waiting, a retry, a diagnosis). The command line
// prints them as lines on a terminal or as JSON events with --output json; tests record them.
#pragma once

#include <nlohmann/json.hpp>

#include <mutex>
#include <string>
#include <vector>

namespace ferry::installer {

struct InstallEvent {
  // "wave", "applied", "waiting", "ready", "retry", "pruned", "deleted", "diagnosis", "note", "done"
  std::string type;
  std::string text;     // one human line, without a trailing newline
  nlohmann::json data;  // the same as fields for --output json (an object; may be empty)
  bool detail = false;  // only worth showing with -v (retries that will most likely succeed)
};

// Receives events, possibly from several threads at once: implementations must be thread-safe.
class InstallProgress {
 public:
  virtual ~InstallProgress() = default;
  virtual void Emit(const InstallEvent& event) = 0;
};

// Drops everything.
class NullProgress : public InstallProgress {
 public:
  void Emit(const InstallEvent&) override {}
};

// Keeps every event, for tests.
class RecordingProgress : public InstallProgress {
 public:
  void Emit(const InstallEvent& event) override {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(event);
  }
  std::vector<InstallEvent> events() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<InstallEvent> events_;
};

}  // namespace ferry::installer
