// Runs a program the way a user's shell would and captures what it printed and its exit code.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "TestPaths.hpp"

namespace taxon::test {

struct CommandResult {
  int exitCode = -1;
  std::string out;
  std::string err;
};

inline std::string shellQuote(const std::string& arg) {
  std::string quoted = "'";
  for (char c : arg) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

inline std::string readAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline CommandResult runCommand(const std::string& program, const std::vector<std::string>& args) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("taxon-e2e-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string command = shellQuote(program);
  for (const auto& arg : args) {
    command += " " + shellQuote(arg);
  }
  command += " </dev/null >" + shellQuote((dir / "out").string()) + " 2>" +
             shellQuote((dir / "err").string());
  const int status = std::system(command.c_str());
  CommandResult result;
  result.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = readAll(dir / "out");
  result.err = readAll(dir / "err");
  std::filesystem::remove_all(dir);
  return result;
}

// Runs the `taxon` binary of this build.
inline CommandResult taxon(const std::vector<std::string>& args) {
  return runCommand(taxonCli(), args);
}

// A started program; its output goes to /dev/null, or its stderr to the file `stderrTo` when
// one is given. `fileLimitKib` > 0: a file size limit (ulimit -f) for it.
inline pid_t start(const std::string& program, const std::vector<std::string>& args,
                   long fileLimitKib = 0, const std::filesystem::path& stderrTo = {}) {
  std::vector<std::string> all = {program};
  all.insert(all.end(), args.begin(), args.end());
  const pid_t child = fork();
  if (child == 0) {
    std::vector<char*> argv;
    for (auto& a : all) {
      argv.push_back(a.data());
    }
    argv.push_back(nullptr);
    if (fileLimitKib > 0) {
      const rlimit limit{static_cast<rlim_t>(fileLimitKib) * 1024,
                         static_cast<rlim_t>(fileLimitKib) * 1024};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    const int null = open("/dev/null", O_RDWR);
    dup2(null, STDIN_FILENO);
    dup2(null, STDOUT_FILENO);
    const int err = stderrTo.empty()
                        ? null
                        : open(stderrTo.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    dup2(err < 0 ? null : err, STDERR_FILENO);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  return child;
}

// Kills `child` with SIGKILL `delay` after it started (or reaps it when it ended first); true
// when the kill ended it.
inline bool killAfter(pid_t child, std::chrono::milliseconds delay) {
  std::this_thread::sleep_for(delay);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
}

}  // namespace taxon::test
