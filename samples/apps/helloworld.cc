// helloworld: the Knative hello-world sample (upstream helloworld-go) in C++. Answers every
// request with "Hello <TARGET>!" ($TARGET, default "World") on $PORT (default 8080).
#include <cstdlib>
#include <string>

#include "samples/apps/http_server.h"

int main() {
  const char* target = std::getenv("TARGET");
  const std::string body = std::string("Hello ") + (target != nullptr && *target != '\0' ? target : "World") + "!\n";
  int port = sample::PortFromEnvironment("helloworld");
  return sample::Serve("helloworld", port, [&body](const sample::Request&) { return sample::Response{.body = body}; });
}
