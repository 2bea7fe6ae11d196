// RunProcess: helper programs run without a shell, and never for longer than their timeout.
#include "common/subprocess.h"

#include <stdlib.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <optional>

namespace ferry {
namespace {

using namespace std::chrono_literals;

// Sets (or unsets) FERRY_HELPER_TIMEOUT for one scope.
class ScopedTimeout {
 public:
  explicit ScopedTimeout(const char* value) {
    if (const char* old = getenv("FERRY_HELPER_TIMEOUT")) old_ = old;
    if (value) {
      setenv("FERRY_HELPER_TIMEOUT", value, 1);
    } else {
      unsetenv("FERRY_HELPER_TIMEOUT");
    }
  }
  ~ScopedTimeout() {
    if (old_) {
      setenv("FERRY_HELPER_TIMEOUT", old_->c_str(), 1);
    } else {
      unsetenv("FERRY_HELPER_TIMEOUT");
    }
  }

 private:
  std::optional<std::string> old_;
};

TEST_CASE("a program that finishes in time: its output, stderr and exit status") {
  Result<ProcessRun> run = RunProcess({.argv = {"sh", "-c", "cat; echo oops >&2; exit 3"}, .input = "hello"});
  REQUIRE(run.ok());
  CHECK(run->out == "hello");
  CHECK(run->err == "oops\n");
  CHECK(run->exit_code == 3);
  CHECK_FALSE(run->timed_out);
}

TEST_CASE("a program that hangs is killed at its timeout") {
  SECTION("with its output open") {
    Result<ProcessRun> run = RunProcess({.argv = {"sh", "-c", "echo started; exec sleep 600"}, .timeout = 200ms});
    REQUIRE(run.ok());
    CHECK(run->timed_out);
    CHECK(run->signal == SIGKILL);
    CHECK(run->out == "started\n");
    CHECK(run->timeout == 200ms);
  }
  SECTION("with its output closed") {
    Result<ProcessRun> run = RunProcess({.argv = {"sh", "-c", "exec >&- 2>&-; exec sleep 600"}, .timeout = 200ms});
    REQUIRE(run.ok());
    CHECK(run->timed_out);
    CHECK(run->signal == SIGKILL);
  }
  SECTION("leaving a child behind that holds its output") {
    Result<ProcessRun> run = RunProcess({.argv = {"sh", "-c", "sleep 600 & wait"}, .timeout = 200ms});
    REQUIRE(run.ok());
    CHECK(run->timed_out);
  }
}

TEST_CASE("the helper timeout is 60 s unless FERRY_HELPER_TIMEOUT says otherwise") {
  {
    ScopedTimeout unset(nullptr);
    CHECK(*HelperTimeout() == 60s);
  }
  for (auto [text, expected] : {std::pair{"90", 90000ms}, {"90s", 90000ms}, {"2m", 120000ms}, {"500ms", 500ms}}) {
    ScopedTimeout set(text);
    INFO(text);
    REQUIRE(HelperTimeout().ok());
    CHECK(*HelperTimeout() == expected);
  }
  for (const char* bad : {"0", "-5", "ten", "5h", "5 s", "1.5s", "99999999999999999999"}) {
    ScopedTimeout set(bad);
    INFO(bad);
    Result<std::chrono::milliseconds> timeout = HelperTimeout();
    REQUIRE_FALSE(timeout.ok());
    CHECK_THAT(timeout.status().message(), Catch::Contains("FERRY_HELPER_TIMEOUT"));
    // A program is not even started under a malformed setting.
    CHECK_FALSE(RunProcess({.argv = {"true"}}).ok());
  }
}

TEST_CASE("the timeout message says the limit and how to raise it") {
  ProcessRun run;
  run.timeout = 60s;
  CHECK(TimeoutMessage(run) == "did not finish within 60 s and was stopped (FERRY_HELPER_TIMEOUT allows longer, e.g. 2m)");
  run.timeout = 1500ms;
  CHECK_THAT(TimeoutMessage(run), Catch::StartsWith("did not finish within 1500 ms"));
}

}  // namespace
}  // namespace ferry
