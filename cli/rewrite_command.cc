// ferry rewrite: point every image reference in release files at the mirror, changing nothing else.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/manifest_flags.h"
#include "cli/naming_flags.h"
#include "mirror/image_lock.h"
#include "rewrite/manifest_rewriter.h"
#include "rewrite/manifest_scan.h"
#include "rewrite/reference_map.h"

namespace ferry::cli {
namespace {

struct RewriteFlags {
  ManifestFlags manifests;
  NamingFlags naming;
  std::string lock, output_dir;
  bool pin_digests = false, in_place = false, check = false, allow_templated = false;
  std::vector<std::string> allow;
  OutputFormat output = OutputFormat::kText;
};

// --check: every reference outside the allowed prefixes, one line each; exit 1 if any. Commented
// examples are not in use, so they count only with --include-optional, as in rewrite and mirror.
// A templated reference cannot be checked: it fails unless its text starts with an allowed prefix
// or --allow-templated. The list is printed only once every file has been read.
int RunCheck(const RewriteFlags& flags, const ManifestSet& set) {
  int outside = 0;
  nlohmann::json list = nlohmann::json::array();
  std::string lines;
  Status s = ForEachImage(set, flags.manifests.include_optional, [&](const ImageOccurrence& o) {
    std::string ref = o.templated ? o.text : o.ref.String();
    for (const std::string& prefix : flags.allow)
      if (ref.starts_with(prefix) || o.text.starts_with(prefix)) return;
    if (o.templated && flags.allow_templated) return;
    ++outside;
    if (flags.output == OutputFormat::kJson) {
      list.push_back({{"reference", o.templated ? nlohmann::json() : nlohmann::json(ref)},
                      {"text", o.text},
                      {"templated", o.templated},
                      {"file", o.file},
                      {"line", o.line},
                      {"column", o.column},
                      {"path", o.yaml_path}});
    } else if (o.templated) {
      lines += o.file + ":" + std::to_string(o.line) + ":" + std::to_string(o.column) +
               ": templated reference, not rewritten: " + o.text + " (" + o.yaml_path + ")\n";
    } else {
      lines += o.file + ":" + std::to_string(o.line) + ": " + ref + " (" + o.yaml_path + ")\n";
    }
  });
  if (!s.ok()) return ReportError(s);
  if (flags.output == OutputFormat::kJson) std::printf("%s\n", list.dump(2).c_str());
  std::fputs(lines.c_str(), stdout);
  if (outside == 0) {
    if (flags.output == OutputFormat::kText) std::printf("every reference is under an allowed prefix\n");
    return kExitSuccess;
  }
  std::fprintf(stderr, "ferry: error: %d reference(s) outside the allowed prefixes\n", outside);
  return kExitFailure;
}

// Every distinct reference in the files, and whether anything outside commented examples uses it.
struct SeenReference {
  ImageReference ref;
  bool in_use = false;
};

// One scan of the files gives what to name, what must be mapped, and where every reference is,
// so that writing needs no second parse.
struct Scanned {
  std::vector<SeenReference> seen;
  ManifestScan places;
};

Result<Scanned> CollectReferences(const ManifestSet& set) {
  std::vector<SeenReference> seen;
  std::map<std::string, size_t> index;
  Result<ManifestScan> scan = ManifestScan::Scan(set, [&](const ImageOccurrence& o) {
    if (o.templated) return WarnTemplated(o, "not rewritten");
    auto [it, fresh] = index.try_emplace(o.ref.String(), seen.size());
    if (fresh) seen.push_back({o.ref});
    if (o.confidence != Confidence::kOptional) seen[it->second].in_use = true;
  });
  if (!scan.ok()) return scan.status();
  return Scanned{std::move(seen), std::move(*scan)};
}

Result<ReferenceMap> MakeMap(const RewriteFlags& flags, const std::vector<SeenReference>& seen) {
  if (!flags.lock.empty()) {
    Result<ImageLock> lock = ImageLock::Read(flags.lock);
    if (!lock.ok()) return lock.status();
    return ReferenceMap::FromLock(*lock, flags.pin_digests);
  }
  if (flags.pin_digests) return InvalidArgument("--pin-digests needs --lock: only a lock knows the digests");
  Result<TargetNaming> target = ParseNamingFlags(flags.naming);
  if (!target.ok()) return target.status();
  // Plan exactly the set `ferry mirror` plans from the same files, so flattened names agree;
  // references already under the prefix (a second rewrite) are not sources.
  const std::string prefix = target->to.String() + "/";
  std::vector<ImageReference> sources;
  for (const SeenReference& r : seen)
    if ((r.in_use || flags.manifests.include_optional) && !r.ref.Name().starts_with(prefix)) sources.push_back(r.ref);
  return ReferenceMap::FromNaming(sources, target->to, target->options);
}

int RunRewrite(const RewriteFlags& flags) {
  if (!flags.check && flags.lock.empty() == flags.naming.to.empty())
    return ReportError(InvalidArgument("give exactly one of --lock FILE or --to REGISTRY/NAMESPACE"));
  if (!flags.check && flags.output_dir.empty() == !flags.in_place)
    return ReportError(InvalidArgument("give exactly one of -o DIR or --in-place"));
  Result<ManifestSet> set = ResolveManifests(flags.manifests);
  if (!set.ok()) return ReportError(set.status());
  if (flags.check) return RunCheck(flags, *set);

  Result<Scanned> scanned = CollectReferences(*set);
  if (!scanned.ok()) return ReportError(scanned.status());
  const std::vector<SeenReference>& seen = scanned->seen;
  Result<ReferenceMap> map = MakeMap(flags, seen);
  if (!map.ok()) return ReportError(map.status());
  // Every reference the files need must be mapped before anything is written; commented examples
  // are needed exactly when --include-optional rewrites them.
  const bool optional = flags.manifests.include_optional;
  std::set<std::string> missing;
  for (const SeenReference& r : seen)
    if ((r.in_use || optional) && !map->IsMirrored(r.ref) && !map->Lookup(r.ref)) missing.insert(r.ref.String());
  if (!missing.empty()) {
    std::string list;
    for (const std::string& m : missing) list += "\n  " + m;
    return ReportError(InvalidArgument("the lock " + flags.lock + " lacks " + std::to_string(missing.size()) +
                                       " reference(s) the files need; nothing was written:" + list));
  }

  // What each spelling of a reference becomes (nothing, for one already at the mirror).
  const ManifestScan& places = scanned->places;
  std::vector<std::optional<std::string>> replacements;
  for (const ManifestScan::Text& t : places.texts())
    replacements.push_back(map->IsMirrored(t.ref) ? std::nullopt : map->Lookup(t.ref));
  // A replacement that would not leave a valid reference standing alone (a lock with a broken
  // target, a reference joined to a template) stops the run before any file is written.
  if (Status s = places.CheckEdits(replacements, optional); !s.ok()) return ReportError(s);
  // Two inputs must not land on one output file.
  std::map<std::string, std::string> outputs;
  for (const ManifestInput& file : set->files) {
    if (flags.in_place) break;
    std::string destination = (std::filesystem::path(flags.output_dir) / file.relative).lexically_normal().string();
    auto [it, fresh] = outputs.emplace(destination, file.display);
    if (!fresh)
      return ReportError(InvalidArgument(it->second + " and " + file.display + " would both be written to " +
                                         destination + "; rewrite them into separate directories"));
  }
  int total = 0;
  nlohmann::json files = nlohmann::json::array();
  std::string summary;  // printed only when every file was written
  for (size_t i = 0; i < set->files.size(); ++i) {
    const ManifestInput& file = set->files[i];
    std::string destination = flags.in_place ? file.path : (std::filesystem::path(flags.output_dir) / file.relative).string();
    if (flags.in_place && file.display == "standard input") destination = "-";
    Result<int> replaced =
        ApplyEdits(file, destination, places.SizeOf(i), places.EditsFor(i, replacements, optional));
    if (!replaced.ok()) return ReportError(replaced.status());
    total += *replaced;
    files.push_back({{"file", file.display}, {"output", destination}, {"replaced", *replaced}});
    if (flags.output == OutputFormat::kText && destination != "-")
      summary += file.display + " -> " + destination + ": " + std::to_string(*replaced) + " reference(s) rewritten\n";
  }
  std::fputs(summary.c_str(), stdout);
  if (flags.output == OutputFormat::kJson) std::printf("%s\n", nlohmann::json{{"files", files}, {"replaced", total}}.dump(2).c_str());
  return kExitSuccess;
}

}  // namespace

Command AddRewriteCommand(CLI::App& root) {
  auto flags = std::make_shared<RewriteFlags>();
  CLI::App* app = root.add_subcommand("rewrite", "Point every image reference in release files at the mirror");
  app->footer(
      "Only the bytes of each reference change: comments, key order, quoting, indentation, document\n"
      "separators, trailing spaces and CRLF line endings stay as they were. The mapping comes from\n"
      "the lock `ferry mirror` wrote (exact digests), or from --to and --naming (the same naming\n"
      "code `ferry mirror` uses). A lock that lacks a needed reference is an error listing every\n"
      "missing one, and nothing is written. --in-place replaces each file atomically. Templated\n"
      "values ({{ }}, ${ }) are never rewritten (a warning each; --check fails on them unless allowed),\n"
      "commented _example references only with --include-optional, and a replacement that would not\n"
      "be a valid reference where it stands stops the run before anything is written.\n\n"
      "Examples:\n"
      "  ferry rewrite -f serving-core.yaml --lock images.lock --pin-digests -o rewritten/\n"
      "  ferry rewrite -f release/ --to registry.cn-hangzhou.aliyuncs.com/knative-mirror --naming flatten --in-place\n"
      "  ferry rewrite -f rewritten/ --check --allow registry.cn-hangzhou.aliyuncs.com/   # CI gate");
  AddManifestFlags(app, &flags->manifests);
  app->add_option("--lock", flags->lock, "Lock file from ferry mirror");
  AddNamingFlags(app, &flags->naming, /*to_required=*/false);
  app->add_flag("--pin-digests", flags->pin_digests, "With --lock: write tag references as tag@digest");
  app->add_option("-o,--output-dir", flags->output_dir, "Write the rewritten files into this directory");
  app->add_flag("--in-place", flags->in_place, "Replace the files themselves (atomically)");
  app->add_flag("--check", flags->check, "Change nothing; list every reference outside the --allow prefixes");
  app->add_option("--allow", flags->allow, "With --check: an allowed reference prefix (repeatable)");
  app->add_flag("--allow-templated", flags->allow_templated,
                "With --check: let templated references ({{ }}, ${ }) pass; they are never rewritten");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunRewrite(*flags); }};
}

}  // namespace ferry::cli
