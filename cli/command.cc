#include "cli/command.h"

#include <cstdio>
#include <map>
#include <mutex>

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

Status ClaimStandardInput(const std::string& what) {
  static std::mutex mutex;
  static std::string taken_by;
  std::lock_guard<std::mutex> lock(mutex);
  if (!taken_by.empty() && taken_by != what)
    return InvalidArgument(taken_by + " and " + what + " both read standard input; give one of them another way");
  taken_by = what;
  return Status::Ok();
}

}  // namespace ferry::cli
