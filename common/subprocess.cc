#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <set>

extern char** environ;

namespace ferry {
namespace {

// Closes the descriptors still open when the run ends, however it ends.
struct Fds {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
  ~Fds() {
    for (int* fd : {&in[0], &in[1], &out[0], &out[1], &err[0], &err[1]}) Close(*fd);
  }
  static void Close(int& fd) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
};

using Clock = std::chrono::steady_clock;

// Reads stdout and stderr until both close, or until `deadline`: then the run has timed out.
void Collect(Fds& fds, const ProcessSpec& spec, Clock::time_point deadline, ProcessRun& run) {
  pollfd polled[2] = {{fds.out[0], POLLIN, 0}, {fds.err[0], POLLIN, 0}};
  while (polled[0].fd >= 0 || polled[1].fd >= 0) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      return;
    }
    int ready = poll(polled, 2, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
    if (ready < 0) {
      if (errno == EINTR) continue;
      return;
    }
    for (int i = 0; i < 2; ++i) {
      if (polled[i].fd < 0 || polled[i].revents == 0) continue;
      char buf[4096];
      ssize_t n = read(polled[i].fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        polled[i].fd = -1;  // closed by ~Fds
        continue;
      }
      if (i == 0) {
        if (run.out.size() + size_t(n) > spec.max_stdout) {
          run.stdout_too_long = true;
        } else {
          run.out.append(buf, size_t(n));
        }
      } else {
        run.err.append(buf, size_t(n));
        if (run.err.size() > spec.kept_stderr) run.err.erase(0, run.err.size() - spec.kept_stderr);
      }
    }
  }
}

// Waits for `pid` to exit (without reaping it) until `deadline`; false when it is still running
// then. Needs pidfd_open (Linux 5.3); without it, assumes the program will exit.
bool WaitForExit(pid_t pid, Clock::time_point deadline) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return true;
  bool exited = false;
  while (!exited) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) break;
    pollfd polled{pidfd, POLLIN, 0};
    int ready = poll(&polled, 1, static_cast<int>(std::min<int64_t>(left.count() + 1, 1 << 30)));
    if (ready < 0 && errno != EINTR) break;
    exited = ready > 0;
  }
  close(pidfd);
  return exited;
}

}  // namespace

Result<std::chrono::milliseconds> HelperTimeout() {
  constexpr std::chrono::milliseconds kDefault = std::chrono::seconds(60);
  const char* text = std::getenv("FERRY_HELPER_TIMEOUT");
  if (text == nullptr || *text == '\0') return kDefault;
  std::string_view value(text);
  uint64_t number = 0;
  auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), number);
  std::string_view unit(end, static_cast<size_t>(value.data() + value.size() - end));
  uint64_t scale = unit.empty() || unit == "s" ? 1000 : unit == "m" ? 60000 : unit == "ms" ? 1 : 0;
  if (error != std::errc() || end == value.data() || scale == 0 || number == 0 || number > (uint64_t{1} << 40))
    return InvalidArgument("FERRY_HELPER_TIMEOUT=\"" + std::string(value.substr(0, 40)) +
                           "\": say how long a credential helper may run, e.g. 90s, 2m or 500ms");
  return std::chrono::milliseconds(number * scale);
}

std::string TimeoutMessage(const ProcessRun& run) {
  auto ms = run.timeout.count();
  std::string limit = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  return "did not finish within " + limit + " and was stopped (FERRY_HELPER_TIMEOUT allows longer, e.g. 2m)";
}

Result<ProcessRun> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return InvalidArgument("no program to run");
  std::chrono::milliseconds timeout{0};
  if (spec.timeout) {
    timeout = *spec.timeout;
  } else {
    Result<std::chrono::milliseconds> configured = HelperTimeout();
    if (!configured.ok()) return configured.status();
    timeout = *configured;
  }
  Clock::time_point deadline = Clock::now() + timeout;
  Fds fds;
  // stdin is a socket so a program that exits without reading cannot SIGPIPE us (MSG_NOSIGNAL).
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds.in) != 0 || pipe2(fds.out, O_CLOEXEC) != 0 ||
      pipe2(fds.err, O_CLOEXEC) != 0) {
    return Internal(std::string("cannot create pipes: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds.in[1], 0);
  posix_spawn_file_actions_adddup2(&actions, fds.out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, fds.err[1], 2);

  std::vector<char*> argv, envp;
  for (const std::string& arg : spec.argv) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  if (spec.env) {
    for (const std::string& entry : *spec.env) envp.push_back(const_cast<char*>(entry.c_str()));
    envp.push_back(nullptr);
  }
  // Its own process group, so a timeout stops whatever it started as well.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, &attributes, argv.data(), spec.env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  ProcessRun run;
  run.timeout = timeout;
  if (rc == ENOENT) {
    run.not_found = true;
    return run;
  }
  if (rc != 0) return Internal(std::string("cannot be started: ") + std::strerror(rc));
  Fds::Close(fds.in[1]);
  Fds::Close(fds.out[1]);
  Fds::Close(fds.err[1]);
  // Small inputs only (a server URL): the socket buffer takes them without blocking.
  if (!spec.input.empty()) (void)send(fds.in[0], spec.input.data(), spec.input.size(), MSG_NOSIGNAL);
  Fds::Close(fds.in[0]);

  Collect(fds, spec, deadline, run);
  // A helper that hangs, with its output open or closed, is stopped here.
  if (!run.timed_out) run.timed_out = !WaitForExit(pid, deadline);
  if (run.timed_out) kill(-pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    run.signal = WTERMSIG(status);
  } else {
    run.exit_code = WEXITSTATUS(status);
  }
  return run;
}

std::vector<std::string> EnvironmentWith(const std::vector<std::string>& extra) {
  std::set<std::string> replaced;
  for (const std::string& entry : extra) replaced.insert(entry.substr(0, entry.find('=')));
  std::vector<std::string> env;
  for (char** entry = environ; *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (!replaced.contains(std::string(text.substr(0, text.find('='))))) env.emplace_back(text);
  }
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

}  // namespace ferry
