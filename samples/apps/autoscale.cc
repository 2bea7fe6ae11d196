// autoscale: the Knative autoscale sample (upstream autoscale-go) in C++. Each request may ask for
// three kinds of work, done concurrently, each answering one line:
//   sleep=MS   "Slept for 100.12 milliseconds."
//   prime=N    "The largest prime less than N is P." (sieve of Eratosthenes)
//   bloat=MB   "Allocated MB Mb of memory." (the memory is touched, then freed)
// A parameter that is missing or 0 is skipped; one that is not an integer gets HTTP 400.
// Unlike upstream, whose lines come in completion order, the lines always come in the order above.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <future>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "samples/apps/http_server.h"

namespace {

// Bounds that keep one request from taking the whole machine down (upstream has none).
constexpr long long kMaxPrime = 1'000'000'000;  // the sieve needs N bits: 125 MB at most
constexpr long long kMaxBloatMb = 64 << 10;
constexpr long long kMaxSleepMs = 60 * 60 * 1000;

struct Param {
  bool present = false;  // given and non-zero
  long long value = 0;
};

// Parses query parameter `key` like upstream's strconv.Atoi: optional sign, decimal digits.
// Returns an error message for a value that is not an integer.
std::optional<std::string> ParseParam(const std::string& query, const char* key, Param* param) {
  bool found = false;
  std::string text = sample::QueryValue(query, key, &found);
  if (text.empty()) return std::nullopt;
  size_t digits = (text[0] == '+' || text[0] == '-') ? 1 : 0;
  bool numeric = digits < text.size();
  for (size_t i = digits; i < text.size(); ++i) numeric = numeric && text[i] >= '0' && text[i] <= '9';
  errno = 0;
  long long value = numeric ? std::strtoll(text.c_str(), nullptr, 10) : 0;
  if (!numeric) return "strconv.Atoi: parsing \"" + text + "\": invalid syntax\n";
  if (errno == ERANGE) return "strconv.Atoi: parsing \"" + text + "\": value out of range\n";
  param->present = value != 0;
  param->value = value;
  return std::nullopt;
}

std::string Sleep(long long ms) {
  auto start = std::chrono::steady_clock::now();
  if (ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  std::chrono::duration<double, std::milli> slept = std::chrono::steady_clock::now() - start;
  char line[96];
  std::snprintf(line, sizeof line, "Slept for %.2f milliseconds.\n", slept.count());
  return line;
}

std::string Prime(long long n) {
  // composite[i] for every i below n; the largest i left unmarked is the answer.
  long long largest = 0;
  if (n > 2) {
    std::vector<bool> composite(static_cast<size_t>(n), false);
    for (long long i = 2; i * i < n; ++i)
      if (!composite[i])
        for (long long j = i * i; j < n; j += i) composite[j] = true;
    for (long long i = n - 1; i >= 2; --i)
      if (!composite[i]) {
        largest = i;
        break;
      }
  }
  if (largest == 0) return "There are no primes smaller than " + std::to_string(n) + ".\n";
  return "The largest prime less than " + std::to_string(n) + " is " + std::to_string(largest) + ".\n";
}

std::optional<std::string> Bloat(long long mb) {
  size_t bytes = static_cast<size_t>(mb) << 20;
  std::unique_ptr<char[]> memory(new (std::nothrow) char[bytes]);
  if (!memory) return std::nullopt;
  // One write per page makes the memory resident, as a real allocation-heavy request would.
  for (size_t i = 0; i < bytes; i += 4096) memory[i] = 1;
  memory[bytes - 1] = 1;
  return "Allocated " + std::to_string(mb) + " Mb of memory.\n";
}

sample::Response Handle(const sample::Request& request) {
  Param ms, max, mb;
  for (auto [key, param] : {std::pair{"sleep", &ms}, std::pair{"prime", &max}, std::pair{"bloat", &mb}})
    if (std::optional<std::string> error = ParseParam(request.query, key, param))
      return {.status = 400, .body = *error};
  if (ms.value > kMaxSleepMs) return {.status = 400, .body = "sleep must be at most " + std::to_string(kMaxSleepMs) + "\n"};
  if (max.value > kMaxPrime) return {.status = 400, .body = "prime must be at most " + std::to_string(kMaxPrime) + "\n"};
  if (mb.value < 0 || mb.value > kMaxBloatMb)
    return {.status = 400, .body = "bloat must be between 0 and " + std::to_string(kMaxBloatMb) + "\n"};

  // The three parts run at the same time, as upstream's goroutines do; this thread does the last.
  std::future<std::string> slept, primed;
  if (ms.present) slept = std::async(std::launch::async, Sleep, ms.value);
  if (max.present) primed = std::async(std::launch::async, Prime, max.value);
  std::optional<std::string> bloated;
  if (mb.present) bloated = Bloat(mb.value);
  std::string body;
  if (slept.valid()) body += slept.get();
  if (primed.valid()) body += primed.get();
  if (mb.present) {
    if (!bloated) return {.status = 500, .body = "cannot allocate " + std::to_string(mb.value) + " MiB\n"};
    body += *bloated;
  }
  return {.body = body};
}

}  // namespace

int main() {
  int port = sample::PortFromEnvironment("autoscale");
  return sample::Serve("autoscale", port, [](const sample::Request& request) -> sample::Response {
    try {
      return Handle(request);
    } catch (const std::exception& e) {  // no thread left for a part of the work: try again later
      return {.status = 503, .body = std::string("cannot serve the request now: ") + e.what() + "\n"};
    }
  });
}
