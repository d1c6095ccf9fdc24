// Versions of the libraries below the engine that carry no torch headers. Lives in taxon_base:
// LibTorch's include folder ships its own, older protobuf headers, so protobuf code must never
// be compiled with torch's include paths.
#pragma once

#include <string>

namespace taxon::core {

struct LibraryVersions {
  std::string opencv;    // "4.6.0"
  std::string protobuf;  // "3.21.12"
  std::string sqlite;    // "3.40.1"
};

LibraryVersions libraryVersions();

}  // namespace taxon::core
