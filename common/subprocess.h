// Runs a helper program to completion (credential helpers, exec credential plugins): no shell,
// found on PATH like execvp, stdin from a string, stdout and stderr collected with bounds.
#pragma once

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
};

struct ProcessRun {
  bool not_found = false;  // no such program: nothing ran
  int exit_code = 0;       // meaningful when signal == 0
  int signal = 0;          // non-zero when the program was killed
  bool stdout_too_long = false;
  std::string out, err;
};

// A Status only when the program could not even be tried (pipes, spawn failure other than ENOENT).
Result<ProcessRun> RunProcess(const ProcessSpec& spec);

// Our environment with `extra` entries ("NAME=value") added; an extra entry replaces ours of the same name.
std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra);

}  // namespace ferry
