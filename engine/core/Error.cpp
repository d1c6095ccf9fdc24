#include "core/Error.hpp"

#include <cstring>

namespace taxon::core {

std::string fileMessage(const std::filesystem::path& path, const std::string& what) {
  if (path.empty()) {
    return what;
  }
  return path.string() + ": " + what;
}

void throwFileError(const std::filesystem::path& path, const std::string& what) {
  throw Error(fileMessage(path, what));
}

void throwIfInvalid(const std::string& what, const std::vector<std::string>& problems) {
  if (problems.empty()) {
    return;
  }
  std::string message = "invalid " + what + " settings:";
  for (const auto& problem : problems) {
    message += "\n  " + problem;
  }
  throw UsageError(message);
}

std::string errnoText(int code) {
  char buffer[256];
  // GNU strerror_r returns the message, which may or may not live in buffer.
  return strerror_r(code, buffer, sizeof buffer);
}

}  // namespace taxon::core
