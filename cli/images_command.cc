// ferry images: every image reference in release files, with where it is and how sure ferry is.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include "cli/command.h"
#include "cli/manifest_flags.h"

namespace ferry::cli {
namespace {

struct ImagesFlags {
  ManifestFlags manifests;
  std::string output = "table";
};

const char* ConfidenceName(Confidence c) {
  switch (c) {
    case Confidence::kCertain: return "certain";
    case Confidence::kLikely: return "likely";
    case Confidence::kOptional: return "optional";
  }
  return "?";
}

std::string Object(const ImageOccurrence& o) {
  if (o.kind.empty()) return "-";
  return o.kind + "/" + (o.ns.empty() ? "" : o.ns + "/") + o.name;
}

// A templated occurrence has no reference; its text stands in the table and is null in JSON.
nlohmann::json ToJson(const ImageOccurrence& o) {
  return {{"reference", o.templated ? nlohmann::json() : nlohmann::json(o.ref.String())},
          {"text", o.text},
          {"file", o.file},
          {"line", o.line},
          {"column", o.column},
          {"offset", o.offset},
          {"kind", o.kind},
          {"namespace", o.ns},
          {"name", o.name},
          {"path", o.yaml_path},
          {"confidence", ConfidenceName(o.confidence)},
          {"why", o.why},
          {"templated", o.templated}};
}

std::string Where(const ImageOccurrence& o) {
  return o.file + ":" + std::to_string(o.line) + " " + Object(o) + " " + o.yaml_path;
}

std::string Shown(const ImageOccurrence& o) {
  return o.templated ? o.text + "  (templated, not rewritten)" : o.ref.String();
}

// Output goes to a temporary file first and reaches standard output only when the whole run
// succeeded: a file that fails to parse leaves stdout empty in every format.
class Spool {
 public:
  Spool() : file_(std::tmpfile()) {}
  ~Spool() {
    if (file_) std::fclose(file_);
  }
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  std::FILE* get() const { return file_; }

  Status CopyToStdout() {
    if (!file_) return IoError("cannot create a temporary file for the output");
    std::rewind(file_);
    char buffer[1 << 16];
    for (size_t n; (n = std::fread(buffer, 1, sizeof buffer, file_)) > 0;) {
      if (std::fwrite(buffer, 1, n, stdout) != n) return IoError("cannot write to standard output");
    }
    return std::ferror(file_) ? IoError("cannot read back the output") : Status::Ok();
  }

 private:
  std::FILE* file_;
};

// One line per occurrence, the long reference last so the columns before it stay aligned. Two
// passes over the files (one to measure, one to print) keep memory independent of their size.
Status PrintTable(const ManifestSet& set, bool include_optional, std::FILE* out) {
  size_t width = 5, count = 0;
  std::set<std::string> distinct;
  FERRY_RETURN_IF_ERROR(ForEachImage(set, include_optional, [&](const ImageOccurrence& o) {
    width = std::max(width, Where(o).size());
    if (o.templated) return WarnTemplated(o, "not rewritten");
    ++count;
    distinct.insert(o.ref.String());
  }));
  std::fprintf(out, "%-*s  %-9s %s\n", static_cast<int>(width), "WHERE", "CERTAINTY", "REFERENCE");
  FERRY_RETURN_IF_ERROR(ForEachImage(set, include_optional, [&](const ImageOccurrence& o) {
    std::fprintf(out, "%-*s  %-9s %s\n", static_cast<int>(width), Where(o).c_str(), ConfidenceName(o.confidence),
                 Shown(o).c_str());
  }));
  std::fprintf(out, "%zu references, %zu distinct\n", count, distinct.size());
  return Status::Ok();
}

// A JSON array or a YAML sequence, one element per occurrence, written as they are found.
Status PrintStructured(const ManifestSet& set, bool include_optional, bool json, std::FILE* out) {
  bool first = true;
  if (json) std::fprintf(out, "[");
  Status s = ForEachImage(set, include_optional, [&](const ImageOccurrence& o) {
    if (o.templated) WarnTemplated(o, "not rewritten");
    const nlohmann::json fields = ToJson(o);
    if (json) {
      std::fprintf(out, "%s\n  %s", first ? "" : ",", fields.dump().c_str());
    } else {
      YAML::Emitter emitter;
      emitter << YAML::BeginSeq << YAML::BeginMap;
      for (auto& [key, value] : fields.items())
        emitter << YAML::Key << key << YAML::Value << (value.is_string() ? value.get<std::string>() : value.dump());
      emitter << YAML::EndMap << YAML::EndSeq;
      std::fprintf(out, "%s\n", emitter.c_str());
    }
    first = false;
  });
  if (json) std::fprintf(out, "%s]\n", first ? "" : "\n");
  return s;
}

int RunImages(const ImagesFlags& flags) {
  Result<ManifestSet> set = ResolveManifests(flags.manifests);
  if (!set.ok()) return ReportError(set.status());
  // Tables and structured output show everything, each with its certainty; a list feeds
  // `ferry mirror --images` and leaves commented examples out unless asked.
  bool all = flags.output != "list" || flags.manifests.include_optional;
  Spool spool;
  if (!spool.get()) return ReportError(IoError("cannot create a temporary file for the output"));
  Status s;
  if (flags.output == "list") {
    Result<std::vector<ImageReference>> refs = DistinctImages(*set, all);  // warns of templated ones
    if (!refs.ok()) return ReportError(refs.status());
    for (const ImageReference& ref : *refs) std::fprintf(spool.get(), "%s\n", ref.String().c_str());
  } else if (flags.output == "json" || flags.output == "yaml") {
    s = PrintStructured(*set, all, flags.output == "json", spool.get());
  } else {
    s = PrintTable(*set, all, spool.get());
  }
  if (s.ok()) s = spool.CopyToStdout();
  if (!s.ok()) return ReportError(s);
  return kExitSuccess;
}

}  // namespace

Command AddImagesCommand(CLI::App& root) {
  auto flags = std::make_shared<ImagesFlags>();
  CLI::App* app = root.add_subcommand("images", "List every image reference in release files");
  app->footer(
      "Finds container images of every workload kind and Knative Service, Knative caching Images,\n"
      "ConfigMap values (the queue-proxy image), container args and env values, references inside\n"
      "text (Istio's injector template) and commented examples (marked optional). Outside image\n"
      "fields a value counts only with strong evidence (a registry host or a digest); fields that name\n"
      "other objects (roleRef, subjects, ...) never count. Templated values ({{ }}, ${ }) are listed\n"
      "and warned about, never rewritten. Nothing reaches stdout unless every file parsed.\n\n"
      "Examples:\n"
      "  ferry images -f serving-core.yaml -f net-kourier.yaml\n"
      "  ferry images --profile knative-1.23-kourier --output list > images.txt");
  AddManifestFlags(app, &flags->manifests);
  app->add_option("-o,--output", flags->output, "table (default), json, yaml, or list (distinct references)")
      ->check(CLI::IsMember({"table", "json", "yaml", "list"}));
  return {app, [flags] { return RunImages(*flags); }};
}

}  // namespace ferry::cli
