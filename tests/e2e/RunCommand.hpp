// Runs a program the way a user's shell would and captures what it printed and its exit code.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
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

}  // namespace taxon::test
