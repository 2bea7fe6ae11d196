#include "cli/command.h"

#include <cstdio>
#include <map>
#include <mutex>

namespace ferry::cli {

std::string CommandPath(const CLI::App* command) {
  std::string path;
  for (; command != nullptr && command->get_parent() != nullptr; command = command->get_parent())
    path = " " + command->get_name() + path;
  return "ferry" + path;
}

void AddOutputFlag(CLI::App* command, OutputFormat* format) {
  std::map<std::string, OutputFormat> formats{{"text", OutputFormat::kText}, {"json", OutputFormat::kJson}};
  command->add_option("--output", *format, "Output format: text (default) or json")
      ->transform(CLI::CheckedTransformer(formats, CLI::ignore_case));
}

namespace {

void AddVerbose(CLI::App* app, std::deque<int>* counts) {
  app->add_flag("-v,--verbose", counts->emplace_back(0), "More detail on stderr (-v retries, -vv every HTTP request)");
  for (CLI::App* sub : app->get_subcommands([](CLI::App*) { return true; })) AddVerbose(sub, counts);
}

// The command that was run: the deepest parsed subcommand.
CLI::App* ParsedCommand(CLI::App& root) {
  CLI::App* app = &root;
  for (std::vector<CLI::App*> parsed = app->get_subcommands(); !parsed.empty(); parsed = app->get_subcommands())
    app = parsed.front();
  return app;
}

}  // namespace

GlobalFlags::GlobalFlags(CLI::App& root) {
  root.add_option("--output", output_, "Output format of the command: text (default) or json");
  AddVerbose(&root, &verbosity_);
}

void GlobalFlags::ApplyTo(CLI::App& root) const {
  if (root.count("--output") == 0) return;
  CLI::App* command = ParsedCommand(root);
  CLI::Option* own = command->get_option_no_throw("--output");
  if (own == nullptr) throw CLI::ValidationError(CommandPath(command) + " has no --output (it prints text only)");
  if (own->count() > 0) return;  // given after the command too: that one wins
  own->add_result(output_);
  own->run_callback();
}

int GlobalFlags::verbosity() const {
  int total = 0;
  for (int v : verbosity_) total += v;
  return total;
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
