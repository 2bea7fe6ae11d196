// ResponseParser: reads one HTTP/1.x response after another off a connection with http_parser
// (the parser wrk uses), counting the body instead of keeping it. One per connection, reused
// for every answer without allocating. Internal to the plain-HTTP load transport (load_socket.h).
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace ferry::selftest {

class ResponseParser {
 public:
  ResponseParser();
  ResponseParser(const ResponseParser&) = delete;
  ResponseParser& operator=(const ResponseParser&) = delete;

  // Begins a new response. `head`: the request was HEAD, so no body follows whatever the headers
  // say. `want_location`: keep a 3xx answer's Location header (for following redirects).
  void Reset(bool head, bool want_location);

  // Feeds bytes read from the connection; returns how many belong to this response (fewer than
  // `size` only when it completed before their end). Interim 1xx answers are skipped.
  size_t Feed(const char* data, size_t size);
  // The server closed the connection: this ends a body that runs until close; any other
  // response still in progress stays incomplete.
  void FeedEof();

  bool started() const { return started_; }     // at least one byte of the response arrived
  bool complete() const { return complete_; }
  bool malformed() const { return malformed_; }
  const char* malformed_reason() const;         // http_parser's description of the error
  int status() const { return parser_.status_code; }
  uint64_t body_bytes() const { return body_bytes_; }
  // When complete: whether the connection may carry the next request (HTTP version, Connection
  // header, body framing), as http_should_keep_alive decides.
  bool keep_alive() const { return keep_alive_; }
  // The Location of a 3xx answer when `want_location`; empty otherwise.
  const std::string& location() const { return location_; }

 private:
  static int OnHeaderField(http_parser* p, const char* at, size_t length);
  static int OnHeaderValue(http_parser* p, const char* at, size_t length);
  static int OnHeadersComplete(http_parser* p);
  static int OnBody(http_parser* p, const char* at, size_t length);
  static int OnMessageComplete(http_parser* p);

  http_parser parser_;
  bool head_ = false, want_location_ = false;
  bool started_ = false, complete_ = false, malformed_ = false, keep_alive_ = false;
  uint64_t body_bytes_ = 0;
  // Header name matching across reads: the name so far, and whether the value being read is Location's.
  std::string field_, location_;
  bool in_value_ = false, location_value_ = false;
};

}  // namespace ferry::selftest
