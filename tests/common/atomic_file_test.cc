// AtomicFile: a reader sees the old file or the whole new one; a temporary file never outlives
// its writer, neither when the writer gives up nor when Ctrl-C or kill stops the process.
#include "common/atomic_file.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace ferry {
namespace {

namespace fs = std::filesystem;

struct ScratchDir {
  ScratchDir() {
    char templ[] = "/tmp/ferry_atomic_file_test.XXXXXX";
    REQUIRE(mkdtemp(templ) != nullptr);
    path = templ;
  }
  ~ScratchDir() { fs::remove_all(path); }
  std::string File(const std::string& name) const { return path + "/" + name; }
  std::set<std::string> Names() const {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(path)) names.insert(entry.path().filename().string());
    return names;
  }
  std::string path;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST_CASE("WriteFileAtomically creates or replaces a file and leaves nothing else behind") {
  ScratchDir dir;
  REQUIRE(WriteFileAtomically(dir.File("lock"), "one\n").ok());
  CHECK(Slurp(dir.File("lock")) == "one\n");
  REQUIRE(WriteFileAtomically(dir.File("lock"), "two\n").ok());
  CHECK(Slurp(dir.File("lock")) == "two\n");
  CHECK(dir.Names() == std::set<std::string>{"lock"});
}

TEST_CASE("a replaced file keeps its permissions; a new one gets 0666 less the umask") {
  ScratchDir dir;
  std::ofstream(dir.File("secret")) << "old";
  REQUIRE(chmod(dir.File("secret").c_str(), 0600) == 0);
  REQUIRE(WriteFileAtomically(dir.File("secret"), "new").ok());
  struct stat st {};
  REQUIRE(stat(dir.File("secret").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);

  mode_t mask = umask(022);
  REQUIRE(WriteFileAtomically(dir.File("fresh"), "x").ok());
  umask(mask);
  REQUIRE(stat(dir.File("fresh").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);
}

TEST_CASE("writing over a symbolic link replaces the link, never the file it points to") {
  ScratchDir dir;
  std::ofstream(dir.File("elsewhere")) << "precious";
  fs::create_symlink(dir.File("elsewhere"), dir.File("lock"));
  REQUIRE(WriteFileAtomically(dir.File("lock"), "new").ok());
  CHECK(Slurp(dir.File("elsewhere")) == "precious");
  CHECK_FALSE(fs::is_symlink(dir.File("lock")));
  CHECK(Slurp(dir.File("lock")) == "new");
}

TEST_CASE("an AtomicFile given up before Commit leaves the old file and no temporary file") {
  ScratchDir dir;
  std::ofstream(dir.File("out")) << "old";
  {
    Result<AtomicFile> file = AtomicFile::Create(dir.File("out"));
    REQUIRE(file.ok());
    REQUIRE(file->Write(std::string(1 << 20, 'x')).ok());
    CHECK(fs::exists(file->temp_path()));
    CHECK(fs::path(file->temp_path()).parent_path() == fs::path(dir.path));
  }
  CHECK(Slurp(dir.File("out")) == "old");
  CHECK(dir.Names() == std::set<std::string>{"out"});
}

TEST_CASE("a closed AtomicFile stays temporary until Commit, and is removed if never committed") {
  ScratchDir dir;
  {
    Result<AtomicFile> file = AtomicFile::Create(dir.File("kept"));
    REQUIRE(file.ok());
    REQUIRE(file->Write("whole").ok());
    REQUIRE(file->Close().ok());
    CHECK(!file->Write("more").ok());
    CHECK(dir.Names().size() == 1);
    CHECK(!fs::exists(dir.File("kept")));
    REQUIRE(file->Commit().ok());
  }
  CHECK(Slurp(dir.File("kept")) == "whole");
  {
    Result<AtomicFile> file = AtomicFile::Create(dir.File("dropped"));
    REQUIRE(file.ok());
    REQUIRE(file->Close().ok());
  }
  CHECK(dir.Names() == std::set<std::string>{"kept"});
}

TEST_CASE("a file in a missing directory is an error naming it") {
  ScratchDir dir;
  Status s = WriteFileAtomically(dir.File("no/such/dir/out"), "x");
  REQUIRE_FALSE(s.ok());
  CHECK(s.code() == StatusCode::kIo);
  CHECK_THAT(s.message(), Catch::Contains(dir.File("no/such/dir/out")));
}

// Runs a child that starts writing `path` (and does not finish), then stops it with `signal`.
// Returns how the child ended.
int StopWriterWith(int signal, const std::string& path) {
  int ready[2];
  REQUIRE(pipe(ready) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) std::signal(s, SIG_DFL);  // as in ferry; Catch2 handles them
    Result<AtomicFile> file = AtomicFile::Create(path);
    if (!file.ok() || !file->Write(std::string(1 << 16, 'x')).ok()) _exit(3);
    if (write(ready[1], "r", 1) != 1) _exit(4);
    for (;;) pause();
  }
  close(ready[1]);
  char byte = 0;
  REQUIRE(read(ready[0], &byte, 1) == 1);  // the temporary file exists now
  close(ready[0]);
  REQUIRE(kill(pid, signal) == 0);
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

TEST_CASE("Ctrl-C, kill and a closed terminal remove the temporary file, and the signal still ends the process") {
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) {
    INFO("signal " << signal);
    ScratchDir dir;
    std::ofstream(dir.File("out")) << "old";
    int status = StopWriterWith(signal, dir.File("out"));
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == signal);
    CHECK(dir.Names() == std::set<std::string>{"out"});
    CHECK(Slurp(dir.File("out")) == "old");
  }
}

}  // namespace
}  // namespace ferry
