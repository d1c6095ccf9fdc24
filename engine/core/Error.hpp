// Errors the engine reports to people. Every message names the thing at fault (a file, a flag,
// a setting) and what is wrong with it, so that the CLI and the app can show it as it is.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace taxon::core {

// A failure a user can act on. The CLI turns it into exit code 1 and prints what().
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// A usage error: a bad flag value or a missing argument. The CLI turns it into exit code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(message) {}
};

// "PATH: WHAT", the path quoted as the user gave it (UTF-8, no escaping of non-ASCII).
std::string fileMessage(const std::filesystem::path& path, const std::string& what);

// Throws Error(fileMessage(path, what)).
[[noreturn]] void throwFileError(const std::filesystem::path& path, const std::string& what);

// For the settings structs' validate(): throws UsageError("invalid WHAT settings:" followed by
// one problem per line) when `problems` is not empty.
void throwIfInvalid(const std::string& what, const std::vector<std::string>& problems);

// The text of errno `code` ("No such file or directory").
std::string errnoText(int code);

// A file that was passed over, and why: a corrupt image skipped at import or when building
// records, an unreadable folder.
struct FileIssue {
  std::string path;
  std::string reason;
};

}  // namespace taxon::core
