// Printing install events as lines or JSON; see install_printer.h.
#include "cli/install_printer.h"

#include <cstdio>

#include "common/log.h"

namespace ferry::cli {

void InstallPrinter::Emit(const installer::InstallEvent& event) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (format_ == OutputFormat::kJson) {
    nlohmann::json line = event.data.is_object() ? event.data : nlohmann::json::object();
    line["event"] = event.type;
    line["text"] = event.text;
    std::printf("%s\n", line.dump().c_str());
  } else {
    if (event.detail && !LogEnabled(LogLevel::kInfo)) return;
    std::printf("%s\n", event.text.c_str());
  }
  std::fflush(stdout);
}

}  // namespace ferry::cli
