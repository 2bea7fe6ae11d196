#include "common/byte_pipe.h"

#include <catch2/catch.hpp>
#include <string>
#include <thread>

using namespace ferry;

namespace {
// Reads until the end of data or an error; returns what was read and the final status.
std::pair<std::string, Status> Drain(BytePipe& pipe, size_t chunk) {
  std::string out(chunk, '\0'), all;
  for (;;) {
    Result<size_t> n = pipe.Read(out.data(), chunk);
    if (!n.ok()) return {all, n.status()};
    if (*n == 0) return {all, Status::Ok()};
    all.append(out.data(), *n);
  }
}
}  // namespace

TEST_CASE("bytes pass through a pipe much smaller than the data, in order") {
  BytePipe pipe(64);
  std::string data;
  for (int i = 0; i < 10000; ++i) data += static_cast<char>('a' + i % 26);
  std::thread producer([&] {
    for (size_t i = 0; i < data.size(); i += 1000) REQUIRE(pipe.Write(std::string_view(data).substr(i, 1000)).ok());
    pipe.CloseWrite(Status::Ok());
  });
  auto [got, status] = Drain(pipe, 37);
  producer.join();
  CHECK(status.ok());
  CHECK(got == data);
}

TEST_CASE("the producer's error reaches the consumer after the bytes already written") {
  BytePipe pipe(1024);
  REQUIRE(pipe.Write("partial").ok());
  pipe.CloseWrite(Unavailable("connection reset by source"));
  auto [got, status] = Drain(pipe, 100);
  CHECK(got == "partial");
  CHECK(status.code() == StatusCode::kUnavailable);
  CHECK(status.message() == "connection reset by source");
}

TEST_CASE("a consumer that gives up unblocks a producer waiting on a full pipe") {
  BytePipe pipe(8);
  Status write_status;
  std::thread producer([&] { write_status = pipe.Write(std::string(1000, 'x')); });
  char buffer[4];
  REQUIRE(pipe.Read(buffer, sizeof buffer).ok());
  pipe.CloseRead(DataLoss("digest mismatch"));
  producer.join();
  CHECK(write_status.code() == StatusCode::kDataLoss);
}
