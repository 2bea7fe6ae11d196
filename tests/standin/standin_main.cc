// The stand-in image's entry point: reads its configuration and runs the mode it names.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "tests/standin/standin.h"

namespace {

void OnTerminate(int) { _exit(0); }

standin::Config LoadConfig(const char* path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "standin: cannot read %s\n", path);
    std::exit(2);
  }
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    std::fprintf(stderr, "standin: %s is not a JSON object\n", path);
    std::exit(2);
  }
  standin::Config config;
  config.mode = j.value("mode", "serve");
  for (const auto& p : j.value("ports", nlohmann::json::array()))
    if (p.is_number_integer()) config.ports.push_back(p.get<int>());
  nlohmann::json tls = j.value("tls", nlohmann::json::object());
  config.tls = {tls.value("cert", ""), tls.value("key", ""), tls.value("ca", "")};
  for (const auto& w : j.value("webhooks", nlohmann::json::array()))
    config.webhooks.push_back({w.value("namespace", ""), w.value("service", "")});
  return config;
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGPIPE, SIG_IGN);
  const char* path = std::getenv("STANDIN_CONFIG");
  standin::Config config = LoadConfig(path ? path : "/standin.json");
  // "drain" ignores SIGTERM, as Knative's activator drains for up to its 600 s grace period.
  std::signal(SIGTERM, config.mode == "drain" ? SIG_IGN : OnTerminate);
  std::signal(SIGINT, OnTerminate);
  std::string args;
  for (int i = 1; i < argc; ++i) args += std::string(" ") + argv[i];
  standin::Log("standin " + config.mode + " as " + argv[0] + args);
  if (config.mode == "job") {
    standin::Log("job done");
    return 0;
  }
  if (config.mode == "crash") {
    standin::Log("starting up");
    standin::Log("fatal: configuration is unusable (this stand-in always crashes)");
    return 1;
  }
  if (!config.webhooks.empty()) std::thread([&config] { standin::KeepCaBundles(config); }).detach();
  return standin::ServePorts(config);
}
