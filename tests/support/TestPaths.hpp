// Where the tests find the repository, the build and the `taxon` binary: in the environment that
// CTest gives every test (tests/CMakeLists.txt), not compiled in, so that a test's object files
// are the same in every clone and ccache reuses them in a fresh one.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace taxon::test {

inline std::string fromTestEnvironment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    throw std::runtime_error(std::string(name) + " is not set: run the tests through ctest");
  }
  return value;
}

// The repository's root folder.
inline std::filesystem::path sourceDir() {
  return fromTestEnvironment("TAXON_SOURCE_DIR");
}

// The build's folder (build/dev).
inline std::filesystem::path binaryDir() {
  return fromTestEnvironment("TAXON_BINARY_DIR");
}

// The `taxon` binary of this build.
inline std::string taxonCli() {
  return fromTestEnvironment("TAXON_CLI");
}

}  // namespace taxon::test
