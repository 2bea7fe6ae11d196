// The copy engine between in-process sources and sinks: images held in memory (how the sample apps
// travel), OCI layout directories, oci-archives, ferry bundles and docker-archives. Registries
// are covered by the integration tests (tests/integration/test_copy*.py, test_mirror*.py).
#include "mirror/copy_engine.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>

#include "common/local_file.h"
#include "mirror/archive_sink.h"
#include "mirror/bundle_verify.h"
#include "mirror/docker_archive_source.h"
#include "mirror/layout_sink.h"
#include "mirror/layout_source.h"
#include "tests/mirror/test_images.h"

using namespace ferry;
using namespace ferry::test;
namespace fs = std::filesystem;

namespace {

const CopyOptions kFast{.jobs = 3, .retry = {.max_attempts = 3, .base_delay = std::chrono::milliseconds(1)}};

std::unique_ptr<LayoutSink> Layout(const std::string& dir) {
  Result<std::unique_ptr<LayoutSink>> sink = LayoutSink::Open(dir);
  REQUIRE(sink.ok());
  return std::move(*sink);
}

std::unique_ptr<LayoutSource> Open(const std::string& path) {
  Result<std::unique_ptr<LayoutSource>> source = LayoutSource::Open(path);
  INFO(source.status().message());
  REQUIRE(source.ok());
  return std::move(*source);
}

std::unique_ptr<ArchiveSink> Archive(const std::string& path, std::optional<BundleInfo> bundle = std::nullopt) {
  Result<std::unique_ptr<ArchiveSink>> sink = ArchiveSink::Create(path, {}, std::move(bundle));
  REQUIRE(sink.ok());
  return std::move(*sink);
}

void RequireCopied(const CopyReport& report) {
  INFO(report.stopped.message());
  REQUIRE(report.stopped.ok());
  for (const ImageResult& r : report.images) {
    INFO(r.image.name + ": " + r.status.message());
    REQUIRE(r.status.ok());
  }
}

// The digest `source` resolves `repository`:`identifier` to, and its blobs must all be there.
std::string DigestIn(ImageSource& source, const std::string& repository, const std::string& identifier) {
  Result<ResolvedImage> image = ResolveImage(source, repository, identifier, {}, identifier);
  INFO(image.status().message());
  REQUIRE(image.ok());
  return image->top().digest;
}

size_t BlobFiles(const std::string& layout) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(layout + "/blobs/sha256")) n += e.is_regular_file() ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("images held in memory reach an OCI layout digest-exact, each blob once, named in index.json") {
  TempDir dir;
  MemorySource source("memory");
  TestImage app = MakeImage("app"), multi = MakeIndex("multi");
  Add(source, "app", "v1", app);
  Add(source, "multi", "v2", multi);
  std::vector<CopyImage> images = {{"app:v1", {"app", "v1", ""}, {"app", "v1", ""}},
                                   {"multi:v2", {"multi", "v2", ""}, {"multi", "v2", ""}}};
  auto sink = Layout(dir.path);
  CopyReport report = RunCopy(source, *sink, images, kFast);
  RequireCopied(report);
  CHECK(report.images[1].platforms == std::vector<std::string>{"linux/amd64", "linux/arm64"});
  CHECK(report.totals.blobs == 3 + 5);  // app: config, 2 layers; multi: 2 configs, a shared base, 2 layers
  CHECK(report.totals.blobs_copied == 8);

  auto layout = Open(dir.path);
  CHECK(DigestIn(*layout, "app", "v1") == app.manifest.digest);
  CHECK(DigestIn(*layout, "multi", "v2") == multi.manifest.digest);
  CHECK(BlobFiles(dir.path) == 8 + 4);  // and the manifests: app's, the index, its two children

  SECTION("a second run finds everything there and writes nothing") {
    auto again = Layout(dir.path);
    CopyReport second = RunCopy(source, *again, images, kFast);
    RequireCopied(second);
    CHECK(second.totals.images_present == 2);
    CHECK(second.totals.blobs_copied == 0);
  }
  SECTION("a dry run counts what is there and what is missing") {
    MemorySource more("memory");
    Add(more, "app", "v1", app);
    TestImage other = MakeImage("other", 1, 5000);
    Add(more, "other", "v1", other);
    auto again = Layout(dir.path);
    CopyOptions dry = kFast;
    dry.dry_run = true;
    CopyReport plan = RunCopy(more, *again, {images[0], {"other:v1", {"other", "v1", ""}, {"other", "v1", ""}}}, dry);
    CHECK(plan.images[0].already_present);
    CHECK_FALSE(plan.images[1].already_present);
    CHECK(plan.totals.bytes_missing == static_cast<int64_t>(other.blobs[0].size() + 5000));
    CHECK(BlobFiles(dir.path) == 12);
  }
}

TEST_CASE("a ferry bundle made from memory names its images as the release files do and reads back") {
  TempDir dir;
  MemorySource source("memory");
  TestImage queue = MakeIndex("queue"), webhook = MakeImage("webhook");
  Add(source, "queue", "v1.23.0", queue);
  Add(source, "webhook", "v1.23.0", webhook);
  std::string release = "apiVersion: v1\nkind: Namespace\n";
  auto bundle = Archive(dir / "b.tar", BundleInfo{.ferry_version = "test", .profile = "knative-test",
                                                  .files = {{"serving-core.yaml", "memory", false, release}}});
  std::vector<CopyImage> images = {
      {"gcr.io/knative-releases/queue:v1.23.0", {"queue", "v1.23.0", ""}, {"gcr.io/knative-releases/queue", "v1.23.0", ""}},
      {"gcr.io/knative-releases/webhook:v1.23.0", {"webhook", "v1.23.0", ""}, {"gcr.io/knative-releases/webhook", "v1.23.0", ""}}};
  RequireCopied(RunCopy(source, *bundle, images, kFast));
  CHECK(bundle->manifest().images.size() == 2);
  CHECK(bundle->output().parts.size() == 1);

  auto read = Open(dir / "b.tar");
  REQUIRE(read->index().bundle().has_value());
  CHECK(read->index().bundle()->files.front().name == "serving-core.yaml");
  Result<std::vector<LayoutImage>> listed = read->Images();
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK(listed->front().name.String() == "gcr.io/knative-releases/queue:v1.23.0");

  SECTION("bundle -> OCI layout: every image arrives, in one pass") {
    auto layout = Layout(dir / "out");
    std::vector<CopyImage> out;
    for (const LayoutImage& i : *listed) out.push_back({i.name.String(), i.at, {"", i.name.tag + "-" + i.name.repository.substr(17), ""}});
    CopyReport report = RunCopy(*read, *layout, out, kFast);
    RequireCopied(report);
    CHECK(report.totals.passes == 1);
    auto back = Open(dir / "out");
    CHECK(DigestIn(*back, "", "v1.23.0-queue") == queue.manifest.digest);
    CHECK(DigestIn(*back, "", "v1.23.0-webhook") == webhook.manifest.digest);
  }
  SECTION("bundle -> oci-archive -> bundle: the same images, the same digests") {
    auto archive = Archive(dir / "c.tar");
    CopyImage one{"queue", listed->front().at, {"", "queue", ""}};
    RequireCopied(RunCopy(*read, *archive, {one}, kFast));
    auto again = Open(dir / "c.tar");
    auto rebundled = Archive(dir / "d.tar", BundleInfo{.ferry_version = "test"});
    RequireCopied(RunCopy(*again, *rebundled, {{"gcr.io/knative-releases/queue:v1.23.0", {"", "queue", ""},
                                                {"gcr.io/knative-releases/queue", "v1.23.0", ""}}},
                          kFast));
    auto last = Open(dir / "d.tar");
    CHECK(DigestIn(*last, "gcr.io/knative-releases/queue", "v1.23.0") == queue.manifest.digest);
  }
}

TEST_CASE("signatures and referrers travel with their image, into layouts and bundles and back") {
  TempDir dir;
  MemorySource source("memory");
  TestImage app = MakeImage("app");
  TestImage signature = MakeArtifact("sig", std::nullopt);
  TestImage sbom = MakeArtifact("sbom", app.manifest, "application/spdx+json");
  Add(source, "app", "v1", app);
  Add(source, "app", CosignTag(app.manifest.digest, "sig"), signature);
  Add(source, "app", "", sbom);
  // The source has no Referrers API: the fallback tag lists the referrer.
  Result<std::optional<Manifest>> fallback = AddReferrer(std::nullopt, sbom.manifest);
  REQUIRE(fallback.ok());
  source.AddManifest("app", ReferrersTag(app.manifest.digest), **fallback);

  CopyImage image{"gcr.io/x/app:v1", {"app", "v1", ""}, {"gcr.io/x/app", "v1", ""}};
  auto bundle = Archive(dir / "b.tar", BundleInfo{.ferry_version = "test"});
  CopyReport report = RunCopy(source, *bundle, {image}, kFast);
  RequireCopied(report);
  REQUIRE(report.images[0].attachments.size() == 2);
  CHECK(report.totals.attachments == 2);
  REQUIRE(bundle->manifest().images[0].attachments.size() == 2);

  Result<BundleSummary> summary = InspectBundle(dir / "b.tar");
  REQUIRE(summary.ok());
  REQUIRE(summary->images[0].attachments.size() == 2);
  std::set<std::string> kinds;
  for (const AttachmentRecord& a : summary->images[0].attachments) kinds.insert(a.kind + " " + a.digest);
  CHECK(kinds == std::set<std::string>{"signature " + signature.manifest.digest, "referrer " + sbom.manifest.digest});

  // Out of the bundle into a layout: the signature under its tag, the referrer under the fallback.
  auto read = Open(dir / "b.tar");
  auto layout = Layout(dir / "out");
  CopyReport out = RunCopy(*read, *layout, {{"app", {"gcr.io/x/app", "v1", ""}, {"", "v1", ""}}}, kFast);
  RequireCopied(out);
  CHECK(out.images[0].attachments.size() == 2);
  auto back = Open(dir / "out");
  Result<std::vector<std::string>> tags = back->ListTags("");
  REQUIRE(tags.ok());
  CHECK(std::set<std::string>(tags->begin(), tags->end()) ==
        std::set<std::string>{"v1", CosignTag(app.manifest.digest, "sig"), ReferrersTag(app.manifest.digest)});
  CHECK(DigestIn(*back, "", CosignTag(app.manifest.digest, "sig")) == signature.manifest.digest);
  Result<std::vector<Attachment>> found = FindAttachments(*back, "", *tags, {app.manifest.digest});
  REQUIRE(found.ok());
  CHECK(found->size() == 2);

  SECTION("--no-attachments leaves them behind") {
    CopyOptions bare = kFast;
    bare.attachments = false;
    auto plain = Layout(dir / "plain");
    CopyReport without = RunCopy(source, *plain, {{"app", {"app", "v1", ""}, {"", "v1", ""}}}, bare);
    RequireCopied(without);
    CHECK(without.images[0].attachments.empty());
    Result<std::vector<std::string>> plain_tags = Open(dir / "plain")->ListTags("");
    CHECK(*plain_tags == std::vector<std::string>{"v1"});
  }
}

namespace {

// A memory source whose blob reads go wrong on purpose.
class FaultySource : public MemorySource {
 public:
  using MemorySource::MemorySource;
  std::string corrupt;       // this blob's bytes come back changed
  std::string cut;           // this blob's first read stops half way with a transient error
  bool always_down = false;  // every blob read fails, transiently
  std::atomic<int> reads{0};
  std::atomic<int64_t> resumed_at{-1};

  Status ReadBlob(const std::string& repository, const Descriptor& blob, int64_t offset,
                  const BodyWriter& writer) override {
    ++reads;
    if (always_down) return Unavailable("source down");
    if (blob.digest == corrupt)
      return MemorySource::ReadBlob(repository, blob, offset, [&](std::string_view chunk) {
        std::string changed(chunk);
        changed[0] ^= 1;
        return writer(changed);
      });
    if (blob.digest == cut && !cut_done_.exchange(true)) {
      std::string bytes;
      FERRY_RETURN_IF_ERROR(MemorySource::ReadBlob(repository, blob, 0, [&](std::string_view c) {
        bytes.append(c);
        return Status::Ok();
      }));
      FERRY_RETURN_IF_ERROR(writer(std::string_view(bytes).substr(0, bytes.size() / 2)));
      return Unavailable("connection reset");
    }
    if (blob.digest == cut) resumed_at = offset;
    return MemorySource::ReadBlob(repository, blob, offset, writer);
  }

 private:
  std::atomic<bool> cut_done_{false};
};

}  // namespace

TEST_CASE("a blob whose bytes do not match its digest is never committed") {
  TempDir dir;
  FaultySource source("memory");
  TestImage app = MakeImage("app");
  Add(source, "app", "v1", app);
  source.corrupt = app.manifest.blobs[1].digest;
  auto sink = Layout(dir.path);
  CopyReport report = RunCopy(source, *sink, {{"app:v1", {"app", "v1", ""}, {"", "v1", ""}}}, kFast);
  REQUIRE_FALSE(report.images[0].status.ok());
  CHECK(report.images[0].status.code() == StatusCode::kDataLoss);
  CHECK_THAT(report.images[0].status.message(), Catch::Contains(source.corrupt) && Catch::Contains("nothing was committed"));
  CHECK_FALSE(fs::exists(dir.path + "/blobs/sha256/" + source.corrupt.substr(7)));
  Result<std::string> index = ReadLocalFile(dir.path + "/index.json");  // nothing was named
  REQUIRE(index.ok());
  CHECK(nlohmann::json::parse(*index)["manifests"].empty());
}

TEST_CASE("retries happen at one level: a step is tried max_attempts times in all, a cut read resumes") {
  TempDir dir;
  FaultySource source("memory");
  TestImage app = MakeImage("app", 1, 100000);
  Add(source, "app", "v1", app);

  SECTION("a source that stays down") {
    source.always_down = true;
    auto sink = Layout(dir.path);
    CopyReport report = RunCopy(source, *sink, {{"app:v1", {"app", "v1", ""}, {"", "v1", ""}}}, kFast);
    CHECK(report.images[0].status.code() == StatusCode::kUnavailable);
    CHECK(source.reads == 2 * 3);  // two blobs, three attempts each, and no attempt retried inside another
  }
  SECTION("a read cut half way goes on from where it stopped") {
    source.cut = app.manifest.blobs[1].digest;
    auto sink = Layout(dir.path);
    CopyReport report = RunCopy(source, *sink, {{"app:v1", {"app", "v1", ""}, {"", "v1", ""}}},
                                {.jobs = 1, .retry = kFast.retry});
    RequireCopied(report);
    CHECK(source.resumed_at == 50000);
    CHECK(report.totals.blobs_copied == 2);
  }
}

TEST_CASE("a docker-archive becomes a schema 2 image whose layers are named by their diff_ids") {
  TempDir dir;
  std::string layer1 = Bytes("layer-1", 4096), layer2 = Bytes("layer-2", 2048);
  std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                       Sha256Digest(layer1) + R"(",")" + Sha256Digest(layer2) + R"("]}})";
  std::string config_name = Sha256Digest(config).substr(7) + ".json";
  std::string manifest = R"([{"Config":")" + config_name + R"(","RepoTags":["app:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}])";
  {
    Result<std::unique_ptr<BundleWriter>> tar = BundleWriter::Create(dir / "app.tar", {});
    REQUIRE(tar.ok());
    REQUIRE((*tar)->AddFile("aaa/layer.tar", layer1).ok());
    REQUIRE((*tar)->AddFile("bbb/layer.tar", layer2).ok());
    REQUIRE((*tar)->AddFile(config_name, config).ok());
    REQUIRE((*tar)->AddFile("manifest.json", manifest).ok());
    REQUIRE((*tar)->Finish().ok());
  }
  Result<std::unique_ptr<DockerArchiveSource>> source = DockerArchiveSource::Open(dir / "app.tar");
  REQUIRE(source.ok());
  Result<ImageLocator> image = (*source)->Find("docker.io/library/app:1");
  REQUIRE(image.ok());
  CHECK_FALSE((*source)->Find("app:2").ok());

  auto sink = Layout(dir / "out");
  CopyReport report = RunCopy(**source, *sink, {{"app:1", *image, {"", "1", ""}}}, kFast);
  RequireCopied(report);
  CHECK(report.images[0].media_type == media_type::kDockerManifest);
  auto back = Open(dir / "out");
  Result<Manifest> copied = back->GetManifest("", "1");
  REQUIRE(copied.ok());
  REQUIRE(copied->blobs.size() == 3);
  CHECK(copied->blobs[0].digest == Sha256Digest(config));
  CHECK(copied->blobs[1].digest == Sha256Digest(layer1));
  CHECK(copied->blobs[2].media_type == "application/vnd.docker.image.rootfs.diff.tar");

  SECTION("the same archive always gives the same manifest, also into a bundle") {
    Result<std::unique_ptr<DockerArchiveSource>> again = DockerArchiveSource::Open(dir / "app.tar");
    REQUIRE(again.ok());
    auto bundle = Archive(dir / "b.tar", BundleInfo{.ferry_version = "test"});
    CopyReport saved = RunCopy(**again, *bundle, {{"docker.io/library/app:1", {"", "@0", ""}, {"docker.io/library/app", "1", ""}}}, kFast);
    RequireCopied(saved);
    CHECK(saved.images[0].digest == report.images[0].digest);
  }
}

TEST_CASE("a layer several repositories share is written once to an archive and to a layout") {
  TempDir dir;
  MemorySource source("memory");
  std::string base = Bytes("shared-base", 4000);
  std::vector<CopyImage> images;
  for (const char* name : {"a", "b", "c"}) {
    Add(source, name, "v1", MakeImage(name, 1, 3000, {base}));
    images.push_back({std::string("gcr.io/x/") + name + ":v1", {name, "v1", ""}, {std::string("gcr.io/x/") + name, "v1", ""}});
  }
  auto archive = Archive(dir / "b.tar", BundleInfo{.ferry_version = "test"});
  CopyReport saved = RunCopy(source, *archive, images, kFast);
  RequireCopied(saved);
  CHECK(saved.totals.blobs == 7);  // 3 configs, 3 layers, the base
  CHECK(saved.totals.blobs_copied == 7);
  CHECK(saved.totals.blobs_skipped == 2);  // the base, already in the archive for the 2nd and 3rd image

  auto layout = Layout(dir / "l");
  std::vector<CopyImage> named = images;
  for (CopyImage& i : named) i.to = {"", i.from.repository, ""};
  CopyReport copied = RunCopy(source, *layout, named, kFast);
  RequireCopied(copied);
  CHECK(BlobFiles(dir / "l") == 7 + 3);
}
