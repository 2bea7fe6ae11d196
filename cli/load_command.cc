// ferry load: an HTTP load generator with hey's flags and report (selftest/load_generator.h).
#include <chrono>
#include <csignal>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/command.h"
#include "cli/duration_flag.h"
#include "selftest/load_generator.h"
#include "selftest/load_report.h"

namespace ferry::cli {
namespace {

struct LoadFlags {
  selftest::LoadOptions load;
  std::string duration;   // -z: "10s", "1m30s" (cli/duration_flag.h)
  double timeout_seconds = 20;
  std::string body_file;  // -D
  std::string accept;     // -A
  bool disable_keepalive = false, disable_redirects = false, insecure = false;
  OutputFormat output = OutputFormat::kText;
};

volatile std::sig_atomic_t interrupted = 0;
void OnInterrupt(int) { interrupted = 1; }

int RunLoad(LoadFlags& flags) {
  selftest::LoadOptions& options = flags.load;
  if (!flags.duration.empty()) {
    Result<std::chrono::milliseconds> d = ParseDuration(flags.duration, "-z");
    if (!d.ok()) return ReportError(d.status());
    options.duration = *d;
  }
  if (flags.timeout_seconds < 0) return ReportError(InvalidArgument("-t must not be negative"));
  options.timeout = std::chrono::milliseconds(static_cast<long long>(flags.timeout_seconds * 1000));
  if (!flags.body_file.empty()) {
    std::ifstream in(flags.body_file, std::ios::binary);
    std::stringstream content;
    if (!in || !(content << in.rdbuf()))
      return ReportError(IoError("-D " + flags.body_file + ": cannot read the request body file"));
    options.body = content.str();
  }
  if (!flags.accept.empty()) options.headers.push_back("Accept: " + flags.accept);
  options.keep_alive = !flags.disable_keepalive;
  options.follow_redirects = !flags.disable_redirects;
  options.tls_verify = !flags.insecure;
  // Ctrl-C ends the run at the next window and still prints the report, as hey does.
  options.stop_requested = [] { return interrupted != 0; };
  auto previous = std::signal(SIGINT, OnInterrupt);
  Result<selftest::LoadResult> result = selftest::RunLoad(options);
  std::signal(SIGINT, previous);
  if (!result.ok()) return ReportError(result.status());
  if (flags.output == OutputFormat::kJson)
    std::printf("%s\n", selftest::LoadReportJson(*result).dump(2).c_str());
  else
    std::fputs(selftest::FormatLoadReport(*result).c_str(), stdout);
  std::fflush(stdout);
  if (uint64_t failed = result->error_count())
    return ReportError(Unavailable(std::to_string(failed) + " of " + std::to_string(result->started) +
                                   " requests failed (see the error distribution)"));
  return kExitSuccess;
}

}  // namespace

void SpellHeyFlags(int argc, char** argv) {
  static std::deque<std::string> spelled;  // argv keeps pointing into these
  int i = 1;
  while (i < argc && argv[i][0] == '-') ++i;  // the root's own flags (-v) take no values
  if (i >= argc || std::string(argv[i]) != "load") return;
  for (++i; i < argc && std::string(argv[i]) != "--"; ++i) {
    std::string arg = argv[i];
    for (const char* name : {"-host", "-disable-keepalive", "-disable-redirects"}) {
      std::string n = name;
      if (arg == n || arg.starts_with(n + "=")) {
        argv[i] = spelled.emplace_back("-" + arg).data();
        break;
      }
    }
  }
}

Command AddLoadCommand(CLI::App& root) {
  auto flags = std::make_shared<LoadFlags>();
  selftest::LoadOptions& o = flags->load;
  CLI::App* app = root.add_subcommand("load", "Send HTTP load to a URL and report latencies (hey's flags)");
  app->footer(
      "Workers (-c) each send one request at a time over a kept-alive connection, all from one\n"
      "thread. -n counts requests across all workers (exactly, unlike hey, which rounds down to a\n"
      "multiple of -c). Latency percentiles come from a histogram exact below 256 µs and within 0.4%\n"
      "above. hey's single-dash long flags (-host, -disable-keepalive) are accepted, as are --host etc.\n"
      "http:// follows redirects only on the same scheme, host and port (up to 10 hops); a redirect\n"
      "elsewhere counts as a failed request. https:// (libcurl) follows redirects anywhere.\n"
      "Exit status 1 when any request failed to get an HTTP answer (the report is printed anyway).\n\n"
      "Examples:\n"
      "  ferry load -n 1000 -c 20 http://127.0.0.1:8080/\n"
      "  ferry load -z 30s -c 50 -host helloworld.default.example.com http://192.168.1.10:31080/\n"
      "  ferry load -z 10s -c 4 -q 5 -m POST -d '{\"a\":1}' -T application/json --output json http://h/api");
  app->add_option("url", o.url, "http:// or https:// URL")->required();
  app->add_option("-n", o.requests, "Number of requests to send in all (default 200)");
  app->add_option("-c", o.concurrency, "Number of workers sending at the same time (default 50)");
  app->add_option("-z", flags->duration, "Send for this long instead of -n requests (e.g. 10s, 3m)");
  app->add_option("-q", o.rate_per_worker, "Rate limit per worker, requests per second (default none)");
  app->add_option("-m", o.method, "HTTP method (default GET)");
  // One value per -H, so a header is never mistaken for the URL after it.
  app->add_option("-H", o.headers, "Request header 'Name: value' (repeatable)")->allow_extra_args(false);
  app->add_option("-d", o.body, "Request body");
  app->add_option("-D", flags->body_file, "Request body from a file");
  app->add_option("-T", o.content_type, "Content-Type of the body");
  app->add_option("-A", flags->accept, "Accept header");
  app->add_option("-t", flags->timeout_seconds, "Timeout per request in seconds, 0 for none (default 20)");
  app->add_option("--host", o.host, "Host header (also -host, as hey spells it)");
  app->add_flag("--disable-keepalive", flags->disable_keepalive, "A new connection for every request");
  app->add_flag("--disable-redirects", flags->disable_redirects, "Do not follow redirects");
  app->add_option("--cacert", o.ca_file, "Extra CA bundle (PEM) for https");
  app->add_flag("-k,--insecure", flags->insecure, "Do not verify the server's TLS certificate");
  AddOutputFlag(app, &flags->output);
  return {app, [flags] { return RunLoad(*flags); }};
}

}  // namespace ferry::cli
