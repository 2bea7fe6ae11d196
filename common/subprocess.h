// Runs a helper program to completion (credential helpers, exec credential plugins): no shell,
// found on PATH like execvp, stdin from a string, stdout and stderr collected with bounds.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace ferry {

struct ProcessSpec {
  std::vector<std::string> argv;               // argv[0] is the program
  std::optional<std::vector<std::string>> env; // "NAME=value" entries; unset: our environment
  std::string input;                           // written to stdin, which then closes
  size_t max_stdout = 1 << 20;                 // more is dropped and flagged
  size_t kept_stderr = 16 << 10;               // only the tail is kept: it explains a failure
  // How long the program may run; unset: HelperTimeout(). When it expires the program and what
  // it started (it runs in its own process group) are killed (SIGKILL); the run ends timed_out.
  std::optional<std::chrono::milliseconds> timeout;
};

struct ProcessRun {
  bool not_found = false;  // no such program: nothing ran
  int exit_code = 0;       // meaningful when signal == 0
  int signal = 0;          // non-zero when the program was killed
  bool stdout_too_long = false;
  bool timed_out = false;  // killed because it ran past `timeout` (then signal is SIGKILL)
  std::chrono::milliseconds timeout{0};  // the limit that applied
  std::string out, err;
};

// The limit on helper programs (credential helpers, exec plugins): FERRY_HELPER_TIMEOUT when set
// ("90", "90s", "2m", "500ms"), else 60 s. A malformed value is InvalidArgument naming it.
Result<std::chrono::milliseconds> HelperTimeout();

// "did not finish within 60 s and was stopped (FERRY_HELPER_TIMEOUT allows longer)": for messages
// about a run that timed out; callers put the helper's name in front.
std::string TimeoutMessage(const ProcessRun& run);

// A Status only when the program could not even be tried (pipes, spawn failure other than ENOENT,
// a malformed FERRY_HELPER_TIMEOUT).
Result<ProcessRun> RunProcess(const ProcessSpec& spec);

// Our environment with `extra` entries ("NAME=value") added; an extra entry replaces ours of the same name.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra);

}  // namespace ferry
