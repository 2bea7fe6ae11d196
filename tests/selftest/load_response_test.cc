// ResponseParser: what `ferry load`'s plain-HTTP transport learns from each answer (status, body
// length, whether the connection may be reused, a redirect's Location), whatever the framing and
// however the bytes are split across reads.
#include "selftest/load_response.h"

#include <catch2/catch.hpp>
#include <string>

using ferry::selftest::ResponseParser;

namespace {

// Feeds `bytes` in pieces of `step` bytes, as reads might deliver them; returns the bytes used.
size_t FeedInPieces(ResponseParser& p, const std::string& bytes, size_t step) {
  size_t used = 0;
  for (size_t at = 0; at < bytes.size() && !p.complete() && !p.malformed(); at += step)
    used += p.Feed(bytes.data() + at, std::min(step, bytes.size() - at));
  return used;
}

}  // namespace

TEST_CASE("a Content-Length answer completes at its last body byte and keeps the connection") {
  const std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  for (size_t step : {answer.size(), size_t{1}, size_t{7}}) {
    ResponseParser p;
    p.Reset(false, false);
    CHECK(FeedInPieces(p, answer, step) == answer.size());
    CHECK(p.complete());
    CHECK(p.status() == 200);
    CHECK(p.body_bytes() == 5);
    CHECK(p.keep_alive());
  }
}

TEST_CASE("a chunked answer counts its body bytes, not the chunk framing") {
  const std::string answer =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  ResponseParser p;
  p.Reset(false, false);
  CHECK(FeedInPieces(p, answer, 3) == answer.size());
  CHECK(p.complete());
  CHECK(p.body_bytes() == 11);
  CHECK(p.keep_alive());
}

TEST_CASE("a body that runs until the server closes ends at the close, and the connection is not reused") {
  ResponseParser p;
  p.Reset(false, false);
  std::string answer = "HTTP/1.0 200 OK\r\n\r\nuntil close";
  p.Feed(answer.data(), answer.size());
  CHECK_FALSE(p.complete());
  p.FeedEof();
  CHECK(p.complete());
  CHECK(p.body_bytes() == 11);
  CHECK_FALSE(p.keep_alive());
}

TEST_CASE("HTTP/1.0 and Connection: close answers do not keep the connection") {
  for (std::string answer : {"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
                             "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"}) {
    ResponseParser p;
    p.Reset(false, false);
    p.Feed(answer.data(), answer.size());
    CHECK(p.complete());
    CHECK_FALSE(p.keep_alive());
  }
  std::string kept = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok";
  ResponseParser p;
  p.Reset(false, false);
  p.Feed(kept.data(), kept.size());
  CHECK(p.keep_alive());
}

TEST_CASE("HEAD, 204 and 304 answers have no body whatever their headers say") {
  ResponseParser p;
  p.Reset(true, false);
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
  CHECK(p.Feed(head.data(), head.size()) == head.size());
  CHECK(p.complete());
  CHECK(p.body_bytes() == 0);
  CHECK(p.keep_alive());
  for (std::string answer : {"HTTP/1.1 204 No Content\r\n\r\n", "HTTP/1.1 304 Not Modified\r\n\r\n"}) {
    p.Reset(false, false);
    CHECK(p.Feed(answer.data(), answer.size()) == answer.size());
    CHECK(p.complete());
    CHECK(p.keep_alive());
  }
}

TEST_CASE("an interim 100 Continue is skipped and the final answer counted") {
  ResponseParser p;
  p.Reset(false, false);
  std::string answer = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
  CHECK(p.Feed(answer.data(), answer.size()) == answer.size());
  CHECK(p.complete());
  CHECK(p.status() == 201);
  CHECK(p.body_bytes() == 2);
}

TEST_CASE("bytes after the answer are not consumed") {
  ResponseParser p;
  p.Reset(false, false);
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";
  CHECK(p.Feed(answer.data(), answer.size()) == answer.size() - 5);
  CHECK(p.complete());
}

TEST_CASE("a malformed status line is reported with http_parser's reason") {
  ResponseParser p;
  p.Reset(false, false);
  std::string answer = "HTTP/1.1 OK\r\n\r\n";
  p.Feed(answer.data(), answer.size());
  CHECK(p.malformed());
  CHECK_FALSE(p.complete());
  CHECK(std::string(p.malformed_reason()) == "invalid HTTP status code");
}

TEST_CASE("a close in the middle of an answer leaves it incomplete, not malformed") {
  ResponseParser p;
  p.Reset(false, false);
  std::string answer = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhal";
  p.Feed(answer.data(), answer.size());
  p.FeedEof();
  CHECK(p.started());
  CHECK_FALSE(p.complete());
  CHECK_FALSE(p.malformed());
}

TEST_CASE("a 3xx answer's Location is kept when asked for, even split across reads") {
  const std::string answer =
      "HTTP/1.1 302 Found\r\nX-Long-Header-Name: x\r\nLocation: /next?a=1\r\nContent-Length: 0\r\n\r\n";
  ResponseParser p;
  p.Reset(false, true);
  FeedInPieces(p, answer, 2);
  CHECK(p.complete());
  CHECK(p.status() == 302);
  CHECK(p.location() == "/next?a=1");
  p.Reset(false, false);
  FeedInPieces(p, answer, 2);
  CHECK(p.location().empty());
  p.Reset(false, true);  // reuse clears the previous answer's Location
  std::string ok = "HTTP/1.1 200 OK\r\nLocation: /ignored\r\nContent-Length: 0\r\n\r\n";
  p.Feed(ok.data(), ok.size());
  CHECK(p.location().empty());
}
