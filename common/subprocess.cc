#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
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

// Reads stdout and stderr until both close.
void Collect(Fds& fds, const ProcessSpec& spec, ProcessRun& run) {
  pollfd polled[2] = {{fds.out[0], POLLIN, 0}, {fds.err[0], POLLIN, 0}};
  while (polled[0].fd >= 0 || polled[1].fd >= 0) {
    if (poll(polled, 2, -1) < 0) {
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

}  // namespace

Result<ProcessRun> RunProcess(const ProcessSpec& spec) {
  if (spec.argv.empty()) return InvalidArgument("no program to run");
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
  pid_t pid = -1;
  int rc = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), spec.env ? envp.data() : environ);
  posix_spawn_file_actions_destroy(&actions);
  ProcessRun run;
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

  Collect(fds, spec, run);
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
