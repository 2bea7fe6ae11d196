// Images for the copy engine's tests, built in memory: OCI manifests with a config and layers of
// deterministic bytes, indexes over them, cosign-style signatures and OCI 1.1 referrers, plus a
// temporary directory that removes itself.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/sha256.h"
#include "mirror/manifest.h"
#include "mirror/memory_source.h"

namespace ferry::test {

struct TempDir {
  std::string path;
  TempDir() {
    char name[] = "/tmp/ferry-copy-test-XXXXXX";
    path = mkdtemp(name);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

inline std::string Bytes(const std::string& seed, size_t size) {
  std::mt19937_64 random(std::hash<std::string>{}(seed));
  std::string out(size, '\0');
  for (char& c : out) c = static_cast<char>(random());
  return out;
}

struct TestImage {
  Manifest manifest;
  std::vector<std::string> blobs;     // config, then layers
  std::vector<TestImage> children;    // an index's images
};

inline nlohmann::ordered_json DescriptorJson(const std::string& media_type, const std::string& bytes) {
  return {{"mediaType", media_type}, {"digest", Sha256Digest(bytes)}, {"size", bytes.size()}};
}

inline Manifest Parse(const nlohmann::ordered_json& doc, std::string_view media_type) {
  Result<Manifest> m = ParseManifest(doc.dump(2), media_type, "test image");
  if (!m.ok()) std::abort();
  return *m;
}

// An image with `layers` layers of `layer_size` bytes; `shared` layers come first, as a base.
inline TestImage MakeImage(const std::string& seed, int layers = 2, size_t layer_size = 3000,
                           const std::vector<std::string>& shared = {}, const std::string& arch = "amd64") {
  TestImage image;
  image.blobs.push_back(R"({"architecture":")" + arch + R"(","os":"linux","seed":")" + seed + "\"}");
  for (const std::string& layer : shared) image.blobs.push_back(layer);
  for (int i = 0; i < layers; ++i) image.blobs.push_back(Bytes(seed + "-" + std::to_string(i), layer_size));
  nlohmann::ordered_json doc = {{"schemaVersion", 2},
                                {"mediaType", media_type::kOciManifest},
                                {"config", DescriptorJson("application/vnd.oci.image.config.v1+json", image.blobs[0])},
                                {"layers", nlohmann::ordered_json::array()}};
  for (size_t i = 1; i < image.blobs.size(); ++i)
    doc["layers"].push_back(DescriptorJson("application/vnd.oci.image.layer.v1.tar+gzip", image.blobs[i]));
  image.manifest = Parse(doc, media_type::kOciManifest);
  return image;
}

inline TestImage MakeIndex(const std::string& seed) {
  std::string base = Bytes(seed + "-base", 2000);
  TestImage index;
  index.children = {MakeImage(seed + "-amd64", 1, 2500, {base}, "amd64"),
                    MakeImage(seed + "-arm64", 1, 2500, {base}, "arm64")};
  nlohmann::ordered_json doc = {{"schemaVersion", 2}, {"mediaType", media_type::kOciIndex},
                                {"manifests", nlohmann::ordered_json::array()}};
  for (const TestImage& c : index.children) {
    nlohmann::ordered_json d = DescriptorJson(std::string(media_type::kOciManifest), c.manifest.bytes);
    nlohmann::ordered_json config = nlohmann::ordered_json::parse(c.blobs[0]);
    d["platform"] = {{"os", "linux"}, {"architecture", config["architecture"]}};
    doc["manifests"].push_back(d);
  }
  index.manifest = Parse(doc, media_type::kOciIndex);
  return index;
}

// An artifact attached to `subject`: cosign's shape (a simple-signing layer) without one, an OCI
// 1.1 referrer (subject field, artifactType, empty config) with one.
inline TestImage MakeArtifact(const std::string& seed, const std::optional<Manifest>& subject,
                              const std::string& artifact_type = "application/vnd.dev.cosign.simplesigning.v1+json") {
  TestImage image;
  image.blobs = {subject ? "{}" : R"({"seed":")" + seed + "\"}", "payload for " + seed};
  nlohmann::ordered_json doc = {{"schemaVersion", 2}, {"mediaType", media_type::kOciManifest}};
  if (subject) doc["artifactType"] = artifact_type;
  doc["config"] = DescriptorJson(subject ? "application/vnd.oci.empty.v1+json" : "application/vnd.oci.image.config.v1+json",
                                 image.blobs[0]);
  doc["layers"] = {DescriptorJson(artifact_type, image.blobs[1])};
  doc["layers"][0]["annotations"] = {{"dev.cosignproject.cosign/signature", "MEUCIQ" + seed}};
  if (subject) {
    doc["subject"] = {{"mediaType", subject->media_type}, {"digest", subject->digest}, {"size", subject->bytes.size()}};
    doc["annotations"] = {{"org.opencontainers.image.created", "2024-01-01T00:00:00Z"}};
  }
  image.manifest = Parse(doc, media_type::kOciManifest);
  return image;
}

// Puts `image` (its children and blobs too) into `source` as `repository`:`tag` (no tag: by digest).
inline void Add(MemorySource& source, const std::string& repository, const std::string& tag, const TestImage& image) {
  for (const TestImage& child : image.children) Add(source, repository, "", child);
  for (const std::string& blob : image.blobs) source.AddBlob(blob);
  source.AddManifest(repository, tag, image.manifest);
}

}  // namespace ferry::test
