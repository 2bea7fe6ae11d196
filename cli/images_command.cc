// ferry images: every image reference in release files, with where it is and how sure ferry is.
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <memory>

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

nlohmann::json ToJson(const ImageOccurrence& o) {
  return {{"reference", o.ref.String()}, {"text", o.text},     {"file", o.file},
          {"line", o.line},             {"column", o.column}, {"offset", o.offset}, {"kind", o.kind},
          {"namespace", o.ns},          {"name", o.name},     {"path", o.yaml_path},
          {"confidence", ConfidenceName(o.confidence)},       {"why", o.why}};
}

// One line per occurrence, the long reference last so the columns before it stay aligned.
void PrintTable(const std::vector<ImageOccurrence>& found) {
  std::vector<std::string> where;
  size_t width = 5;
  for (const ImageOccurrence& o : found) {
    where.push_back(o.file + ":" + std::to_string(o.line) + " " + Object(o) + " " + o.yaml_path);
    width = std::max(width, where.back().size());
  }
  std::printf("%-*s  %-9s %s\n", static_cast<int>(width), "WHERE", "CERTAINTY", "REFERENCE");
  for (size_t i = 0; i < found.size(); ++i)
    std::printf("%-*s  %-9s %s\n", static_cast<int>(width), where[i].c_str(), ConfidenceName(found[i].confidence),
                found[i].ref.String().c_str());
  std::printf("%zu references, %zu distinct\n", found.size(), DistinctReferences(found).size());
}

int RunImages(const ImagesFlags& flags) {
  ManifestFlags manifests = flags.manifests;
  // Tables and structured output show everything, each with its confidence; a list feeds
  // `ferry mirror --images` and leaves commented examples out unless asked.
  if (flags.output != "list") manifests.include_optional = true;
  Result<ManifestSet> set = ResolveManifests(manifests);
  if (!set.ok()) return ReportError(set.status());
  Result<std::vector<ImageOccurrence>> found = ScanManifests(*set, manifests.include_optional);
  if (!found.ok()) return ReportError(found.status());

  if (flags.output == "list") {
    for (const ImageReference& ref : DistinctReferences(*found)) std::printf("%s\n", ref.String().c_str());
  } else if (flags.output == "json") {
    nlohmann::json all = nlohmann::json::array();
    for (const ImageOccurrence& o : *found) all.push_back(ToJson(o));
    std::printf("%s\n", all.dump(2).c_str());
  } else if (flags.output == "yaml") {
    YAML::Emitter out;
    out << YAML::BeginSeq;
    for (const ImageOccurrence& o : *found) {
      out << YAML::BeginMap;
      const nlohmann::json fields = ToJson(o);  // must outlive the loop over its items
      for (auto& [key, value] : fields.items())
        out << YAML::Key << key << YAML::Value << (value.is_string() ? value.get<std::string>() : value.dump());
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;
    std::printf("%s\n", out.c_str());
  } else {
    PrintTable(*found);
  }
  return kExitSuccess;
}

}  // namespace

Command AddImagesCommand(CLI::App& root) {
  auto flags = std::make_shared<ImagesFlags>();
  CLI::App* app = root.add_subcommand("images", "List every image reference in release files");
  app->footer(
      "Finds container images of every workload kind and Knative Service, Knative caching Images,\n"
      "ConfigMap values (the queue-proxy image), container args and env values, references inside\n"
      "text (Istio's injector template) and commented examples (marked optional).\n\n"
      "Examples:\n"
      "  ferry images -f serving-core.yaml -f net-kourier.yaml\n"
      "  ferry images --profile knative-1.23-kourier --output list > images.txt");
  AddManifestFlags(app, &flags->manifests);
  app->add_option("-o,--output", flags->output, "table (default), json, yaml, or list (distinct references)")
      ->check(CLI::IsMember({"table", "json", "yaml", "list"}));
  return {app, [flags] { return RunImages(*flags); }};
}

}  // namespace ferry::cli
