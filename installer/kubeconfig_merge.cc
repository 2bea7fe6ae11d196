// Parsing kubeconfig files into named entries and merging them; see kubeconfig_merge.h.
#include "installer/kubeconfig_merge.h"

#include <filesystem>
#include <tuple>
#include <utility>

namespace ferry::installer {
namespace {

// One file's entries, before merging.
struct KubeconfigFile {
  std::string path;
  std::string current_context;
  std::vector<NamedEntry> clusters, users, contexts;
};

std::string DirectoryOf(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

Result<std::vector<NamedEntry>> ReadEntries(const KubeconfigField& root, const std::string& list,
                                            const std::string& body_key, const std::string& dir) {
  Result<std::vector<KubeconfigField>> items = root.Member(list).Items();
  if (!items.ok()) return items.status();
  std::vector<NamedEntry> entries;
  std::map<std::string, std::string> seen;  // name -> path of the item that defined it
  for (const KubeconfigField& item : *items) {
    FERRY_RETURN_IF_ERROR(item.ExpectMap());
    KubeconfigField name_field = item.Member("name");
    Result<std::string> name = name_field.String();
    if (!name.ok()) return name.status();
    if (name->empty()) return name_field.Error("missing: every entry of " + list + " needs a name");
    // client-go refuses a name listed twice in one file rather than guess which one is meant.
    if (auto [it, added] = seen.emplace(*name, item.path()); !added) {
      return name_field.Error("\"" + *name + "\" is defined twice (also " + it->second + ")");
    }
    KubeconfigField body = item.Member(body_key);
    FERRY_RETURN_IF_ERROR(body.ExpectMap());
    entries.push_back(NamedEntry{*name, body, dir});
  }
  return entries;
}

Result<KubeconfigFile> ParseKubeconfig(const std::string& path, const std::string& text) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    std::string where = "kubeconfig " + path + ": YAML syntax error";
    if (!e.mark.is_null()) {
      where += " at line " + std::to_string(e.mark.line + 1) + ", column " +
               std::to_string(e.mark.column + 1);
    }
    return InvalidArgument(where + ": " + e.msg);
  }
  KubeconfigField top(path, root);
  FERRY_RETURN_IF_ERROR(top.ExpectMap());

  KubeconfigFile file;
  file.path = path;
  Result<std::string> current = top.Member("current-context").String();
  if (!current.ok()) return current.status();
  file.current_context = *current;
  std::string dir = DirectoryOf(path);
  for (auto [list, body, out] :
       {std::tuple("clusters", "cluster", &file.clusters), std::tuple("users", "user", &file.users),
        std::tuple("contexts", "context", &file.contexts)}) {
    Result<std::vector<NamedEntry>> entries = ReadEntries(top, list, body, dir);
    if (!entries.ok()) return entries.status();
    *out = std::move(*entries);
  }
  return file;
}

void Merge(KubeconfigFile file, MergedKubeconfig& merged) {
  merged.files.push_back(file.path);
  if (merged.current_context.empty() && !file.current_context.empty()) {
    merged.current_context = file.current_context;
    merged.current_context_file = file.path;
  }
  for (auto [from, to] :
       {std::pair(&file.clusters, &merged.clusters), std::pair(&file.users, &merged.users),
        std::pair(&file.contexts, &merged.contexts)}) {
    for (NamedEntry& entry : *from) to->emplace(entry.name, std::move(entry));  // first one wins
  }
}

}  // namespace

std::string MergedKubeconfig::Label() const {
  std::string label = "kubeconfig ";
  for (size_t i = 0; i < files.size(); ++i) label += (i ? ":" : "") + files[i];
  return label;
}

Result<MergedKubeconfig> LoadKubeconfigFiles(const std::vector<std::string>& files,
                                             bool skip_missing) {
  MergedKubeconfig merged;
  for (const std::string& path : files) {
    Result<std::string> text = ReadLocalFile(path);
    if (!text.ok()) {
      if (skip_missing && text.status().code() == StatusCode::kNotFound) continue;
      return Status(text.status().code(),
                    "cannot read kubeconfig " + path + ": " + text.status().message());
    }
    Result<KubeconfigFile> file = ParseKubeconfig(path, *text);
    if (!file.ok()) return file.status();
    Merge(std::move(*file), merged);
  }
  return merged;
}

std::string TrimSpace(const std::string& text) {
  size_t start = text.find_first_not_of(" \t\r\n");
  if (start == std::string::npos) return "";
  size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(start, end - start + 1);
}

}  // namespace ferry::installer
