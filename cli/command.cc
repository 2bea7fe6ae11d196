#include "cli/command.h"

#include <cstdio>
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

}  // namespace ferry::cli
