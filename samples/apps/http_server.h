// A small HTTP/1.1 server for the sample apps: POSIX sockets, one thread per connection,
// keep-alive with Content-Length bodies, and a graceful stop on SIGTERM or SIGINT (no new
// connections, requests in flight finish, idle keep-alive connections are closed).
//
// It depends on nothing but the C++ standard library and POSIX, so the apps link fully static
// and run in an image with no base layer.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace sample {

struct Request {
  std::string method;  // "GET"
  std::string target;  // as sent: "/path?a=1"
  std::string path;    // "/path", not decoded
  std::string query;   // "a=1", without '?'
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
};

// Called on the connection's thread; may block (the autoscale app sleeps in it).
using Handler = std::function<Response(const Request&)>;

// Listens on every address (IPv6 and IPv4) at `port` and serves until SIGTERM or SIGINT.
// Returns the process exit code: 0 after a graceful stop, 1 when the port cannot be bound (the
// reason goes to stderr). `name` prefixes log lines.
int Serve(std::string_view name, int port, const Handler& handler);

// $PORT as a port number; 8080 when unset. Exits with a message when it is not a valid port.
int PortFromEnvironment(std::string_view name);

// The value of query parameter `key` in `query` ("a=1&b=2"), percent-decoded; *found says whether
// the key is there at all. The first occurrence wins, as with Go's URL.Query().Get.
std::string QueryValue(std::string_view query, std::string_view key, bool* found);

// "200 OK"-style reason phrase for the status codes the samples use.
const char* ReasonPhrase(int status);

}  // namespace sample
