// Prints install and uninstall events: one line each on a terminal (retries only with -v), or one
// JSON object per line with --output json ({"event": "applied", "object": ..., ...}).
#pragma once

#include <mutex>

#include "cli/command.h"
#include "installer/install_progress.h"

namespace ferry::cli {

class InstallPrinter : public installer::InstallProgress {
 public:
  explicit InstallPrinter(OutputFormat format) : format_(format) {}
  void Emit(const installer::InstallEvent& event) override;

 private:
  OutputFormat format_;
  std::mutex mutex_;
};

}  // namespace ferry::cli
