// BlobStream and ByteBudget: bytes reach the upload side in order; the reader's verdict (Close)
// reaches it after the data; an abandoned stream stops taking bytes and gives its budget back; all
// streams together never hold more than the budget.
#include "mirror/blob_stream.h"

#include "common/sha256.h"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>

using namespace ferry;

namespace {

// Everything the upload side reads, until the end or an error.
Result<std::string> ReadAll(BlobStream& stream) {
  std::string out;
  char buffer[7];  // small on purpose: chunks are split across reads
  for (;;) {
    Result<size_t> n = stream.Read(buffer, sizeof buffer);
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buffer, *n);
  }
}

}  // namespace

TEST_CASE("a stream delivers the written bytes in order, then the end") {
  ByteBudget budget(1 << 20);
  BlobStream stream(budget);
  REQUIRE(stream.Write("hello, ").ok());
  REQUIRE(stream.Write("bundle").ok());
  stream.Close(Status::Ok());
  Result<std::string> got = ReadAll(stream);
  REQUIRE(got.ok());
  CHECK(*got == "hello, bundle");
  CHECK(budget.used() == 0);
}

TEST_CASE("the writer's error reaches the upload side after the bytes already written") {
  ByteBudget budget(1 << 20);
  BlobStream stream(budget);
  REQUIRE(stream.Write("partial").ok());
  stream.Close(DataLoss("blobs/sha256/ab: bytes hash to sha256:cd"));
  char buffer[64];
  Result<size_t> first = stream.Read(buffer, sizeof buffer);
  REQUIRE(first.ok());
  CHECK(std::string(buffer, *first) == "partial");
  Result<size_t> second = stream.Read(buffer, sizeof buffer);
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kDataLoss);
  CHECK(second.status().message().find("hash to") != std::string::npos);
}

TEST_CASE("an abandoned stream drops what it holds and every later write") {
  ByteBudget budget(1 << 20);
  BlobStream stream(budget);
  REQUIRE(stream.Write(std::string(1000, 'x')).ok());
  CHECK(budget.used() == 1000);
  stream.Abandon(Status::Ok());  // e.g. the registry turned out to have the blob
  CHECK(budget.used() == 0);
  CHECK(stream.Write(std::string(1000, 'y')).ok());
  CHECK(budget.used() == 0);
  BlobStream failed(budget);
  failed.Abandon(Unavailable("registry localhost:1, repository a: connection reset"));
  CHECK(failed.Write("z").code() == StatusCode::kUnavailable);
}

TEST_CASE("streams together never buffer more than the budget; a blocked writer goes on as bytes are read") {
  constexpr int64_t kCapacity = 4096;
  constexpr int kChunks = 200;
  ByteBudget budget(kCapacity);
  BlobStream a(budget), b(budget);
  std::atomic<int64_t> peak{0};
  std::atomic<bool> writes_ok{true};  // Catch2's assertions are for the test's own thread only
  std::thread writer([&] {
    for (int i = 0; i < kChunks; ++i) {
      if (!(i % 2 ? b : a).Write(std::string(1000, static_cast<char>('a' + i % 2))).ok()) writes_ok = false;
      int64_t used = budget.used();
      int64_t seen = peak.load();
      while (used > seen && !peak.compare_exchange_weak(seen, used)) {
      }
    }
    a.Close(Status::Ok());
    b.Close(Status::Ok());
  });
  // Two readers, as two uploads would; each stream holds 100 chunks, far over the budget.
  Result<std::string> got_a = std::string(), got_b = std::string();
  std::thread reader_b([&] { got_b = ReadAll(b); });
  got_a = ReadAll(a);
  reader_b.join();
  writer.join();
  CHECK(writes_ok);
  REQUIRE(got_a.ok());
  REQUIRE(got_b.ok());
  CHECK(got_a->size() == kChunks / 2 * 1000);
  CHECK(got_b->find_first_not_of('b') == std::string::npos);
  CHECK(peak.load() <= kCapacity);
  CHECK(budget.used() == 0);
}

TEST_CASE("one chunk larger than the whole budget still passes when nothing else is buffered") {
  ByteBudget budget(10);
  BlobStream stream(budget);
  REQUIRE(stream.Write(std::string(100, 'x')).ok());
  stream.Close(Status::Ok());
  Result<std::string> got = ReadAll(stream);
  REQUIRE(got.ok());
  CHECK(got->size() == 100);
}

TEST_CASE("a checked reader passes exactly the blob's bytes and holds back the last ones until they match") {
  std::string bytes(100000, 'x');
  Descriptor blob{"", Sha256Digest(bytes), static_cast<int64_t>(bytes.size()), ""};
  auto reader_over = [](const std::string& data) {
    auto offset = std::make_shared<size_t>(0);
    return [data, offset](char* buffer, size_t size) -> Result<size_t> {
      size_t n = std::min(size, data.size() - *offset);
      std::memcpy(buffer, data.data() + *offset, n);
      *offset += n;
      return n;
    };
  };
  auto drain = [](CheckedReader& reader) -> Status {
    char buffer[7000];
    for (;;) {
      Result<size_t> n = reader(buffer, sizeof buffer);
      if (!n.ok()) return n.status();
      if (*n == 0) return Status::Ok();
    }
  };
  size_t seen = 0;
  CheckedReader good(reader_over(bytes), blob, "here", [&](size_t n) { seen += n; });
  CHECK(drain(good).ok());
  CHECK(seen == bytes.size());

  CheckedReader changed(reader_over(std::string(99999, 'x') + "y"), blob, "here");
  Status s = drain(changed);
  CHECK(s.code() == StatusCode::kDataLoss);
  CHECK_THAT(s.message(), Catch::Contains("hash to") && Catch::Contains("nothing was committed"));
  CHECK(changed.delivered() < static_cast<int64_t>(bytes.size()));  // the last bytes never went out

  CheckedReader shorter(reader_over(bytes.substr(1)), blob, "here");
  CHECK_THAT(drain(shorter).message(), Catch::Contains("ended after 99999 of 100000 bytes"));
  CheckedReader longer(reader_over(bytes + "z"), blob, "here");
  CHECK_THAT(drain(longer).message(), Catch::Contains("longer than its descriptor"));
}

TEST_CASE("a stream holds at most its own capacity, however much budget is left") {
  ByteBudget budget(1 << 30);
  BlobStream stream(budget, 3000);
  std::atomic<int64_t> peak{0};
  std::atomic<bool> writes_ok{true};
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      if (!stream.Write(std::string(1000, 'x')).ok()) writes_ok = false;
      int64_t used = budget.used(), seen = peak.load();
      while (used > seen && !peak.compare_exchange_weak(seen, used)) {
      }
    }
    stream.Close(Status::Ok());
  });
  Result<std::string> all = ReadAll(stream);
  writer.join();
  CHECK(writes_ok);
  REQUIRE(all.ok());
  CHECK(all->size() == 100000);
  CHECK(peak.load() <= 3000);  // the budget would have taken it all
  CHECK(budget.used() == 0);
}
