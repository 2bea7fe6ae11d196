// Reading kubeconfig files and merging them the way client-go's loader does: for each cluster,
// user and context name the first file that defines it wins, and so does the first file that sets
// current-context. What the entries mean is kubeconfig.cc's business; this only parses and merges.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/local_file.h"
#include "common/status.h"
#include "installer/kubeconfig_field.h"

namespace ferry::installer {

// One element of clusters, users or contexts.
struct NamedEntry {
  std::string name;
  KubeconfigField body;  // clusters[i].cluster, users[i].user or contexts[i].context
  std::string dir;       // the directory of the file it came from: relative paths start there
};

struct MergedKubeconfig {
  std::vector<std::string> files;  // the files read, in order
  std::map<std::string, NamedEntry> clusters, users, contexts;
  std::string current_context, current_context_file;

  // "kubeconfig a" or "kubeconfig a:b", for messages about the merged whole.
  std::string Label() const;
};

// Reads, parses and merges `files` in order. A file that does not exist is skipped when
// `skip_missing`, else NotFound. YAML syntax errors name the file and line:column; a structural
// error (clusters not a list, an entry without a name, a name twice in one file) names the field.
Result<MergedKubeconfig> LoadKubeconfigFiles(const std::vector<std::string>& files,
                                             bool skip_missing);

// `text` without leading and trailing whitespace (token files end in a newline).
std::string TrimSpace(const std::string& text);

}  // namespace ferry::installer
