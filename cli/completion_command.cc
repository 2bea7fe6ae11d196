// ferry completion bash|zsh: prints a shell completion script made from ferry's own command tree,
// so it always knows every subcommand and flag this binary has. Both scripts share one table: for
// each command path ("ferry", "ferry bundle", "ferry bundle save"), its subcommands, its flags, the flags that take
// a value, and the values of flags that accept only a few (--output, --naming, --profile's
// built-in names). A word after a flag that takes a value completes as a file name unless the
// flag has such a list.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "common/strings.h"
#include "rewrite/release_profile.h"

namespace ferry::cli {
namespace {

struct CommandEntry {
  std::string path;                               // "ferry", "ferry bundle save"
  std::vector<std::string> subcommands, flags;    // flags: every spelling (-o and --output)
  std::vector<std::string> valued;                // flags that take a value
  std::vector<std::string> words;                 // what a positional argument may be (bash, zsh)
  std::map<std::string, std::vector<std::string>> choices;  // flag -> its few values
};

// What may follow the command's path as a word: a subcommand, or a value of its argument.
std::vector<std::string> Words(const CommandEntry& e) {
  std::vector<std::string> out = e.subcommands;
  out.insert(out.end(), e.words.begin(), e.words.end());
  return out;
}

// The values listed in a type name such as "TEXT:{text,json}" or "ENUM:value in {text->0,json->1}".
std::vector<std::string> ChoicesOf(const std::string& type_name) {
  std::vector<std::string> out;
  size_t open = type_name.find('{'), close = type_name.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return out;
  std::string list = type_name.substr(open + 1, close - open - 1);
  for (size_t start = 0; start <= list.size();) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    item = item.substr(0, item.find("->"));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

void Collect(const CLI::App* app, const std::string& path, std::vector<CommandEntry>* out) {
  CommandEntry entry{.path = path};
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; }))
    entry.subcommands.push_back(sub->get_name());
  for (const CLI::Option* option : app->get_options()) {
    std::vector<std::string> names;
    for (const std::string& s : option->get_snames()) names.push_back("-" + s);
    for (const std::string& l : option->get_lnames()) names.push_back("--" + l);
    if (names.empty()) {  // a positional argument
      std::vector<std::string> choices = ChoicesOf(option->get_type_name());
      entry.words.insert(entry.words.end(), choices.begin(), choices.end());
      continue;
    }
    entry.flags.insert(entry.flags.end(), names.begin(), names.end());
    if (option->get_expected_max() == 0) continue;  // a flag without a value
    entry.valued.insert(entry.valued.end(), names.begin(), names.end());
    std::vector<std::string> choices = ChoicesOf(option->get_type_name());
    if (option->get_lnames() == std::vector<std::string>{"profile"}) choices = BuiltinProfileNames();
    if (!choices.empty())
      for (const std::string& name : names) entry.choices[name] = choices;
  }
  out->push_back(entry);
  for (const CLI::App* sub : app->get_subcommands([](const CLI::App*) { return true; }))
    Collect(sub, path + " " + sub->get_name(), out);
}

// Bash: the command path is the run of subcommand names after `ferry`; an empty answer falls back
// to bash's own file-name completion (complete -o default).
std::string BashScript(const std::vector<CommandEntry>& tree) {
  std::string paths, tables, values;
  for (const CommandEntry& e : tree) {
    if (e.path != "ferry") paths += (paths.empty() ? "" : "|") + std::string("\"") + e.path + "\"";
    tables += "    \"" + e.path + "\") subs=\"" + Join(Words(e), " ") + "\" flags=\"" +
              Join(e.flags, " ") + "\" valued=\" " + Join(e.valued, " ") + " \" ;;\n";
    for (const auto& [flag, choices] : e.choices)
      values += "    \"" + e.path + " " + flag + "\") COMPREPLY=($(compgen -W \"" + Join(choices, " ") +
                "\" -- \"$cur\")); return ;;\n";
  }
  return "# bash completion for ferry; load it with: source <(ferry completion bash)\n"
         "_ferry() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} path=ferry i subs flags valued\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    case \"$path ${COMP_WORDS[i]}\" in\n"
         "      " + paths + ") path=\"$path ${COMP_WORDS[i]}\" ;;\n"
         "    esac\n"
         "  done\n"
         "  case \"$path\" in\n" + tables +
         "  esac\n"
         "  case \"$path $prev\" in\n" + values +
         "  esac\n"
         "  COMPREPLY=()\n"
         "  [[ $valued == *\" $prev \"* ]] && return  # a file name: bash's default completion\n"
         "  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$flags\" -- \"$cur\"))\n"
         "  elif [[ -n $subs ]]; then COMPREPLY=($(compgen -W \"$subs\" -- \"$cur\"))\n"
         "  fi\n"
         "}\n"
         "complete -o default -F _ferry ferry\n";
}

// Zsh: the same tables as associative arrays; compadd for words, _files for file names.
std::string ZshScript(const std::vector<CommandEntry>& tree) {
  std::string subs, flags, valued, values;
  for (const CommandEntry& e : tree) {
    subs += "  [\"" + e.path + "\"]=\"" + Join(Words(e), " ") + "\"\n";
    flags += "  [\"" + e.path + "\"]=\"" + Join(e.flags, " ") + "\"\n";
    valued += "  [\"" + e.path + "\"]=\" " + Join(e.valued, " ") + " \"\n";
    for (const auto& [flag, choices] : e.choices)
      values += "  [\"" + e.path + " " + flag + "\"]=\"" + Join(choices, " ") + "\"\n";
  }
  return "#compdef ferry\n"
         "# zsh completion for ferry; load it with: source <(ferry completion zsh)\n"
         "# (after compinit), or save it as _ferry in a directory of $fpath.\n"
         "typeset -gA _ferry_subs _ferry_flags _ferry_valued _ferry_values\n"
         "_ferry_subs=(\n" + subs + ")\n"
         "_ferry_flags=(\n" + flags + ")\n"
         "_ferry_valued=(\n" + valued + ")\n"
         "_ferry_values=(\n" + values + ")\n"
         "_ferry() {\n"
         "  local cmdpath=ferry i word cur=${words[CURRENT]} prev=${words[CURRENT-1]}\n"
         "  for ((i = 2; i < CURRENT; i++)); do\n"
         "    word=${words[i]}\n"
         "    [[ \" ${_ferry_subs[$cmdpath]} \" == *\" $word \"* ]] && cmdpath=\"$cmdpath $word\"\n"
         "  done\n"
         "  if (( ${+_ferry_values[$cmdpath $prev]} )); then\n"
         "    compadd -- ${=_ferry_values[$cmdpath $prev]}\n"
         "  elif [[ ${_ferry_valued[$cmdpath]} == *\" $prev \"* ]]; then\n"
         "    _files\n"
         "  elif [[ $cur == -* || -z ${_ferry_subs[$cmdpath]} ]]; then\n"
         "    [[ $cur == -* ]] && compadd -- ${=_ferry_flags[$cmdpath]} || _files\n"
         "  else\n"
         "    compadd -- ${=_ferry_subs[$cmdpath]}\n"
         "  fi\n"
         "}\n"
         "if (( $+functions[compdef] )); then compdef _ferry ferry; fi\n";
}

}  // namespace

Command AddCompletionCommand(CLI::App& root) {
  auto shell = std::make_shared<std::string>();
  CLI::App* app = root.add_subcommand("completion", "Print a shell completion script (bash or zsh)");
  app->footer(
      "Completes subcommands, flags, the values of --output, --naming and --profile, and file names\n"
      "after the flags that take one.\n\n"
      "Examples:\n"
      "  source <(ferry completion bash)                                     # this shell\n"
      "  ferry completion bash > /etc/bash_completion.d/ferry                # every bash\n"
      "  ferry completion zsh > \"${fpath[1]}/_ferry\"                         # zsh, after compinit");
  app->add_option("shell", *shell, "bash or zsh")->required()->check(CLI::IsMember({"bash", "zsh"}));
  CLI::App* top = &root;
  return {app, [top, shell] {
            std::vector<CommandEntry> tree;
            Collect(top, "ferry", &tree);
            std::fputs((*shell == "bash" ? BashScript(tree) : ZshScript(tree)).c_str(), stdout);
            return kExitSuccess;
          }};
}

}  // namespace ferry::cli
