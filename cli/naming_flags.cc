#include "cli/naming_flags.h"

namespace ferry::cli {

void AddNamingFlags(CLI::App* command, NamingFlags* flags, bool to_required) {
  CLI::Option* to = command->add_option("--to", flags->to, "Target REGISTRY[/NAMESPACE]");
  if (to_required) to->required();
  command->add_option("--naming", flags->naming, "preserve (default), flatten (one level, for ACR Personal) or template")
      ->type_name("{preserve,flatten,template}");  // also what `ferry completion` offers
  command->add_option("--template", flags->pattern,
                      "Pattern for --naming template: {registry} {repository} {basename} {parent} {flat} {hash}");
  command->add_option("--max-name-length", flags->max_name_length, "Longest flattened repository name (default 64)");
}

Result<TargetNaming> ParseNamingFlags(const NamingFlags& flags) {
  Result<TargetPrefix> to = TargetPrefix::Parse(flags.to);
  if (!to.ok()) return to.status().WithContext("--to");
  Result<NamingStrategy> strategy = ParseNamingStrategy(flags.naming);
  if (!strategy.ok()) return strategy.status().WithContext("--naming");
  return TargetNaming{*to, NamingOptions{.strategy = *strategy, .pattern = flags.pattern,
                                         .max_repository_length = flags.max_name_length}};
}

}  // namespace ferry::cli
