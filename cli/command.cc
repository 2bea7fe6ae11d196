#include "cli/command.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

namespace ferry::cli {

void AddOutputFlag(CLI::App* command, OutputFormat* format) {
  std::map<std::string, OutputFormat> formats{{"text", OutputFormat::kText}, {"json", OutputFormat::kJson}};
  command->add_option("--output", *format, "Output format: text (default) or json")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
}

int ReportError(const Status& status) {
  std::fprintf(stderr, "ferry: error: %s\n", status.message().c_str());
  return kExitFailure;
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  std::string temp = path + ".tmp." + std::to_string(getpid());
  {
    std::ofstream out(temp, std::ios::trunc | std::ios::binary);
    out << content;
    if (!out.flush()) {
      std::error_code ec;
      std::filesystem::remove(temp, ec);
      return IoError("cannot write " + path);
    }
  }
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    return IoError("cannot write " + path + ": " + ec.message());
  }
  return Status::Ok();
}

}  // namespace ferry::cli
