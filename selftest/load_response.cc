#include "selftest/load_response.h"

#include <strings.h>

namespace ferry::selftest {
namespace {

ResponseParser* Self(http_parser* p) { return static_cast<ResponseParser*>(p->data); }

}  // namespace

ResponseParser::ResponseParser() { Reset(false, false); }

void ResponseParser::Reset(bool head, bool want_location) {
  http_parser_init(&parser_, HTTP_RESPONSE);
  parser_.data = this;
  head_ = head;
  want_location_ = want_location;
  started_ = complete_ = malformed_ = keep_alive_ = false;
  body_bytes_ = 0;
  field_.clear();
  location_.clear();
  in_value_ = location_value_ = false;
}

const char* ResponseParser::malformed_reason() const {
  return http_errno_description(static_cast<http_errno>(parser_.http_errno));
}

// Header callbacks only matter on a 3xx answer whose Location we follow; field names and values
// may arrive in pieces, split by reads.
int ResponseParser::OnHeaderField(http_parser* p, const char* at, size_t length) {
  ResponseParser* self = Self(p);
  if (!self->want_location_ || p->status_code / 100 != 3) return 0;
  if (self->in_value_) self->field_.clear();
  self->in_value_ = false;
  if (self->field_.size() < 16) self->field_.append(at, length);  // long names are not Location
  return 0;
}

int ResponseParser::OnHeaderValue(http_parser* p, const char* at, size_t length) {
  ResponseParser* self = Self(p);
  if (!self->want_location_ || p->status_code / 100 != 3) return 0;
  if (!self->in_value_) {
    self->in_value_ = true;
    self->location_value_ = strcasecmp(self->field_.c_str(), "location") == 0;
    if (self->location_value_) self->location_.clear();
  }
  if (self->location_value_) self->location_.append(at, length);
  return 0;
}

// Returning 1 tells http_parser that no body follows: the answer to a HEAD request.
int ResponseParser::OnHeadersComplete(http_parser* p) { return Self(p)->head_ ? 1 : 0; }

int ResponseParser::OnBody(http_parser* p, const char*, size_t length) {
  Self(p)->body_bytes_ += length;
  return 0;
}

int ResponseParser::OnMessageComplete(http_parser* p) {
  ResponseParser* self = Self(p);
  if (p->status_code / 100 == 1 && p->status_code != 101) {  // interim (100 Continue): the answer follows
    self->location_.clear();
    self->field_.clear();
    self->in_value_ = false;
    return 0;
  }
  self->complete_ = true;
  self->keep_alive_ = http_should_keep_alive(p) != 0 && !p->upgrade;
  http_parser_pause(p, 1);  // stop here: bytes after the answer are not part of it
  return 0;
}

size_t ResponseParser::Feed(const char* data, size_t size) {
  static const http_parser_settings settings = [] {
    http_parser_settings s{};
    s.on_header_field = OnHeaderField;
    s.on_header_value = OnHeaderValue;
    s.on_headers_complete = OnHeadersComplete;
    s.on_body = OnBody;
    s.on_message_complete = OnMessageComplete;
    return s;
  }();
  if (size > 0) started_ = true;
  size_t parsed = http_parser_execute(&parser_, &settings, data, size);
  http_errno error = HTTP_PARSER_ERRNO(&parser_);
  if (complete_) return parsed;
  if (error != HPE_OK) malformed_ = true;
  // An upgrade (101) ends the HTTP conversation without a message-complete callback.
  if (!malformed_ && parser_.upgrade) {
    complete_ = true;
    keep_alive_ = false;
  }
  return parsed;
}

void ResponseParser::FeedEof() {
  if (complete_ || malformed_ || !started_) return;
  Feed(nullptr, 0);
  malformed_ = false;  // an early close is reported as such by the caller, not as a malformed answer
}

}  // namespace ferry::selftest
